package twilio_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/twofactor/twofactor/gateway/twilio"
	"github.com/twofactor/twofactor/internal/twiliotest"
)

const (
	token  = twiliotest.AuthToken
	public = "https://2fa.example.com"
)

// signedGET is a callback request as Twilio sends it: the call's
// parameters in the query, signed over the full URL.
func signedGET(t *testing.T, target string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Header.Set(twilio.SignatureHeader, twiliotest.Sign(token, public+target, nil))
	return r
}

// signedPOST is a Gather action request: form parameters, signed over the
// URL and the sorted parameters.
func signedPOST(t *testing.T, target string, form url.Values) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set(twilio.SignatureHeader, twiliotest.Sign(token, public+target, form))
	return r
}

var gatherForm = url.Values{
	"AccountSid": {twiliotest.AccountSID}, "CallSid": {"CA0123"}, "Digits": {"1"},
	"From": {"+15005550006"}, "To": {"+31101234567"}, "Direction": {"outbound-api"},
}

const callback = "/twilio/inbound/two_factor/abc/"

func TestValidateRequest(t *testing.T) {
	query := callback + "?AccountSid=" + twiliotest.AccountSID + "&CallSid=CA0123&From=%2B15005550006&To=%2B31101234567"
	tests := []struct {
		name   string
		req    func() *http.Request
		token  string
		public string
		want   bool
	}{
		{"GET signed", func() *http.Request { return signedGET(t, query) }, token, public, true},
		{"GET signed, no query", func() *http.Request { return signedGET(t, callback) }, token, public, true},
		{"POST signed", func() *http.Request { return signedPOST(t, callback, gatherForm) }, token, public, true},
		{"public URL with trailing slash", func() *http.Request { return signedGET(t, query) }, token, public + "/", true},
		{"missing signature", func() *http.Request {
			r := signedGET(t, query)
			r.Header.Del(twilio.SignatureHeader)
			return r
		}, token, public, false},
		{"empty signature", func() *http.Request {
			r := signedGET(t, query)
			r.Header.Set(twilio.SignatureHeader, "")
			return r
		}, token, public, false},
		{"forged signature", func() *http.Request {
			r := signedGET(t, query)
			r.Header.Set(twilio.SignatureHeader, twiliotest.Sign("0000000000000000000000000000000f", public+query, nil))
			return r
		}, token, public, false},
		{"garbage signature", func() *http.Request {
			r := signedGET(t, query)
			r.Header.Set(twilio.SignatureHeader, "not base64 at all")
			return r
		}, token, public, false},
		{"wrong token", func() *http.Request { return signedGET(t, query) }, "1111111111111111111111111111111f", public, false},
		{"empty token", func() *http.Request { return signedGET(t, query) }, "", public, false},
		{"wrong public URL (host)", func() *http.Request { return signedGET(t, query) }, token, "https://evil.example", false},
		{"wrong public URL (scheme)", func() *http.Request { return signedGET(t, query) }, token, "http://2fa.example.com", false},
		{"bad public URL", func() *http.Request { return signedGET(t, query) }, token, "::", false},
		{"signed for another path", func() *http.Request {
			r := signedGET(t, query)
			r2 := httptest.NewRequest(http.MethodGet, strings.Replace(query, "abc", "xyz", 1), nil)
			r2.Header = r.Header
			return r2
		}, token, public, false},
		{"query changed", func() *http.Request {
			r := signedGET(t, query)
			r2 := httptest.NewRequest(http.MethodGet, query+"&Digits=9", nil)
			r2.Header = r.Header
			return r2
		}, token, public, false},
		{"POST parameter changed", func() *http.Request {
			r := signedPOST(t, callback, gatherForm)
			f := url.Values{}
			for k, v := range gatherForm {
				f[k] = v
			}
			f.Set("Digits", "2")
			r.Body = io.NopCloser(strings.NewReader(f.Encode()))
			return r
		}, token, public, false},
		{"POST parameter added", func() *http.Request {
			r := signedPOST(t, callback, gatherForm)
			r.Body = io.NopCloser(strings.NewReader(gatherForm.Encode() + "&Extra=1"))
			return r
		}, token, public, false},
		{"POST signed as GET", func() *http.Request {
			r := signedPOST(t, callback, gatherForm)
			r.Header.Set(twilio.SignatureHeader, twiliotest.Sign(token, public+callback, nil))
			return r
		}, token, public, false},
		{"POST with another content type", func() *http.Request {
			r := signedPOST(t, callback, gatherForm)
			r.Header.Set("Content-Type", "text/plain")
			return r
		}, token, public, false},
		{"PUT", func() *http.Request {
			r := signedGET(t, query)
			r.Method = http.MethodPut
			return r
		}, token, public, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := twilio.ValidateRequest(tt.req(), tt.token, tt.public); got != tt.want {
				t.Fatalf("ValidateRequest = %v, want %v", got, tt.want)
			}
		})
	}
	if twilio.ValidateRequest(nil, token, public) {
		t.Error("a nil request validated")
	}
}

