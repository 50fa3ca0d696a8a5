package oauth2

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/twofactor/twofactor"
)

func TestParseJSON(t *testing.T) {
	v, err := parseJSON([]byte(` {"grant_type":"password","mfa_code":12345,"backup_code":null,"x":"\u00e9"} `))
	if err != nil || v.Get("grant_type") != "password" || v.Get("mfa_code") != "12345" || v.Has("backup_code") || v.Get("x") != "é" {
		t.Fatalf("parsed %v, %v", v, err)
	}
	for _, bad := range []string{``, `null`, `[]`, `"x"`, `{`, `{"a":1,}`, `{"a":[1]}`, `{"a":{}}`, `{"a":true}`, `{}{}`, `{} x`, `{"a" "b"}`} {
		if _, err := parseJSON([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestMethodDestinations: the methods of mfa_required show destinations
// masked by the core's rule, as /api/v1 and the pages do.
func TestMethodDestinations(t *testing.T) {
	for _, c := range []struct {
		kind       twofactor.Kind
		dest, want string
	}{
		{twofactor.KindSMS, "+31612345678", "+31 * ******78"},
		{twofactor.KindEmail, "bobbie@example.com", "b****e@example.com"},
		{twofactor.KindYubiKey, "cccccccb", ""},
		{twofactor.KindTOTP, "", ""},
	} {
		d := twofactor.Device{Kind: c.kind, Destination: c.dest}
		if got := d.MaskedDestination(); got != c.want {
			t.Errorf("%s %q = %q, want %q", c.kind, c.dest, got, c.want)
		}
	}
}

// FuzzReadParams: whatever the body and its content type, readParams
// returns parameters or a 4xx error, never panics, and never lets a known
// parameter through twice or oversized.
func FuzzReadParams(f *testing.F) {
	for _, seed := range [][2]string{
		{"application/x-www-form-urlencoded", "grant_type=password&username=a&password=b"},
		{"application/x-www-form-urlencoded; charset=iso-8859-1", "a=%zz&b=;"},
		{"application/json", `{"grant_type":"password","mfa_code":123456,"backup_code":null}`},
		{"application/json", `{"a":{"b":[1,2]}}`},
		{"multipart/form-data; boundary=xx", "--xx\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--xx--\r\n"},
		{"multipart/form-data; boundary=xx", "--xx\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f\"\r\n\r\nb\r\n--xx--\r\n"},
		{"text/plain", "x"},
		{"", ""},
		{";;", "x"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, contentType, body string) {
		r := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		vals, e := readParams(r, 4096)
		if e != nil {
			if e.Status < 400 || e.Status > 499 || e.Code != CodeInvalidRequest || e.Description == "" {
				t.Fatalf("%q %q: error %+v", contentType, body, e)
			}
			return
		}
		if len(body) > 4096 {
			t.Fatalf("a body of %d bytes was read", len(body))
		}
		for _, k := range knownParams {
			if len(vals[k]) > 1 || (len(vals[k]) == 1 && len(vals[k][0]) > maxParamBytes) {
				t.Fatalf("%q %q: %s passed as %q", contentType, body, k, vals[k])
			}
		}
	})
}
