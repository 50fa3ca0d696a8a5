package cli

import (
	"strings"
	"testing"

	"github.com/twofactor/twofactor/internal/pgtest"
	"github.com/twofactor/twofactor/secret"
)

// pgHarness returns a harness on a fresh PostgreSQL schema (the test skips
// without TWOFACTOR_TEST_POSTGRES).
func pgHarness(t *testing.T, envs ...map[string]string) *harness {
	h := newHarness(t, envs...)
	h.db = pgtest.Fresh(t)
	return h
}

func TestPostgresNeedsSecretKey(t *testing.T) {
	h := pgHarness(t)
	h.fails("twofactor: config: secret_key is required with PostgreSQL (all instances must share it; generate one with `twofactor key generate`)",
		"migrate")
}

func TestPostgresCommands(t *testing.T) {
	key, err := secret.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	h := pgHarness(t, noThrottle, map[string]string{"TWOFACTOR_SECRET_KEY": key})
	out := h.ok("", "migrate")
	if !strings.HasPrefix(out, "database schema is at version ") {
		t.Errorf("migrate printed %q", out)
	}
	h.createUser("alice")
	h.createUser("bob")
	h.fails(`twofactor: user "alice" already exists`, "user", "create", "alice", "--password-stdin")
	id := h.addTOTP("bob", testKey)
	code := oathtool(t, testKey, 6, 30, 0)
	if out := h.ok("", "verify", "bob", code); out != "accepted (device "+id+", totp)\n" {
		t.Errorf("verify printed %q", out)
	}
	h.fails("twofactor: code rejected: code already used (replay)", "verify", "bob", code)
	if got, want := h.ok("", "status", "bob", "alice"), "bob: enabled\nalice: disabled\n"; got != want {
		t.Errorf("status = %q, want %q", got, want)
	}
	h.fails(`twofactor: user "nobody" does not exist`, "disable", "bob", "nobody")
	codes := strings.Fields(h.ok("", "backup-codes", "bob"))
	if len(codes) != 10 {
		t.Errorf("%d backup codes", len(codes))
	}
	h.ok("", "disable", "bob")
	if got, want := h.ok("", "status", "bob", "alice"), "bob: disabled\nalice: disabled\n"; got != want {
		t.Errorf("after disable: status = %q, want %q", got, want)
	}
	if got := h.ok("", "user", "list"); !strings.Contains(got, "alice") || !strings.Contains(got, "bob") {
		t.Errorf("user list:\n%s", got)
	}
}
