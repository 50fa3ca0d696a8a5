package smtp_test

import (
	"strings"
	"testing"

	"github.com/twofactor/twofactor/gateway/smtp"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		in   string
		want smtp.Endpoint
	}{
		{"smtp://mail.example.com", smtp.Endpoint{Host: "mail.example.com", Port: 25, Security: smtp.Opportunistic}},
		{"smtp://mail.example.com:2525", smtp.Endpoint{Host: "mail.example.com", Port: 2525, Security: smtp.Opportunistic}},
		{"smtp+starttls://mail.example.com", smtp.Endpoint{Host: "mail.example.com", Port: 587, Security: smtp.RequireSTARTTLS}},
		{"smtps://mail.example.com", smtp.Endpoint{Host: "mail.example.com", Port: 465, Security: smtp.ImplicitTLS}},
		{"SMTPS://mail.example.com/", smtp.Endpoint{Host: "mail.example.com", Port: 465, Security: smtp.ImplicitTLS}},
		{"smtp://user:pass@127.0.0.1:1025", smtp.Endpoint{Host: "127.0.0.1", Port: 1025, Username: "user", Password: "pass"}},
		{"smtps://me%40example.com:p%3Ass%2Fw@mail.example.com", smtp.Endpoint{Host: "mail.example.com", Port: 465, Security: smtp.ImplicitTLS, Username: "me@example.com", Password: "p:ss/w"}},
		{"smtp://[::1]:25", smtp.Endpoint{Host: "::1", Port: 25}},
	}
	for _, tt := range tests {
		got, err := smtp.ParseURL(tt.in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseURL(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	const pw = "Sup3rSecret"
	tests := []struct{ in, says string }{
		{"", "empty"},
		{"   ", "empty"},
		{"mail.example.com", "scheme is missing"},
		{"mail.example.com:25", "unknown scheme"},
		{"http://mail.example.com", "unknown scheme \"http\""},
		{"smtp+ssl://mail.example.com", "unknown scheme"},
		{"smtp:mail.example.com", "want scheme://host:port"},
		{"smtp://", "host is missing"},
		{"smtp://:25", "host is missing"},
		{"smtp://u:" + pw + "@", "host is missing"},
		{"smtp://mail.example.com:0", "bad port"},
		{"smtp://mail.example.com:65536", "bad port"},
		{"smtp://mail.example.com:", "bad port"},
		{"smtp://mail.example.com:smtp", "not a URL"},
		{"smtp://u:" + pw + "@mail.example.com:x", "not a URL"},
		{"smtp://mail.example.com/path", "path is not allowed"},
		{"smtp://mail.example.com?tls=1", "query or fragment"},
		{"smtp://mail.example.com#x", "query or fragment"},
		{"smtp://user@mail.example.com", "without a password"},
		{"smtp://user:@mail.example.com", "without a password"},
		{"smtp://:" + pw + "@mail.example.com", "user name is empty"},
		{"smtp://u:" + pw + "@mail example.com", "not a URL"},
		{"smtp://u:" + pw + "%zz@mail.example.com", "not a URL"},
		{"smtp://::1", "neither a host name nor an IP address"},
		{"smtp://[127.0.0.1]:25", "invalid IP-literal"},
		{"smtp://-mail.example.com", "neither a host name nor an IP address"},
		{"smtp://mail!example.com", "neither a host name nor an IP address"},
	}
	for _, tt := range tests {
		_, err := smtp.ParseURL(tt.in)
		if err == nil {
			t.Errorf("ParseURL(%q) succeeded", tt.in)
			continue
		}
		if !strings.HasPrefix(err.Error(), "email.smtp_url: ") || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("ParseURL(%q) = %q, want it to say %q", tt.in, err, tt.says)
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("ParseURL(%q) error repeats the password: %q", tt.in, err)
		}
	}
}

func TestEndpointString(t *testing.T) {
	e, err := smtp.ParseURL("smtp+starttls://me:secret@[::1]:2525")
	if err != nil {
		t.Fatal(err)
	}
	if got := e.String(); got != "smtp+starttls://me:xxxxx@[::1]:2525" {
		t.Errorf("String() = %q", got)
	}
	if got := smtp.Security(7).String(); got != "Security(7)" {
		t.Errorf("Security(7) = %q", got)
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"smtp://mail.example.com", "smtps://u:p@h:465", "smtp+starttls://[::1]:1",
		"smtp://u:p%zz@h", "smtp://h:0", "smtp:h", "://", "smtp://h/p?q#f", "smtp://u:@h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		e, err := smtp.ParseURL(raw)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "email.smtp_url: ") {
				t.Fatalf("error %q does not name the key", err)
			}
			if e != (smtp.Endpoint{}) {
				t.Fatalf("an error with an endpoint: %+v", e)
			}
			// The password, if the input has one, is not repeated.
			if i := strings.Index(raw, "://"); i >= 0 {
				rest := raw[i+3:]
				if at := strings.LastIndex(rest, "@"); at >= 0 {
					if c := strings.Index(rest[:at], ":"); c >= 0 {
						if pw := rest[c+1 : at]; len(pw) >= 6 && strings.Contains(err.Error(), pw) {
							t.Fatalf("error %q repeats the password %q", err, pw)
						}
					}
				}
			}
			return
		}
		if e.Host == "" || e.Port < 1 || e.Port > 65535 || e.Security < smtp.Opportunistic || e.Security > smtp.ImplicitTLS {
			t.Fatalf("ParseURL(%q) = %+v", raw, e)
		}
		if (e.Username == "") != (e.Password == "") {
			t.Fatalf("ParseURL(%q): user %q, password set %v", raw, e.Username, e.Password != "")
		}
		// What String prints parses back to the same endpoint (with the
		// password hidden).
		back, err := smtp.ParseURL(e.String())
		if err != nil {
			t.Fatalf("ParseURL(%q) = %+v; its String %q does not parse: %v", raw, e, e.String(), err)
		}
		want := e
		if want.Username != "" {
			want.Password = "xxxxx"
		}
		if back != want {
			t.Fatalf("round trip %q → %+v → %q → %+v", raw, e, e.String(), back)
		}
	})
}
