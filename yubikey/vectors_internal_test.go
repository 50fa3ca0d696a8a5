package yubikey

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
)

// yubiotp's CRC doctests.
func TestCRC16Vectors(t *testing.T) {
	data, _ := hex.DecodeString("8792ebfe26cc130030c20011c89f")
	if got := ^crc16(data); got != 0xc823 {
		t.Errorf("^crc16(14 bytes) = %#04x, want 0xc823", got)
	}
	full, _ := hex.DecodeString("8792ebfe26cc130030c20011c89f23c8")
	if got := crc16(full); got != crcResidue {
		t.Errorf("crc16(16 bytes) = %#04x, want %#04x", got, crcResidue)
	}
	full[0] ^= 0xff
	if got := crc16(full); got == crcResidue {
		t.Errorf("crc16 with the first byte flipped still leaves the residue")
	}
	// Every single-bit flip is detected.
	full[0] ^= 0xff
	for i := range 16 * 8 {
		b := bytes.Clone(full)
		b[i/8] ^= 1 << (i % 8)
		if crc16(b) == crcResidue {
			t.Errorf("bit %d flipped: residue unchanged", i)
		}
	}
}

// The example from a Yubico forum answer on protocol 2.0 signatures: id
// 15618, key Eibja2kRFXXoW6hjZaiyBtWnCBA=.
func TestSignatureVector(t *testing.T) {
	key, err := base64.StdEncoding.DecodeString("Eibja2kRFXXoW6hjZaiyBtWnCBA=")
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{
		"otp":   "ccccccbteuddjivcnlfefefrccdcjrfjfvgjnfkcklge",
		"id":    "15618",
		"nonce": "0102030405060708090a0b0c0d0e0f",
		"h":     "ignored",
	}
	got := base64.StdEncoding.EncodeToString(signature(key, fields))
	if want := "Jt19GpDOAraTYRFBHSofYZFEwjE="; got != want {
		t.Errorf("signature = %s, want %s", got, want)
	}
}

