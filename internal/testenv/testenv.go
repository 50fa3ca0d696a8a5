// Package testenv decides, in one place, whether a test that needs something
// outside Go (a command such as oathtool, a PostgreSQL server, Chromium) runs,
// skips or fails.
//
// On a machine with only Go such tests skip with a message naming what to
// provide. With TWOFACTOR_TEST_REQUIRE_ALL=1 (set by CI) a missing component
// fails the test instead, so nothing can skip silently in CI.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// RequireAllVar is the environment variable that turns skips into failures.
const RequireAllVar = "TWOFACTOR_TEST_REQUIRE_ALL"

// PostgresVar is the environment variable holding the PostgreSQL URL for tests.
const PostgresVar = "TWOFACTOR_TEST_POSTGRES"

// RequireAll reports whether every optional component must be present.
func RequireAll() bool { return os.Getenv(RequireAllVar) == "1" }

// Missing skips the test, or fails it when RequireAll is set, saying what is
// missing and how to provide it.
func Missing(t testing.TB, what string) {
	t.Helper()
	if RequireAll() {
		t.Fatalf("%s (required because %s=1)", what, RequireAllVar)
	}
	t.Skip(what)
}

// Command returns the path of the named executable, or skips/fails the test
// when it is not installed. pkg names the Debian package that provides it.
func Command(t testing.TB, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" not found: install the Debian package "+pkg)
	}
	return path
}

// Postgres returns the PostgreSQL URL from TWOFACTOR_TEST_POSTGRES, or
// skips/fails the test when it is not set.
func Postgres(t testing.TB) string {
	t.Helper()
	url := os.Getenv(PostgresVar)
	if url == "" {
		Missing(t, PostgresVar+" is not set: point it at a PostgreSQL database to run this test")
	}
	return url
}