// The body stays readable for the handler, and a form already parsed is
// used as it is.
func TestValidateRequestKeepsBody(t *testing.T) {
	r := signedPOST(t, callback, gatherForm)
	if !twilio.ValidateRequest(r, token, public) {
		t.Fatal("not valid")
	}
	if r.FormValue("Digits") != "1" {
		t.Fatal("the form is gone after validation")
	}
	r = signedPOST(t, callback, gatherForm)
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	if !twilio.ValidateRequest(r, token, public) {
		t.Fatal("a parsed form did not validate")
	}
	r = signedPOST(t, callback, gatherForm)
	r.Body = io.NopCloser(strings.NewReader(strings.Repeat("a=b&", 20000)))
	if twilio.ValidateRequest(r, token, public) {
		t.Fatal("an oversized body validated")
	}
}

// A public URL with a path: Twilio signs the path in full; a proxy may
// strip the prefix before the request reaches us, or not.
func TestValidateRequestPublicPath(t *testing.T) {
	const pub = "https://example.com/2fa"
	full := pub + callback
	for name, target := range map[string]string{
		"prefix stripped": callback,
		"prefix kept":     "/2fa" + callback,
	} {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, target, nil)
			r.Header.Set(twilio.SignatureHeader, twiliotest.Sign(token, full, nil))
			if !twilio.ValidateRequest(r, token, pub) {
				t.Fatal("not valid")
			}
		})
	}
	r := httptest.NewRequest(http.MethodGet, callback, nil)
	r.Header.Set(twilio.SignatureHeader, twiliotest.Sign(token, "https://example.com"+callback, nil))
	if twilio.ValidateRequest(r, token, pub) {
		t.Fatal("a request signed without the public path validated")
	}
}

// The test peer's signer and twilio-go's validator agree with Twilio's
// published example (the Twilio docs' "12345" token example).
func TestSignKnownVector(t *testing.T) {
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
		"From": {"+12349013030"}, "To": {"+18005551212"},
	}
	const u = "https://mycompany.com/myapp.php?foo=1&bar=2"
	const want = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
	if got := twiliotest.Sign("12345", u, params); got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
	r := httptest.NewRequest(http.MethodPost, "/myapp.php?foo=1&bar=2", strings.NewReader(params.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set(twilio.SignatureHeader, want)
	if !twilio.ValidateRequest(r, "12345", "https://mycompany.com") {
		t.Fatal("ValidateRequest refused the known vector")
	}
}

func FuzzValidateRequest(f *testing.F) {
	f.Add("GET", callback, "", "sig", public)
	f.Add("POST", callback, gatherForm.Encode(), twiliotest.Sign(token, public+callback, gatherForm), public)
	f.Add("POST", "/x", "%zz", "", "https://a/b")
	f.Fuzz(func(t *testing.T, method, target, body, sig, pub string) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t#") || len(target) > 200 {
			return
		}
		switch method {
		case "GET", "POST", "PUT", "HEAD":
		default:
			return
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		r := &http.Request{Method: method, URL: u, RequestURI: target, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set(twilio.SignatureHeader, sig)
		ok := twilio.ValidateRequest(r, token, pub)
		// Whatever the input, only the right signature passes.
		if ok && sig == "sig" {
			t.Fatal("a made-up signature validated")
		}
	})
}
