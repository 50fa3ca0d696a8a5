package smtp_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/gateway/smtp"
	"github.com/twofactor/twofactor/internal/smtptest"
)

const (
	from = "Example <no-reply@example.com>"
	to   = "bouke@example.org"
	site = "example.com"
)

func newGateway(t *testing.T, srv *smtptest.Server, edit func(*smtp.Config)) *smtp.Gateway {
	t.Helper()
	cfg := smtp.Config{URL: srv.URL(), From: from, TLSConfig: srv.ClientTLS(), Timeout: 5 * time.Second}
	if edit != nil {
		edit(&cfg)
	}
	g, err := smtp.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return g
}

func TestSendCode(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    []smtptest.Option
		wantTLS bool
	}{
		{"plain", nil, false},
		{"starttls offered", []smtptest.Option{smtptest.WithSecurity(smtptest.StartTLS)}, true},
		{"smtps", []smtptest.Option{smtptest.WithSecurity(smtptest.ImplicitTLS)}, true},
		{"starttls with auth", []smtptest.Option{smtptest.WithSecurity(smtptest.StartTLS), smtptest.WithAuth("", "")}, true},
		{"smtps with auth", []smtptest.Option{smtptest.WithSecurity(smtptest.ImplicitTLS), smtptest.WithAuth("u@example.com", "p:a/s s")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.New(t, tc.opts...)
			g := newGateway(t, srv, nil)
			err := g.SendCode(context.Background(), twofactor.Message{To: to, Code: "012345", Site: site, Language: "en"})
			if err != nil {
				t.Fatalf("SendCode: %v", err)
			}
			m, ok := srv.Last(to)
			if !ok {
				t.Fatal("no message received")
			}
			if m.From != "no-reply@example.com" || len(m.To) != 1 || m.To[0] != to {
				t.Errorf("envelope %s → %v", m.From, m.To)
			}
			if got := m.Header.Get("From"); got != `"Example" <no-reply@example.com>` {
				t.Errorf("From: %q", got)
			}
			if got := m.Header.Get("To"); got != "<"+to+">" && got != to {
				t.Errorf("To: %q", got)
			}
			if m.Subject != "example.com verification code" {
				t.Errorf("Subject: %q", m.Subject)
			}
			want := "Your example.com verification code is 012345.\n\nIf you did not ask for this code, someone may know your password: change it.\n"
			if normalize(m.Text) != want {
				t.Errorf("body %q, want %q", m.Text, want)
			}
			if m.HTML != "" || m.ContentType != "text/plain" {
				t.Errorf("an HTML part without HTML configured (%s)", m.ContentType)
			}
			if m.TLS != tc.wantTLS {
				t.Errorf("TLS = %v, want %v", m.TLS, tc.wantTLS)
			}
			if m.Header.Get("Auto-Submitted") != "auto-generated" || m.Header.Get("Message-Id") == "" || m.Header.Get("Date") == "" {
				t.Errorf("headers %v", m.Header)
			}
		})
	}
}

