package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/store/sqlite"
	"github.com/twofactor/twofactor/store/storetest"
)

func open(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) twofactor.Store { return open(t) })
}

func TestNewerSchemaRefused(t *testing.T) {
	s := open(t)
	defer s.Close()
	latest, err := s.Latest()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec("INSERT INTO twofactor_schema (version) VALUES (?)", latest+1); err != nil {
		t.Fatal(err)
	}
	err = s.Migrate(context.Background())
	if !errors.Is(err, twofactor.ErrSchemaTooNew) {
		t.Fatalf("Migrate on a newer schema: %v, want ErrSchemaTooNew", err)
	}
	t.Log(err)
}

func TestOpenErrors(t *testing.T) {
	if _, err := sqlite.Open(context.Background(), ""); err == nil {
		t.Fatal("empty path accepted")
	}
	if _, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "missing-dir", "x.db")); err == nil {
		t.Fatal("path in a missing directory accepted")
	}
}

// TestCheckpointer: committed writes reach the database file itself (not
// only the WAL) without any request running a checkpoint — the
// checkpointer copies them in the background. The file is read with
// immutable=1, which ignores the WAL.
func TestCheckpointer(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ckpt.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	u := &twofactor.UserRecord{User: twofactor.User{ID: "u-ckpt", Username: "ckpt", Active: true}}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	ro, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?immutable=1")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		err := ro.QueryRow("SELECT count(*) FROM twofactor_users WHERE username = 'ckpt'").Scan(&n)
		if err == nil && n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the user is not in the database file 10 s after its commit (count %d, %v)", n, err)
		}
		ro.Close()
		if ro, err = sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?immutable=1"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Close stops it, and closing twice is harmless.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCleanupUsesIndexes: every statement the periodic cleanup runs finds
// its rows through an index, never by reading a whole table (a million
// devices took 0.4 s on the writer).
func TestCleanupUsesIndexes(t *testing.T) {
	s := open(t)
	defer s.Close()
	for _, q := range []string{
		"DELETE FROM twofactor_sessions WHERE expires_at <= 1",
		"DELETE FROM twofactor_challenges WHERE expires_at <> 0 AND expires_at <= 1",
		"DELETE FROM twofactor_oauth_refresh_tokens WHERE expires_at <= 1",
		"DELETE FROM twofactor_devices WHERE confirmed = FALSE AND created_at < 1",
		"DELETE FROM twofactor_codes WHERE expires_at <= 1",
		"DELETE FROM twofactor_calls WHERE expires_at <= 1",
		"DELETE FROM twofactor_send_quota WHERE day < 1",
		"DELETE FROM twofactor_webauthn_ceremonies WHERE expires_at <= 1",
	} {
		rows, err := s.DB().Query("EXPLAIN QUERY PLAN " + q)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		for _, p := range plan {
			if strings.HasPrefix(p, "SCAN ") && !strings.Contains(p, "USING") {
				t.Errorf("%s: reads the whole table: %q", q, plan)
			}
		}
	}
}
