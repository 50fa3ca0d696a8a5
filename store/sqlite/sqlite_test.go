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
	"github.com/twofactor/twofactor/store/internal/sqlstore"
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
	// inFile counts the user in the database file alone: immutable=1
	// makes SQLite ignore the WAL (and never look at the file again for
	// changes, so each look opens it anew).
	inFile := func() (int, error) {
		ro, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?immutable=1")
		if err != nil {
			return 0, err
		}
		defer ro.Close()
		var n int
		err = ro.QueryRow("SELECT count(*) FROM twofactor_users WHERE username = 'ckpt'").Scan(&n)
		return n, err
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		n, err := inFile()
		if err == nil && n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the user is not in the database file 10 s after its commit (count %d, %v)", n, err)
		}
	}
	// Close stops it, and closing twice is harmless.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCleanupUsesIndexes: every statement the periodic cleanup runs finds
// its rows through an index, never by reading a whole table (a million
// devices took 0.4 s on the writer). The statements are the store's own.
func TestCleanupUsesIndexes(t *testing.T) {
	s := open(t)
	defer s.Close()
	for _, q := range sqlstore.CleanupStatements() {
		rows, err := s.DB().Query("EXPLAIN QUERY PLAN "+q, 1)
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
