package smtptest_test

import (
	"crypto/tls"
	"net/smtp"
	"strings"
	"testing"

	"github.com/twofactor/twofactor/internal/smtptest"
)

// The peer is checked with the standard library's SMTP client, which
// shares no code with the gateway under test.

const plainMsg = "From: a@example.com\r\nTo: b@example.org\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCode =3D 012345\r\n"

const multipartMsg = "From: a@example.com\r\nTo: b@example.org\r\nSubject: hi\r\nMIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=XYZ\r\n\r\n" +
	"--XYZ\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nQ29kZTog\r\nMDEyMzQ1\r\n" +
	"--XYZ\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>Code: 0123=\r\n45</p>\r\n" +
	"--XYZ--\r\n"

func send(t *testing.T, s *smtptest.Server, tlsMode string, auth bool, to, msg string) error {
	t.Helper()
	var c *smtp.Client
	var err error
	if tlsMode == "implicit" {
		conn, err := tls.Dial("tcp", s.Addr, s.ClientTLS())
		if err != nil {
			return err
		}
		c, err = smtp.NewClient(conn, s.Host)
		if err != nil {
			return err
		}
	} else if c, err = smtp.Dial(s.Addr); err != nil {
		return err
	}
	defer c.Close()
	if tlsMode == "starttls" {
		if err := c.StartTLS(s.ClientTLS()); err != nil {
			return err
		}
	}
	if auth {
		if err := c.Auth(smtp.PlainAuth("", smtptest.User, smtptest.Password, s.Host)); err != nil {
			return err
		}
	}
	if err := c.Mail("a@example.com"); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func TestReceive(t *testing.T) {
	for _, tc := range []struct {
		name, mode string
		opts       []smtptest.Option
		auth       bool
		scheme     string
	}{
		{"plain", "", nil, false, "smtp://"},
		{"starttls", "starttls", []smtptest.Option{smtptest.WithSecurity(smtptest.StartTLS)}, false, "smtp+starttls://"},
		{"implicit", "implicit", []smtptest.Option{smtptest.WithSecurity(smtptest.ImplicitTLS)}, false, "smtps://"},
		{"starttls and auth", "starttls", []smtptest.Option{smtptest.WithSecurity(smtptest.StartTLS), smtptest.WithAuth("", "")}, true, "smtp+starttls://mailer:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := smtptest.New(t, tc.opts...)
			if !strings.HasPrefix(s.URL(), tc.scheme) || !strings.HasSuffix(s.URL(), s.Addr) {
				t.Errorf("URL() = %q", s.URL())
			}
			if err := send(t, s, tc.mode, tc.auth, "b@example.org", plainMsg); err != nil {
				t.Fatal(err)
			}
			m, ok := s.Last("B@example.org")
			if !ok {
				t.Fatal("no message")
			}
			if m.From != "a@example.com" || len(m.To) != 1 || m.Subject != "Grüße" || m.Text != "Code = 012345\r\n" || m.HTML != "" {
				t.Errorf("message %+v", m)
			}
			if m.TLS != (tc.mode != "") {
				t.Errorf("TLS = %v", m.TLS)
			}
			if tc.auth && m.AuthUser != smtptest.User {
				t.Errorf("AuthUser = %q", m.AuthUser)
			}
		})
	}
}

func TestMultipart(t *testing.T) {
	s := smtptest.New(t)
	if err := send(t, s, "", false, "b@example.org", multipartMsg); err != nil {
		t.Fatal(err)
	}
	m, _ := s.Last("b@example.org")
	if m.ContentType != "multipart/alternative" || m.Text != "Code: 012345" || m.HTML != "<p>Code: 012345</p>" {
		t.Errorf("text %q html %q type %s", m.Text, m.HTML, m.ContentType)
	}
}

func TestAuthRequired(t *testing.T) {
	s := smtptest.New(t, smtptest.WithSecurity(smtptest.StartTLS), smtptest.WithAuth("", ""))
	if err := send(t, s, "starttls", false, "b@example.org", plainMsg); err == nil || !strings.Contains(err.Error(), "530") {
		t.Errorf("without AUTH: %v", err)
	}
	s2 := smtptest.New(t, smtptest.WithSecurity(smtptest.StartTLS), smtptest.WithAuth("someone", "else"))
	if err := send(t, s2, "starttls", true, "b@example.org", plainMsg); err == nil || !strings.Contains(err.Error(), "535") {
		t.Errorf("wrong password: %v", err)
	}
	if len(s.Messages())+len(s2.Messages()) != 0 {
		t.Error("a message was accepted")
	}
}

func TestRejectAndModes(t *testing.T) {
	s := smtptest.New(t)
	s.Reject("Nobody@example.org")
	if err := send(t, s, "", false, "nobody@example.org", plainMsg); err == nil || !strings.Contains(err.Error(), "550") {
		t.Errorf("rejected recipient: %v", err)
	}
	if err := s.SetMode(smtptest.Failing); err != nil {
		t.Fatal(err)
	}
	if err := send(t, s, "", false, "b@example.org", plainMsg); err == nil || !strings.Contains(err.Error(), "421") {
		t.Errorf("failing: %v", err)
	}
	if err := s.SetMode(smtptest.Down); err != nil {
		t.Fatal(err)
	}
	if err := send(t, s, "", false, "b@example.org", plainMsg); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("down: %v", err)
	}
	if err := s.SetMode(smtptest.Up); err != nil {
		t.Fatal(err)
	}
	if err := send(t, s, "", false, "b@example.org", plainMsg); err != nil {
		t.Errorf("up again: %v", err)
	}
	if len(s.Messages()) != 1 {
		t.Errorf("%d messages", len(s.Messages()))
	}
}

func TestMalformedMessage(t *testing.T) {
	s := smtptest.New(t)
	bad := "From: a@example.com\r\nContent-Type: multipart/alternative; boundary=\r\n\r\nx\r\n"
	if err := send(t, s, "", false, "b@example.org", bad); err == nil || !strings.Contains(err.Error(), "554") {
		t.Errorf("malformed: %v", err)
	}
}
