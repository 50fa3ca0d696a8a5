package yubicloudtest

import (
	"crypto/aes"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

var (
	apiKey    = []byte("twenty bytes of key!")
	privateID = [6]byte{1, 2, 3, 4, 5, 6}
	aesKey    = [16]byte{0x0f, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0}
)

const publicID = "vvccccccccbc"

// makeToken builds a token independently of the yubikey package.
func makeToken(session uint16, use uint8, uid [6]byte, key [16]byte) string {
	var p [16]byte
	copy(p[:6], uid[:])
	binary.LittleEndian.PutUint16(p[6:], session)
	p[8], p[9], p[10] = 0x33, 0x22, 0x11
	p[11] = use
	binary.LittleEndian.PutUint16(p[12:], 0xbeef)
	binary.LittleEndian.PutUint16(p[14:], ^crc(p[:14]))
	c, _ := aes.NewCipher(key[:])
	var ct [16]byte
	c.Encrypt(ct[:], p[:])
	var b strings.Builder
	b.WriteString(publicID)
	for _, v := range ct {
		b.WriteByte("cbdefghijklnrtuv"[v>>4])
		b.WriteByte("cbdefghijklnrtuv"[v&15])
	}
	return b.String()
}

func get(t *testing.T, s *Server, params map[string]string, signKey []byte) map[string]string {
	t.Helper()
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	if signKey != nil {
		q.Set("h", sign(signKey, params))
	}
	resp, err := http.Get(s.URL() + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(body), "\r\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			fields[k] = v
		}
	}
	return fields
}

// signedBy reports whether the response fields carry a valid h for key.
func signedBy(fields map[string]string, key []byte) bool {
	h, ok := fields["h"]
	return ok && h == sign(key, fields)
}

func TestSignVector(t *testing.T) {
	key, _ := base64.StdEncoding.DecodeString("Eibja2kRFXXoW6hjZaiyBtWnCBA=")
	got := sign(key, map[string]string{"id": "15618", "nonce": "0102030405060708090a0b0c0d0e0f", "otp": "ccccccbteuddjivcnlfefefrccdcjrfjfvgjnfkcklge"})
	if got != "Jt19GpDOAraTYRFBHSofYZFEwjE=" {
		t.Errorf("sign = %s", got)
	}
}

func TestProtocol(t *testing.T) {
	s := New(t, "42", apiKey)
	s.AddKey(publicID, privateID, aesKey)
	const nonce = "0123456789abcdefABCDEF"
	req := func(otp, n string) map[string]string {
		return map[string]string{"id": "42", "otp": otp, "nonce": n, "timestamp": "1"}
	}

	tok := makeToken(3, 1, privateID, aesKey)
	r := get(t, s, req(tok, nonce), apiKey)
	if r["status"] != "OK" || r["otp"] != tok || r["nonce"] != nonce || !signedBy(r, apiKey) {
		t.Fatalf("OK: %v", r)
	}
	if r["sessioncounter"] != "3" || r["sessionuse"] != "1" || r["timestamp"] != "1122867" || r["sl"] != "100" || r["t"] == "" {
		t.Errorf("counters: %v", r)
	}
	if s.Counter(publicID) != 3<<8|1 || s.Counter("nope") != -1 {
		t.Errorf("Counter = %d", s.Counter(publicID))
	}

	cases := []struct {
		name   string
		params map[string]string
		key    []byte
		status string
		signed bool
	}{
		{"same request again", req(tok, nonce), apiKey, "REPLAYED_REQUEST", true},
		{"same otp new nonce", req(tok, nonce+"x"), apiKey, "REPLAYED_OTP", true},
		{"older counter", req(makeToken(3, 0, privateID, aesKey), nonce), apiKey, "REPLAYED_OTP", true},
		{"wrong aes key", req(makeToken(4, 0, privateID, [16]byte{}), nonce), apiKey, "BAD_OTP", true},
		{"wrong private id", req(makeToken(4, 0, [6]byte{}, aesKey), nonce), apiKey, "BAD_OTP", true},
		{"unknown public id", req("cccccccc"+makeToken(4, 0, privateID, aesKey)[12:], nonce), apiKey, "BAD_OTP", true},
		{"garbage otp", req("hello", nonce), apiKey, "BAD_OTP", true},
		{"unsigned request", req(makeToken(4, 0, privateID, aesKey), nonce), nil, "BAD_SIGNATURE", true},
		{"wrongly signed", req(makeToken(4, 0, privateID, aesKey), nonce), []byte("x"), "BAD_SIGNATURE", true},
		{"unknown id", map[string]string{"id": "7", "otp": tok, "nonce": nonce}, apiKey, "NO_SUCH_CLIENT", false},
		{"no nonce", map[string]string{"id": "42", "otp": tok}, apiKey, "MISSING_PARAMETER", true},
		{"short nonce", req(tok, "abc"), apiKey, "MISSING_PARAMETER", true},
		{"newer session", req(makeToken(4, 0, privateID, aesKey), nonce), apiKey, "OK", true},
	}
	for _, c := range cases {
		r := get(t, s, c.params, c.key)
		if r["status"] != c.status {
			t.Errorf("%s: status %q, want %q", c.name, r["status"], c.status)
		}
		if signedBy(r, apiKey) != c.signed {
			t.Errorf("%s: signed = %v, want %v", c.name, !c.signed, c.signed)
		}
	}
	reqs := s.Requests()
	if len(reqs) != len(cases)+1 || !reqs[0].SignatureOK || reqs[8].SignatureOK {
		t.Errorf("requests recorded: %d", len(reqs))
	}
}

