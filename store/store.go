// Package store opens the twofactor store named by a database URL:
// "sqlite:PATH" (the default, an embedded file) or "postgres://…".
//
// Applications that know which database they use can import store/sqlite or
// store/postgres directly and link only that driver.
package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/store/postgres"
	"github.com/twofactor/twofactor/store/sqlite"
)

// DefaultURL is the database of a fresh install: a file in the working
// directory.
const DefaultURL = "sqlite:twofactor.db"

// Kind is the database kind of a URL.
type Kind string

// Database kinds.
const (
	SQLite   Kind = "sqlite"
	Postgres Kind = "postgres"
)

// Target is a parsed database URL.
type Target struct {
	Kind Kind
	// Path is the SQLite file (Kind SQLite); DSN the PostgreSQL URL.
	Path string
	DSN  string
}

// Dir returns the directory that holds an SQLite database ("" for
// PostgreSQL); the generated key file lives there.
func (t Target) Dir() string {
	if t.Kind != SQLite {
		return ""
	}
	return filepath.Dir(t.Path)
}

// Parse reads a database URL: "sqlite:PATH", "sqlite://PATH" (PATH relative
// to the working directory, or absolute as in sqlite:///var/lib/x.db), or
// "postgres://…" / "postgresql://…".
func Parse(url string) (Target, error) {
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return Target{Kind: Postgres, DSN: url}, nil
	case strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(url, "sqlite:")
		if strings.HasPrefix(path, "//") {
			path = path[2:]
		}
		if i := strings.IndexAny(path, "?#"); i >= 0 {
			return Target{}, fmt.Errorf("database URL %q: query parameters are not supported for sqlite", url)
		}
		if path == "" || strings.HasSuffix(path, "/") {
			return Target{}, fmt.Errorf("database URL %q: missing file name (use sqlite:twofactor.db)", url)
		}
		if strings.ContainsRune(path, 0) {
			return Target{}, fmt.Errorf("database URL: invalid file name")
		}
		return Target{Kind: SQLite, Path: path}, nil
	case url == "":
		return Target{}, fmt.Errorf("database URL is empty (use %s or postgres://…)", DefaultURL)
	default:
		scheme := url
		if i := strings.Index(url, ":"); i >= 0 {
			scheme = url[:i]
		}
		if len(scheme) > 20 {
			scheme = scheme[:20] + "…"
		}
		return Target{}, fmt.Errorf("database URL: unsupported kind %q (use sqlite:PATH or postgres://…)", scheme)
	}
}

// Open opens the store of t. It does not migrate.
func Open(ctx context.Context, t Target) (twofactor.Store, error) {
	switch t.Kind {
	case SQLite:
		return sqlite.Open(ctx, t.Path)
	case Postgres:
		return postgres.Open(ctx, t.DSN)
	}
	return nil, fmt.Errorf("database URL: unsupported kind %q", t.Kind)
}
