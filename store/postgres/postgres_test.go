package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/internal/pgtest"
	"github.com/twofactor/twofactor/store/postgres"
	"github.com/twofactor/twofactor/store/storetest"
)

func open(t *testing.T) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.Fresh(t))
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
	if _, err := s.DB().Exec("INSERT INTO twofactor_schema (version) VALUES ($1)", latest+1); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); !errors.Is(err, twofactor.ErrSchemaTooNew) {
		t.Fatalf("Migrate on a newer schema: %v, want ErrSchemaTooNew", err)
	}
}

// TestConcurrentMigrate starts several stores on one empty schema at once,
// as several instances starting together would: the advisory lock lets one
// migrate and the others find the work done.
func TestConcurrentMigrate(t *testing.T) {
	url := pgtest.Fresh(t)
	errs := make(chan error, 5)
	for i := 0; i < 5; i++ {
		go func() {
			s, err := postgres.Open(context.Background(), url)
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			errs <- s.Migrate(context.Background())
		}()
	}
	for i := 0; i < 5; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	cases := []struct{ url, want string }{
		{"postgres://user@127.0.0.1:1/db?connect_timeout=2", "connect to 127.0.0.1:1/db"},
		{"postgres://%zz", "invalid database URL"},
		{"postgres://h/db?sslmode=bogus", "invalid database URL"},
	}
	for _, c := range cases {
		_, err := postgres.Open(context.Background(), c.url)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%q) = %v, want an error containing %q", c.url, err, c.want)
		}
	}
}