func TestFaults(t *testing.T) {
	s := New(t, "42", apiKey)
	s.AddKey(publicID, privateID, aesKey)
	n := uint8(0)
	next := func() map[string]string {
		n++
		return map[string]string{"id": "42", "otp": makeToken(1, n, privateID, aesKey), "nonce": "nonce0123456789abc"}
	}

	s.SetFault(ForgedSignature)
	if r := get(t, s, next(), apiKey); r["status"] != "OK" || r["h"] == "" || signedBy(r, apiKey) {
		t.Errorf("forged: %v", r)
	}
	s.SetFault(Unsigned)
	if r := get(t, s, next(), apiKey); r["status"] != "OK" || r["h"] != "" {
		t.Errorf("unsigned: %v", r)
	}
	s.SetFault(WrongNonce)
	if r := get(t, s, next(), apiKey); r["nonce"] == "nonce0123456789abc" || !signedBy(r, apiKey) {
		t.Errorf("wrong nonce: %v", r)
	}
	s.SetFault(OtherOTP)
	p := next()
	if r := get(t, s, p, apiKey); r["otp"] == p["otp"] || !signedBy(r, apiKey) {
		t.Errorf("other otp: %v", r)
	}
	s.SetFault(None)
	s.SetStatus("BACKEND_ERROR")
	before := s.Counter(publicID)
	p = next()
	if r := get(t, s, p, apiKey); r["status"] != "BACKEND_ERROR" || r["otp"] != p["otp"] || !signedBy(r, apiKey) {
		t.Errorf("forced status: %v", r)
	}
	if s.Counter(publicID) != before {
		t.Error("forced status changed device state")
	}
	s.SetStatus("")

	s.SetFault(HTTPError)
	resp, err := http.Get(s.URL() + "?id=42")
	if err != nil || resp.StatusCode != 500 {
		t.Errorf("HTTP error: %v %v", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
}

func TestHangReleasedByClose(t *testing.T) {
	s := New(t, "42", apiKey)
	s.SetFault(Hang)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.Get(s.URL() + "?id=42")
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	for len(s.Requests()) == 0 {
		time.Sleep(time.Millisecond)
	}
	done := make(chan struct{})
	go func() { s.Close(); s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked on a hanging request")
	}
	<-errc
}

func TestMethodAndKeyless(t *testing.T) {
	s := New(t, "1", nil)
	s.AddKey(publicID, privateID, aesKey)
	resp, err := http.Post(s.URL(), "text/plain", nil)
	if err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %v %v", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
	r := get(t, s, map[string]string{"id": "1", "otp": makeToken(1, 1, privateID, aesKey), "nonce": "0123456789abcdef"}, nil)
	if r["status"] != "OK" || r["h"] != "" {
		t.Errorf("keyless: %v", r)
	}
}
