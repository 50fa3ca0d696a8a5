// Package sqlite is the embedded SQLite store of twofactor (pure Go, no cgo,
// through modernc.org/sqlite). It is the default of `twofactor serve`.
//
// The database runs in WAL mode with a busy timeout. Writes go through a
// single connection in IMMEDIATE transactions, so concurrent requests queue
// in Go instead of failing with "database is locked", while reads use a pool
// of read-only connections that run alongside the writer. Concurrent writes
// share commits (group commit: each in a savepoint of one transaction,
// every caller answered after the commit), so a write under load costs
// less than a commit of its own (docs/BENCHMARKS.md).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/store/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a twofactor.Store on an SQLite database file.
type Store struct {
	*sqlstore.Store
	ckpt *checkpointer
}

var _ twofactor.Store = (*Store)(nil)

// Open opens (creating if needed) the SQLite database at path. It does not
// migrate: call Migrate.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	dsn := func(readOnly bool) string {
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_pragma", "foreign_keys(1)")
		if readOnly {
			q.Add("_pragma", "query_only(1)")
			// A reader's page cache is emptied whenever another connection
			// has committed since its last read (WAL mode), which under
			// load is before nearly every read: a small cache (128 pages,
			// enough for the deepest index path of any query here) saves
			// memory at no cost in speed.
			q.Add("_pragma", "cache_size(-512)")
		} else {
			q.Set("_txlock", "immediate")
			// Checkpoints are the checkpointer's (below), off the writer's
			// path: an automatic checkpoint runs inside the commit that
			// crosses the threshold and stalls every job of that batch
			// while it copies and syncs the pages. The writer checkpoints
			// itself only as a backstop, when the WAL reaches 20,000 pages
			// (80 MB) because the checkpointer could not keep up.
			q.Add("_pragma", "wal_autocheckpoint(20000)")
		}
		return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	}
	w, err := sql.Open("sqlite", dsn(false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	// The writer connection creates the file and switches it to WAL before
	// any reader opens it.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn(true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxLifetime(0)
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	c, err := sql.Open("sqlite", dsn(false))
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	ckpt := newCheckpointer(c)
	ckpt.start(checkpointEvery)
	return &Store{Store: sqlstore.New(w, r, sqlstore.Dialect{
		Name:              "sqlite",
		Migrations:        sub,
		IsUniqueViolation: isUniqueViolation,
		GroupCommit:       true,
		Committed:         ckpt.written,
	}), ckpt: ckpt}, nil
}

// Close stops the checkpointer and closes the database.
func (s *Store) Close() error {
	return errors.Join(s.ckpt.stop(), s.Store.Close())
}

func isUniqueViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}
