package yubikey

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"testing"
)

// FuzzCheckResponse feeds arbitrary bodies to the response parser and the
// authentication check. Nothing panics, and since the fuzzer does not know
// the API key (it is drawn at random for each run), no body is ever accepted
// as authentic: every result is an error and the Result is zero.
func FuzzCheckResponse(f *testing.F) {
	const otp = "cccccccbcjdifctrndncchkftchjlnbhvhtugdljibej"
	const nonce = "abcdefghijklmnopqrstuvwxyz012345"
	known := []byte("a key the fuzzer may learn")
	seed := map[string]string{"otp": otp, "nonce": nonce, "status": "OK", "t": "2024-01-02T03:04:05Z0123", "sl": "100"}
	f.Add(signedBody(known, seed))
	f.Add(signedBody(nil, seed))
	f.Add([]byte("status=OK\r\notp=" + otp + "\r\nnonce=" + nonce + "\r\n"))
	f.Add([]byte("h=\r\nstatus=REPLAYED_OTP\r\n\r\n"))
	f.Add([]byte("=\n=\n"))
	f.Add([]byte("status=OK\rstatus=OK"))
	secret := make([]byte, 20)
	if _, err := rand.Read(secret); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fields, perr := parseResponse(body)
		if perr == nil && len(fields) > maxResponseFields {
			t.Fatalf("%d fields accepted", len(fields))
		}
		res, err := checkResponse(body, secret, otp, nonce)
		if err == nil || res != (Result{}) {
			t.Fatalf("body %q accepted without the key: %+v, %v", body, res, err)
		}
		// With a key the fuzzer may know, acceptance requires a correct
		// signature, status OK and the echo.
		res, err = checkResponse(body, known, otp, nonce)
		if err == nil {
			h, herr := base64.StdEncoding.DecodeString(fields["h"])
			if herr != nil || !hmac.Equal(h, signature(known, fields)) {
				t.Fatalf("accepted a body without a valid signature: %q", body)
			}
			if res.Status != StatusOK || !res.Signed || fields["otp"] != otp || fields["nonce"] != nonce {
				t.Fatalf("accepted %+v", res)
			}
		}
		// Unsigned mode must still insist on OK and the echo.
		res, err = checkResponse(body, nil, otp, nonce)
		if err == nil && (res.Status != StatusOK || fields["otp"] != otp || fields["nonce"] != nonce) {
			t.Fatalf("unsigned mode accepted %+v", res)
		}
	})
}
