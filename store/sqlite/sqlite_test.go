package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

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
