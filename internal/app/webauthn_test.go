package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/config"
)

func writePEM(t *testing.T, dir, name string, certs int) string {
	t.Helper()
	var out []byte
	for i := 0; i < certs; i++ {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: "Root"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWebAuthnConfig(t *testing.T) {
	cfg := config.Default()
	if w, err := WebAuthn(cfg); w != nil || err != nil {
		t.Fatalf("without rp_name: %+v, %v; want off", w, err)
	}
	dir := t.TempDir()
	cfg.WebAuthn = config.WebAuthn{RPName: "Example", RPID: "example.com", Origins: []string{"https://www.example.com"},
		AuthenticatorAttachment: "platform", PreferredTransports: []string{"usb"}, UserVerification: "required", Attestation: "direct",
		RootCerts: []string{writePEM(t, dir, "a.pem", 2), writePEM(t, dir, "b.pem", 1)}}
	w, err := WebAuthn(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if w.RPName != "Example" || w.RPID != "example.com" || len(w.Origins) != 1 || w.AuthenticatorAttachment != "platform" ||
		w.UserVerification != "required" || w.Attestation != "direct" || len(w.PreferredTransports) != 1 || len(w.RootCerts) != 3 {
		t.Fatalf("mapped %+v", w)
	}

	empty := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(empty, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("junk")}), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		set  func(*config.WebAuthn)
		want string
	}{
		{"missing file", func(w *config.WebAuthn) { w.RootCerts = []string{filepath.Join(dir, "none.pem")} }, "config: webauthn.root_certs: "},
		{"no certificate", func(w *config.WebAuthn) { w.RootCerts = []string{empty} }, "no PEM certificate"},
		{"bad certificate", func(w *config.WebAuthn) { w.RootCerts = []string{bad} }, "config: webauthn.root_certs: "},
		{"origin off the rp id", func(w *config.WebAuthn) { w.Origins = []string{"https://example.org"} }, "config: webauthn.origins: "},
		{"ip rp id", func(w *config.WebAuthn) { w.RPID = "10.0.0.1"; w.Origins = nil }, "config: webauthn.rp_id: "},
		{"ip origin", func(w *config.WebAuthn) { w.RPID = ""; w.Origins = []string{"https://10.0.0.1"} }, "config: webauthn.origins: "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := cfg
			x.WebAuthn.Origins = append([]string(nil), cfg.WebAuthn.Origins...)
			c.set(&x.WebAuthn)
			_, err := WebAuthn(x)
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v, want one line with %q", err, c.want)
			}
		})
	}
}

// TestOpenWebAuthn: with webauthn.rp_name the service offers WebAuthn; a
// bad root certificate file stops Open with one line naming the key.
func TestOpenWebAuthn(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.DatabaseURL = "sqlite:" + filepath.Join(dir, "t.db")
	a, err := Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(a.Service.Methods(), twofactor.KindWebAuthn) {
		t.Fatal("webauthn offered without webauthn.rp_name")
	}
	a.Close()
	cfg.WebAuthn.RPName = "Example"
	a, err = Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(a.Service.Methods(), twofactor.KindWebAuthn) {
		t.Fatalf("methods %v without webauthn", a.Service.Methods())
	}
	a.Close()
	cfg.WebAuthn.RootCerts = []string{filepath.Join(dir, "missing.pem")}
	if _, err := Open(context.Background(), cfg, slog.New(slog.DiscardHandler)); err == nil ||
		!strings.HasPrefix(err.Error(), "config: webauthn.root_certs: ") {
		t.Fatalf("missing root file: %v", err)
	}
}