// normalize turns CRLF into LF.
func normalize(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// The email holds the code and the site name and nothing else of the
// message (seed test_email.py: custom subject and body work too).
func TestCodeEmailCarriesOnlyCodeAndSite(t *testing.T) {
	srv := smtptest.New(t)
	g := newGateway(t, srv, nil)
	err := g.SendCode(context.Background(), twofactor.Message{To: to, Code: "765432", Site: "Bank\r\nBcc: x@evil.example", Language: "en", CallID: "call-id"})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := srv.Last(to)
	if m.Header.Get("Bcc") != "" || len(m.To) != 1 {
		t.Fatalf("the site name injected a header: %v %v", m.Header, m.To)
	}
	if m.Subject != "Bank Bcc: x@evil.example verification code" {
		t.Errorf("Subject %q", m.Subject)
	}
	if strings.Contains(string(m.Raw), "call-id") {
		t.Error("the call id is in the email")
	}
	if !strings.Contains(m.Text, "765432") {
		t.Error("the code is missing")
	}
}

func TestCustomTemplatesAndHTML(t *testing.T) {
	srv := smtptest.New(t)
	g := newGateway(t, srv, func(c *smtp.Config) {
		c.Subject = "Code for {{.Site}}"
		c.Body = "Code: {{.Code}}"
		c.HTML = smtp.DefaultHTML
	})
	if err := g.SendCode(context.Background(), twofactor.Message{To: to, Code: "000007", Site: "<b>site</b>"}); err != nil {
		t.Fatal(err)
	}
	m, _ := srv.Last(to)
	if m.Subject != "Code for <b>site</b>" || strings.TrimSpace(m.Text) != "Code: 000007" {
		t.Errorf("subject %q, text %q", m.Subject, m.Text)
	}
	if m.ContentType != "multipart/alternative" {
		t.Errorf("content type %s", m.ContentType)
	}
	if !strings.Contains(m.HTML, "000007") || !strings.Contains(m.HTML, "&lt;b&gt;site&lt;/b&gt;") || strings.Contains(m.HTML, "<b>site") {
		t.Errorf("HTML part %q: the code should be there and the site escaped", m.HTML)
	}
}

// german is a stand-in catalog.
func german(lang, id string, args ...any) string {
	de := map[string]string{
		smtp.MsgCodeSubject:     "Bestätigungscode für %s",
		smtp.MsgCodeBody:        "Ihr Bestätigungscode für %[1]s ist %[2]s.",
		smtp.MsgDisabledSubject: "Zwei-Faktor-Authentifizierung auf %s ausgeschaltet",
	}
	if s, ok := de[id]; ok && strings.HasPrefix(lang, "de") {
		return fmt.Sprintf(s, args...)
	}
	return fmt.Sprintf(id, args...)
}

func TestTranslation(t *testing.T) {
	srv := smtptest.New(t)
	g := newGateway(t, srv, func(c *smtp.Config) { c.Translate = german })
	ctx := context.Background()
	if err := g.SendCode(ctx, twofactor.Message{To: to, Code: "123456", Site: site, Language: "de-CH"}); err != nil {
		t.Fatal(err)
	}
	m, _ := srv.Last(to)
	if m.Subject != "Bestätigungscode für example.com" || !strings.HasPrefix(m.Text, "Ihr Bestätigungscode für example.com ist 123456.") {
		t.Errorf("subject %q text %q", m.Subject, m.Text)
	}
	// An untranslated sentence stays English.
	if !strings.Contains(m.Text, "If you did not ask for this code") {
		t.Errorf("text %q", m.Text)
	}
	if err := g.SendNotice(ctx, twofactor.Notice{To: to, Site: site, Language: "de", Event: twofactor.EventTwoFactorDisabled}); err != nil {
		t.Fatal(err)
	}
	m, _ = srv.Last(to)
	if m.Subject != "Zwei-Faktor-Authentifizierung auf example.com ausgeschaltet" {
		t.Errorf("notice subject %q", m.Subject)
	}
}

func TestNotices(t *testing.T) {
	srv := smtptest.New(t)
	g := newGateway(t, srv, nil)
	tests := []struct {
		event   twofactor.EventKind
		subject string
		says    []string
	}{
		{twofactor.EventBackupCodeUsed, "A backup code was used on example.com",
			[]string{"backup code was just used", "If this was not you", "change your password"}},
		{twofactor.EventTwoFactorDisabled, "Two-factor authentication was turned off on example.com",
			[]string{"turned off for your account on example.com", "If this was not you", "turn two-factor authentication back on"}},
		{twofactor.EventDeviceAdded, "A two-factor device was added on example.com",
			[]string{"new two-factor device was just added", "If this was not you", "remove that device"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.event), func(t *testing.T) {
			err := g.SendNotice(context.Background(), twofactor.Notice{To: to, Site: site, Language: "en", Event: tt.event})
			if err != nil {
				t.Fatal(err)
			}
			m, _ := srv.Last(to)
			if m.Subject != tt.subject {
				t.Errorf("subject %q, want %q", m.Subject, tt.subject)
			}
			for _, s := range tt.says {
				if !strings.Contains(m.Text, s) {
					t.Errorf("text %q does not say %q", m.Text, s)
				}
			}
			// No code, no link.
			for _, bad := range []string{"http", "://", "www."} {
				if strings.Contains(m.Text, bad) {
					t.Errorf("text %q contains %q", m.Text, bad)
				}
			}
			if strings.ContainsAny(m.Text, "0123456789") {
				t.Errorf("text %q contains digits", m.Text)
			}
		})
	}
	err := g.SendNotice(context.Background(), twofactor.Notice{To: to, Site: site, Event: twofactor.EventUserVerified})
	if err == nil || errors.Is(err, twofactor.ErrInvalidDestination) || errors.Is(err, twofactor.ErrGatewayUnavailable) {
		t.Errorf("a notice for user_verified: %v", err)
	}
	if n := len(srv.Messages()); n != len(tests) {
		t.Errorf("%d messages, want %d", n, len(tests))
	}
}

func TestNoticeOverride(t *testing.T) {
	srv := smtptest.New(t)
	g := newGateway(t, srv, func(c *smtp.Config) {
		c.Notices = map[twofactor.EventKind]smtp.Templates{
			twofactor.EventDeviceAdded: {Subject: "New device ({{.Event}})", Text: "On {{.Site}}."},
		}
	})
	if err := g.SendNotice(context.Background(), twofactor.Notice{To: to, Site: site, Event: twofactor.EventDeviceAdded}); err != nil {
		t.Fatal(err)
	}
	if m, _ := srv.Last(to); m.Subject != "New device (device_added)" || strings.TrimSpace(m.Text) != "On example.com." {
		t.Errorf("%q %q", m.Subject, m.Text)
	}
}

func TestRejectedRecipient(t *testing.T) {
	srv := smtptest.New(t)
	srv.Reject("nobody@example.org")
	g := newGateway(t, srv, nil)
	ctx := context.Background()
	err := g.SendCode(ctx, twofactor.Message{To: "nobody@example.org", Code: "123456", Site: site})
	if !errors.Is(err, twofactor.ErrInvalidDestination) || errors.Is(err, twofactor.ErrGatewayUnavailable) {
		t.Fatalf("err = %v, want ErrInvalidDestination", err)
	}
	if strings.Contains(err.Error(), "123456") {
		t.Errorf("error %q contains the code", err)
	}
	err = g.SendNotice(ctx, twofactor.Notice{To: "nobody@example.org", Site: site, Event: twofactor.EventDeviceAdded})
	if !errors.Is(err, twofactor.ErrInvalidDestination) {
		t.Fatalf("notice: err = %v", err)
	}
	if len(srv.Messages()) != 0 {
		t.Error("a message was accepted")
	}
	for _, bad := range []string{"", "bouke", "Bouke <bouke@example.org>", "a@b.org, c@d.org", "a@b.org\r\nBcc: c@d.org", "@example.org"} {
		err := g.SendCode(ctx, twofactor.Message{To: bad, Code: "123456", Site: site})
		if !errors.Is(err, twofactor.ErrInvalidDestination) {
			t.Errorf("SendCode to %q = %v, want ErrInvalidDestination", bad, err)
		}
	}
}

func TestServerUnavailable(t *testing.T) {
	msg := twofactor.Message{To: to, Code: "314159", Site: site}
	check := func(t *testing.T, g *smtp.Gateway) {
		t.Helper()
		err := g.SendCode(context.Background(), msg)
		if !errors.Is(err, twofactor.ErrGatewayUnavailable) || errors.Is(err, twofactor.ErrInvalidDestination) {
			t.Fatalf("err = %v, want ErrGatewayUnavailable", err)
		}
		for _, leak := range []string{msg.Code, smtptest.Password} {
			if strings.Contains(err.Error(), leak) {
				t.Errorf("error %q leaks %q", err, leak)
			}
		}
		err = g.SendNotice(context.Background(), twofactor.Notice{To: to, Site: site, Event: twofactor.EventDeviceAdded})
		if !errors.Is(err, twofactor.ErrGatewayUnavailable) {
			t.Fatalf("notice: err = %v", err)
		}
	}
	t.Run("down", func(t *testing.T) {
		srv := smtptest.New(t)
		g := newGateway(t, srv, nil)
		if err := srv.SetMode(smtptest.Down); err != nil {
			t.Fatal(err)
		}
		check(t, g)
		if err := srv.SetMode(smtptest.Up); err != nil {
			t.Fatal(err)
		}
		if err := g.SendCode(context.Background(), msg); err != nil {
			t.Fatalf("after recovery: %v", err)
		}
	})
	t.Run("421", func(t *testing.T) {
		srv := smtptest.New(t)
		g := newGateway(t, srv, nil)
		_ = srv.SetMode(smtptest.Failing)
		check(t, g)
	})
	t.Run("nothing listening", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		g, err := smtp.New(smtp.Config{URL: "smtp://" + addr, From: from})
		if err != nil {
			t.Fatal(err)
		}
		check(t, g)
	})
	t.Run("not answering", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				defer c.Close() // accept and say nothing
			}
		}()
		g, err := smtp.New(smtp.Config{URL: "smtp://" + l.Addr().String(), From: from, Timeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		check(t, g)
		if time.Since(start) > 3*time.Second {
			t.Error("the timeout did not apply")
		}
	})
	t.Run("STARTTLS required but not offered", func(t *testing.T) {
		srv := smtptest.New(t) // plain
		g, err := smtp.New(smtp.Config{URL: strings.Replace(srv.URL(), "smtp://", "smtp+starttls://", 1), From: from})
		if err != nil {
			t.Fatal(err)
		}
		check(t, g)
		if len(srv.Messages()) != 0 {
			t.Error("a message went out without TLS")
		}
	})
	t.Run("smtps to a plain server", func(t *testing.T) {
		srv := smtptest.New(t)
		g, err := smtp.New(smtp.Config{URL: strings.Replace(srv.URL(), "smtp://", "smtps://", 1), From: from})
		if err != nil {
			t.Fatal(err)
		}
		check(t, g)
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		srv := smtptest.New(t, smtptest.WithSecurity(smtptest.ImplicitTLS))
		g, err := smtp.New(smtp.Config{URL: srv.URL(), From: from}) // no test root CA
		if err != nil {
			t.Fatal(err)
		}
		check(t, g)
	})
	t.Run("wrong password", func(t *testing.T) {
		srv := smtptest.New(t, smtptest.WithSecurity(smtptest.StartTLS), smtptest.WithAuth("", ""))
		u := strings.Replace(srv.URL(), smtptest.Password, "wrong", 1)
		g := newGateway(t, srv, func(c *smtp.Config) { c.URL = u })
		check(t, g)
	})
	t.Run("auth required, none configured", func(t *testing.T) {
		srv := smtptest.New(t, smtptest.WithSecurity(smtptest.StartTLS), smtptest.WithAuth("", ""))
		u := strings.Replace(srv.URL(), smtptest.User+":"+smtptest.Password+"@", "", 1)
		g := newGateway(t, srv, func(c *smtp.Config) { c.URL = u })
		check(t, g)
	})
	t.Run("no password over plain text", func(t *testing.T) {
		// smtp:// to a server without STARTTLS: the credentials are not
		// sent in the clear, so nothing is sent.
		srv := smtptest.New(t)
		g := newGateway(t, srv, func(c *smtp.Config) { c.URL = "smtp://" + smtptest.User + ":" + smtptest.Password + "@" + srv.Addr })
		check(t, g)
	})
}

