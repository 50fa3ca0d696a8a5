package api

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/otp"
)

// BenchmarkLoginVerify measures POST /api/v1/login/verify through the
// handler on SQLite: decode, the login challenge, the replay-protected
// verification of a fresh TOTP code, consuming the challenge and issuing a
// verified token. The password step is not measured (argon2id dominates it
// by design): each iteration's challenge is made beforehand, and the clock
// moves one TOTP step so that each code is new.
func BenchmarkLoginVerify(b *testing.B) {
	h := newHarness(b, onSQLite)
	u := h.user("alice")
	key := []byte("12345678901234567890")
	if _, err := h.svc.ImportTOTP(bg, twofactor.OperatorActor(u.ID), twofactor.TOTPSpec{Key: key}, u.Username); err != nil {
		b.Fatal(err)
	}
	handler := h.api.Handler()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		h.clock.Add(30 * time.Second)
		lr, err := h.svc.BeginLogin(bg, u)
		if err != nil {
			b.Fatal(err)
		}
		code := otp.Format(otp.HOTP(key, uint64(h.clock.Now().Unix()/30), 6, otp.SHA1), 6)
		r := httptest.NewRequest("POST", "/api/v1/login/verify",
			strings.NewReader(fmt.Sprintf(`{"mfa_token":%q,"code":%q}`, lr.Token, code)))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr = "192.0.2.1:1234"
		rec := httptest.NewRecorder()
		b.StartTimer()
		handler.ServeHTTP(rec, r)
		b.StopTimer()
		if rec.Code != 200 {
			b.Fatalf("verify: %d %s", rec.Code, rec.Body)
		}
		b.StartTimer()
	}
}

// BenchmarkDecodeLoginVerify measures the API's own part of a verify
// request: the strict decoding of its body.
func BenchmarkDecodeLoginVerify(b *testing.B) {
	body := []byte(`{"mfa_token":"Zk1lX2V4YW1wbGVfY2hhbGxlbmdlX3Rva2VuXzAxMjM0NTY3ODk","code":"123456"}`)
	b.ReportAllocs()
	for b.Loop() {
		var req loginVerifyRequest
		if err := decodeJSON(body, &req); err != nil {
			b.Fatal(err)
		}
	}
}