func TestNonce(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 2000 {
		n, err := newNonce(nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(n) < 16 || len(n) > 40 {
			t.Fatalf("nonce length %d, want 16..40", len(n))
		}
		for _, c := range n {
			if !strings.ContainsRune(nonceAlphabet, c) {
				t.Fatalf("nonce %q has %q", n, c)
			}
			counts[c]++
		}
		if seen[n] {
			t.Fatalf("nonce %q repeated", n)
		}
		seen[n] = true
	}
	// 64,000 draws over 62 characters: about 1032 each. A generator using
	// only part of the alphabet, or a heavily biased one, fails this.
	if len(counts) != 62 {
		t.Errorf("nonces used %d distinct characters, want 62", len(counts))
	}
	for c, n := range counts {
		if n < 800 || n > 1300 {
			t.Errorf("character %q drawn %d times, want about 1032", c, n)
		}
	}
}

func TestNonceBadReader(t *testing.T) {
	boom := errors.New("boom")
	if _, err := newNonce(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("error reader: err = %v, want wrapping boom", err)
	}
	// A reader that returns only rejected bytes must not loop forever.
	if _, err := newNonce(bytes.NewReader(bytes.Repeat([]byte{0xff}, 1<<16))); err == nil {
		t.Error("all-0xff reader: no error")
	}
	// Deterministic reader: deterministic nonce, bytes >= 248 skipped.
	src := append([]byte{0xf8, 0xff}, bytes.Repeat([]byte{0, 1, 61, 62}, 20)...)
	n, err := newNonce(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("AB9A", 8); n != want {
		t.Errorf("nonce = %q, want %q", n, want)
	}
}

func TestParseResponse(t *testing.T) {
	tests := []struct {
		name string
		body string
		want map[string]string
		ok   bool
	}{
		{"crlf", "h=abc=\r\nt=2024\r\nstatus=OK\r\n\r\n", map[string]string{"h": "abc=", "t": "2024", "status": "OK"}, true},
		{"lf", "status=OK\nsl=100\n", map[string]string{"status": "OK", "sl": "100"}, true},
		{"no final newline", "status=OK", map[string]string{"status": "OK"}, true},
		{"empty value", "status=OK\r\nsl=\r\n", map[string]string{"status": "OK", "sl": ""}, true},
		{"empty", "", map[string]string{}, true},
		{"no equals", "status=OK\r\ngarbage\r\n", nil, false},
		{"empty key", "=OK\r\n", nil, false},
		{"space in key", "sta tus=OK\r\n", nil, false},
		{"duplicate", "status=OK\r\nstatus=BAD_OTP\r\n", nil, false},
		{"control", "status=OK\x00\r\n", nil, false},
		{"bare cr", "status=OK\rnonce=x\r\n", nil, false},
		{"non-ascii", "status=OK\xc3\xa9\r\n", nil, false},
		{"long key", strings.Repeat("k", 33) + "=1\n", nil, false},
		{"too many", strings.Repeat("x", 0) + manyFields(33), nil, false},
		{"html", "<html><body>Login</body></html>", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseResponse([]byte(tt.body))
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrBadResponse) {
					t.Errorf("err = %v, want ErrBadResponse", err)
				}
				return
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func manyFields(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("k" + strings.Repeat("x", i%5) + string(rune('a'+i/5)) + "=1\n")
	}
	return b.String()
}

// signedBody builds a response body signed with key.
func signedBody(key []byte, fields map[string]string) []byte {
	var b strings.Builder
	if key != nil {
		b.WriteString("h=" + base64.StdEncoding.EncodeToString(signature(key, fields)) + "\r\n")
	}
	for k, v := range fields {
		b.WriteString(k + "=" + v + "\r\n")
	}
	return []byte(b.String())
}

func TestCheckResponse(t *testing.T) {
	key := []byte("0123456789abcdefghij")
	const otp = "cccccccbcjdifctrndncchkftchjlnbhvhtugdljibej"
	const nonce = "abcdefghijklmnopqrstuvwxyz012345"
	base := func(status string, extra ...string) map[string]string {
		m := map[string]string{"t": "2024-01-02T03:04:05Z0123", "otp": otp, "nonce": nonce, "sl": "100", "status": status}
		for i := 0; i+1 < len(extra); i += 2 {
			if extra[i+1] == "-" {
				delete(m, extra[i])
			} else {
				m[extra[i]] = extra[i+1]
			}
		}
		return m
	}
	tests := []struct {
		name    string
		body    []byte
		key     []byte
		wantErr error
		status  string
	}{
		{"ok", signedBody(key, base("OK")), key, nil, "OK"},
		{"ok unsigned client", signedBody(nil, base("OK")), nil, nil, "OK"},
		{"replayed", signedBody(key, base("REPLAYED_OTP")), key, ErrReplayed, "REPLAYED_OTP"},
		{"bad otp", signedBody(key, base("BAD_OTP")), key, ErrBadOTP, "BAD_OTP"},
		{"backend", signedBody(key, base("BACKEND_ERROR")), key, ErrStatus, "BACKEND_ERROR"},
		{"unknown status", signedBody(key, base("SOMETHING_NEW")), key, ErrStatus, "SOMETHING_NEW"},
		{"error status without echo", signedBody(key, base("MISSING_PARAMETER", "otp", "-", "nonce", "-")), key, ErrStatus, "MISSING_PARAMETER"},
		{"ok unsigned response", signedBody(nil, base("OK")), key, ErrBadSignature, ""},
		{"ok wrong key", signedBody([]byte("other key"), base("OK")), key, ErrBadSignature, ""},
		{"no such client unsigned", signedBody(nil, base("NO_SUCH_CLIENT", "otp", "-", "nonce", "-")), key, ErrBadSignature, ""},
		{"ok signature not base64", []byte("h=!!!\r\n" + string(signedBody(nil, base("OK")))), key, ErrBadSignature, ""},
		{"ok without otp", signedBody(key, base("OK", "otp", "-")), key, ErrBadSignature, ""},
		{"ok without nonce", signedBody(key, base("OK", "nonce", "-")), key, ErrBadSignature, ""},
		{"ok other otp", signedBody(key, base("OK", "otp", "cccccccbcjdifctrndncchkftchjlnbhvhtugdljibek")), key, ErrBadSignature, ""},
		{"ok other nonce", signedBody(key, base("OK", "nonce", "abcdefghijklmnopqrstuvwxyz012346")), key, ErrBadSignature, ""},
		{"ok nonce prefix", signedBody(key, base("OK", "nonce", nonce[:16])), key, ErrBadSignature, ""},
		{"ok unsigned client other nonce", signedBody(nil, base("OK", "nonce", "x")), nil, ErrBadSignature, ""},
		{"replayed other nonce", signedBody(key, base("REPLAYED_OTP", "nonce", "x")), key, ErrBadSignature, ""},
		{"no status", signedBody(key, base("OK", "status", "-")), key, ErrBadResponse, ""},
		{"lower-case status", signedBody(key, base("ok")), key, ErrBadResponse, ""},
		{"status with spaces", signedBody(key, base("OK ")), key, ErrBadResponse, ""},
		{"bad sl", signedBody(key, base("OK", "sl", "101")), key, ErrBadResponse, ""},
		{"counters partial", signedBody(key, base("OK", "timestamp", "1")), key, ErrBadResponse, ""},
		{"counters too big", signedBody(key, base("OK", "timestamp", "1", "sessioncounter", "65536", "sessionuse", "1")), key, ErrBadResponse, ""},
		{"counters signed", signedBody(key, base("OK", "timestamp", "16777215", "sessioncounter", "65535", "sessionuse", "255")), key, nil, "OK"},
		{"garbage", []byte("<html>"), key, ErrBadResponse, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := checkResponse(tt.body, tt.key, otp, nonce)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
			} else if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if res.Status != tt.status {
				t.Errorf("Status = %q, want %q", res.Status, tt.status)
			}
			if err != nil && strings.Contains(err.Error(), otp) {
				t.Errorf("error %q quotes the token", err)
			}
		})
	}
	res, err := checkResponse(signedBody(key, base("OK", "timestamp", "16777215", "sessioncounter", "65535", "sessionuse", "255")), key, otp, nonce)
	if err != nil || !res.HasCounters || res.Timestamp != 1<<24-1 || res.Counter() != 65535<<8|255 || res.SL != 100 || !res.Signed {
		t.Errorf("counters: %+v, %v", res, err)
	}
	var se *StatusError
	_, err = checkResponse(signedBody(key, base("BACKEND_ERROR")), key, otp, nonce)
	if !errors.As(err, &se) || se.Status != "BACKEND_ERROR" {
		t.Errorf("err = %v, want *StatusError BACKEND_ERROR", err)
	}
}
