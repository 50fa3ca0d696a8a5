package deux

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"unicode/utf8"
)

// FuzzParseBody: whatever the body and its content type, deux's request
// decoding returns members or a 4xx of deux's shape, never panics; and
// every view's field checks then give values or field errors in the
// fields' order.
func FuzzParseBody(f *testing.F) {
	for _, seed := range [][2]string{
		{"application/json", `{"username":"alice","password":"pw","mfa_code":"123456"}`},
		{"application/json", `{"phone_number":15555550123}`},
		{"application/json", `[1,2]`},
		{"application/json", `null`},
		{"application/json", `{"a":`},
		{"application/json; charset=utf-8", `{"mfa_code":null}`},
		{"application/x-www-form-urlencoded", "username=a&password=b&username=c"},
		{"application/x-www-form-urlencoded", "a=%zz&b=%00"},
		{"multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n--x--\r\n"},
		{"multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\nzz\r\n--x--\r\n"},
		{"multipart/form-data", "--x--"},
		{"text/plain", "x"},
		{"", "x"},
		{"", ""},
		{";;", "{}"},
	} {
		f.Add(seed[0], []byte(seed[1]))
	}
	views := [][]field{loginFields, smsRequestFields, smsVerifyFields}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		r := httptest.NewRequest("POST", "/mfa/authtoken/login/", bytes.NewReader(body))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		vals, err := parseBody(r, 4096)
		if err != nil {
			var fl *failure
			if !errors.As(err, &fl) || fl.status < 400 || fl.status >= 500 {
				t.Fatalf("%q %q: %v", ct, body, err)
			}
			if _, merr := marshal(fl.body); merr != nil {
				t.Fatalf("%q %q: the answer does not encode: %v", ct, body, merr)
			}
			return
		}
		if len(body) == 0 && len(vals) != 0 {
			t.Fatalf("members from an empty body: %v", vals)
		}
		for _, fields := range views {
			out, err := cleanAll(fields, vals)
			if err != nil {
				var fl *failure
				if !errors.As(err, &fl) || fl.status != http.StatusBadRequest {
					t.Fatalf("clean: %v", err)
				}
				fe, ok := fl.body.(fieldErrors)
				if !ok || len(fe) == 0 {
					t.Fatalf("clean: %#v", fl.body)
				}
				for _, e := range fe {
					if len(e.messages) == 0 {
						t.Fatalf("no message for %s", e.field)
					}
				}
				continue
			}
			for _, fd := range fields {
				v := out[fd.name]
				if fd.required && v == "" {
					t.Fatalf("required %s accepted empty", fd.name)
				}
				if fd.trim && v != "" && (v[0] == ' ' || v[len(v)-1] == ' ') {
					t.Fatalf("%s not trimmed: %q", fd.name, v)
				}
				if bytes.IndexByte([]byte(v), 0) >= 0 {
					t.Fatalf("%s with a null character accepted", fd.name)
				}
			}
			if p, ok := out["phone_number"]; ok && (len(p) < 7 || len(p) > 15 || !utf8.ValidString(p)) {
				t.Fatalf("phone %q accepted", p)
			}
		}
	})
}

// FuzzRoute: any path routes to at most one endpoint, and only paths
// under /mfa.
func FuzzRoute(f *testing.F) {
	for _, s := range []string{"/mfa", "/mfa/", "/mfa.json", "/mfa/sms/request.json/", "/mfa/oauth2/token", "/x", "/mfa//", "/mfa/.json.json"} {
		f.Add(s)
	}
	a := &API{oauth: nil}
	f.Fuzz(func(t *testing.T, p string) {
		e := a.route(p)
		if e == nil {
			return
		}
		if len(p) < len(Prefix) || p[:len(Prefix)] != Prefix {
			t.Fatalf("%q routed outside /mfa", p)
		}
		if e.path == "oauth2/token" {
			t.Fatalf("%q routed to the token endpoint without a server", p)
		}
	})
}