func TestConcurrentSends(t *testing.T) {
	srv := smtptest.New(t, smtptest.WithSecurity(smtptest.StartTLS), smtptest.WithAuth("", ""))
	g := newGateway(t, srv, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- g.SendCode(context.Background(), twofactor.Message{To: fmt.Sprintf("u%d@example.org", i), Code: fmt.Sprintf("%06d", i), Site: site})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for i := range 20 {
		m, ok := srv.Last(fmt.Sprintf("u%d@example.org", i))
		if !ok || !strings.Contains(m.Text, fmt.Sprintf("%06d", i)) || m.AuthUser != smtptest.User {
			t.Errorf("message %d: %v %+v", i, ok, m)
		}
	}
}

func TestBadCode(t *testing.T) {
	srv := smtptest.New(t)
	g := newGateway(t, srv, nil)
	for _, code := range []string{"", "12a", "1 2", strings.Repeat("1", 17)} {
		if err := g.SendCode(context.Background(), twofactor.Message{To: to, Code: code, Site: site}); err == nil {
			t.Errorf("code %q was sent", code)
		}
	}
}

func TestNewChecksConfig(t *testing.T) {
	const secret = "hunter2-secret"
	tests := []struct {
		name, prefix string
		cfg          smtp.Config
	}{
		{"no url", "email.smtp_url:", smtp.Config{From: from}},
		{"bad scheme", "email.smtp_url:", smtp.Config{URL: "http://u:" + secret + "@host", From: from}},
		{"no from", "email.from:", smtp.Config{URL: "smtp://localhost"}},
		{"bad from", "email.from:", smtp.Config{URL: "smtp://localhost", From: "not an address"}},
		{"from with line break", "email.from:", smtp.Config{URL: "smtp://localhost", From: "a@b.org\r\nBcc: c@d.org"}},
		{"bad template", "email templates:", smtp.Config{URL: "smtp://localhost", From: from, Body: "{{.Code"}},
		{"unknown field", "email templates:", smtp.Config{URL: "smtp://localhost", From: from, Subject: "{{.User}}"}},
		{"body without code", "email templates:", smtp.Config{URL: "smtp://localhost", From: from, Body: "Hello from {{.Site}}"}},
		{"html without code", "email templates:", smtp.Config{URL: "smtp://localhost", From: from, HTML: "<p>{{.Site}}</p>"}},
		{"bad notice", "email templates:", smtp.Config{URL: "smtp://localhost", From: from,
			Notices: map[twofactor.EventKind]smtp.Templates{twofactor.EventDeviceAdded: {Subject: "{{.Code}}", Text: "x"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := smtp.New(tt.cfg)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.HasPrefix(err.Error(), tt.prefix) {
				t.Errorf("error %q does not start with %q", err, tt.prefix)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q repeats the password", err)
			}
		})
	}
	g, err := smtp.New(smtp.Config{URL: "smtps://user:" + secret + "@mail.example.com", From: "a@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if s := g.Endpoint().String(); strings.Contains(s, secret) || s != "smtps://user:xxxxx@mail.example.com:465" {
		t.Errorf("Endpoint().String() = %q", s)
	}
}

func TestMessages(t *testing.T) {
	ids := smtp.Messages()
	if len(ids) != 12 {
		t.Fatalf("%d ids", len(ids))
	}
	for _, id := range ids {
		if strings.ContainsAny(id, "\"\\") {
			t.Errorf("id %q has a quote or backslash", id)
		}
	}
}
