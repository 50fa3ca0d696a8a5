package cli

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// needle is a secret in one of its forms.
type needle struct {
	what string
	data []byte
}

// secretForms returns the forms in which a secret could be stored in
// plain text.
func keyForms(key []byte) []needle {
	h := hex.EncodeToString(key)
	b32 := base32.StdEncoding.EncodeToString(key)
	b32raw := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(key)
	return []needle{
		{"raw key", key},
		{"hex key", []byte(h)},
		{"HEX key", []byte(strings.ToUpper(h))},
		{"base32 key", []byte(b32)},
		{"base32 key without padding", []byte(b32raw)},
		{"lower-case base32 key", []byte(strings.ToLower(b32))},
		{"lower-case base32 key without padding", []byte(strings.ToLower(b32raw))},
	}
}

func codeForms(code string) []needle {
	bare := strings.ReplaceAll(code, "-", "")
	return []needle{
		{"backup code " + code, []byte(code)},
		{"backup code " + code + " upper case", []byte(strings.ToUpper(code))},
		{"backup code " + code + " without dash", []byte(bare)},
		{"backup code " + code + " without dash, upper case", []byte(strings.ToUpper(bare))},
	}
}

// scan returns the needles found in any of the files.
func scan(t *testing.T, files []string, needles []needle) []string {
	t.Helper()
	var found []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range needles {
			if bytes.Contains(data, n.data) {
				found = append(found, filepath.Base(f)+": "+n.what)
			}
		}
	}
	return found
}

// TestSecretsAtRest checks SPEC §10.3 through the CLI: after a user, a
// TOTP key, backup codes and a verification, no file of the SQLite database
// holds the password, the key or a backup code in a usable form.
func TestSecretsAtRest(t *testing.T) {
	h := newHarness(t, noThrottle)
	// Keep a connection open while the commands run, so that the WAL is
	// not checkpointed away when each command closes the database: its
	// content is scanned too.
	keep := h.open()

	key := make([]byte, 26) // not a multiple of 5: base32 has padding
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	keyHex := hex.EncodeToString(key)
	const password = "correct-horse-battery-staple"
	h.ok(password+"\n", "user", "create", "bob", "--password-stdin")
	h.addTOTP("bob", keyHex)
	codes := strings.Fields(h.ok("", "backup-codes", "bob"))
	if len(codes) == 0 {
		t.Fatal("no backup codes")
	}
	h.ok("", "verify", "bob", oathtool(t, keyHex, 6, 30, 0))
	h.ok("", "verify", "bob", codes[len(codes)-1]) // one used code, too

	needles := append(keyForms(key), needle{"password", []byte(password)})
	for _, c := range codes {
		needles = append(needles, codeForms(c)...)
	}

	var files []string
	for _, name := range []string{"t.db", "t.db-wal", "t.db-shm"} {
		f := filepath.Join(h.dir, name)
		if _, err := os.Stat(f); err == nil {
			files = append(files, f)
		}
	}
	if len(files) < 2 {
		t.Errorf("only %d database files to scan; the WAL should exist while a connection is open", len(files))
	}
	if found := scan(t, files, needles); len(found) > 0 {
		t.Errorf("secrets stored in plain text: %s", strings.Join(found, "; "))
	}

	info, err := os.Stat(filepath.Join(h.dir, "twofactor.key"))
	if err != nil {
		t.Fatalf("no key file next to the database: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", info.Mode().Perm())
	}

	// The scanner finds what is planted: a copy of the database with the
	// password, a backup code and the base32 key appended.
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	scratch := filepath.Join(t.TempDir(), "planted.db")
	b32 := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(key))
	planted := append(data, []byte(password+"|"+strings.ToUpper(codes[0])+"|"+b32)...)
	if err := os.WriteFile(scratch, planted, 0o600); err != nil {
		t.Fatal(err)
	}
	found := scan(t, []string{scratch}, needles)
	for _, want := range []string{"password", "upper case", "lower-case base32 key without padding"} {
		if !strings.Contains(strings.Join(found, ";"), want) {
			t.Errorf("the scanner misses a planted %s (found %q)", want, found)
		}
	}
	_ = keep
}
