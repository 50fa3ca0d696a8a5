// Package sqlstore implements twofactor.Store over database/sql for both
// SQLite and PostgreSQL. The two dialects share every query; what differs
// (placeholders, migrations, per-user locking, error codes, connection
// pools) is described by a Dialect supplied by store/sqlite and
// store/postgres.
//
// Times are stored as Unix microseconds (UTC) in integer columns, so both
// databases compare and order them the same way; 0 stands for "never".
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twofactor/twofactor"
)

// Dialect describes what differs between the databases.
type Dialect struct {
	// Name is "sqlite" or "postgres".
	Name string
	// Numbered reports whether placeholders are $1, $2… (PostgreSQL)
	// rather than ?.
	Numbered bool
	// Migrations holds NNNN_name.sql files, applied in order.
	Migrations fs.FS
	// LockMigrations, if set, serialises migrations across processes
	// inside the migration transaction.
	LockMigrations func(ctx context.Context, tx *sql.Tx) error
	// LockUser, if set, serialises changes to one user's devices inside tx
	// (PostgreSQL advisory lock). SQLite needs none: its single writer
	// connection and IMMEDIATE transactions serialise every write.
	LockUser func(ctx context.Context, tx *sql.Tx, userID string) error
	// IsUniqueViolation reports whether err is a uniqueness violation.
	IsUniqueViolation func(err error) bool
	// GroupCommit makes consecutive writes share a transaction (see
	// batcher); for a writer pool of one connection (SQLite) only.
	GroupCommit bool
	// Committed, if set, is called after each group commit that succeeded
	// (with GroupCommit only). It must not block.
	Committed func()
}

// Store implements twofactor.Store.
type Store struct {
	w, r    *sql.DB // writer and reader pools (the same pool for PostgreSQL)
	d       Dialect
	rebound sync.Map // query with ? → query in the dialect's placeholders
	stmts   sync.Map // stmtKey → *sql.Stmt
	pending sync.Map // query → struct{}: seen in a transaction, not cached yet
	batch   *batcher // group commit of the writes, or nil
}

var _ twofactor.Store = (*Store)(nil)

// New returns a Store using w for writes and r for reads (they may be the
// same *sql.DB).
func New(w, r *sql.DB, d Dialect) *Store {
	s := &Store{w: w, r: r, d: d}
	if d.GroupCommit {
		s.batch = &batcher{db: w, committed: d.Committed, benign: func(err error) bool {
			return errors.Is(err, sql.ErrNoRows) || d.IsUniqueViolation(err)
		}}
	}
	return s
}

// Close closes the prepared statements and the pools.
func (s *Store) Close() error {
	s.stmts.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// Ping checks both pools.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return err
	}
	return s.r.PingContext(ctx)
}

// DB returns the writer pool, for tests and tools that need raw access.
func (s *Store) DB() *sql.DB { return s.w }

// q rewrites ? placeholders for the dialect, caching the result.
func (s *Store) q(query string) string {
	if !s.d.Numbered {
		return query
	}
	if v, ok := s.rebound.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	out := b.String()
	s.rebound.Store(query, out)
	return out
}

// tx runs fn in a write transaction, committing if it returns nil.
func (s *Store) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.batch != nil {
		defer s.preparePending(ctx)
		return s.batch.run(ctx, false, fn)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer s.preparePending(ctx)
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (s *Store) lockUser(ctx context.Context, tx *sql.Tx, userID string) error {
	if s.d.LockUser == nil {
		return nil
	}
	return s.d.LockUser(ctx, tx, userID)
}

func (s *Store) conflict(err error) error {
	if err != nil && s.d.IsUniqueViolation(err) {
		return fmt.Errorf("%w: %v", twofactor.ErrConflict, err)
	}
	return err
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return twofactor.ErrNotFound
	}
	return err
}

// ---------------------------------------------------------------------------
// Migrations

// migration is one numbered schema change.
type migration struct {
	version int
	name    string
	sql     string
}

func (s *Store) migrations() ([]migration, error) {
	entries, err := fs.ReadDir(s.d.Migrations, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		v, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", name)
		}
		body, err := fs.ReadFile(s.d.Migrations, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migrations must be numbered 1, 2, 3…: %s", m.name)
		}
	}
	return ms, nil
}

// Latest returns the schema version this build knows.
func (s *Store) Latest() (int, error) {
	ms, err := s.migrations()
	return len(ms), err
}

// Version returns the database's schema version (0 for an empty database).
func (s *Store) Version(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := s.r.QueryRowContext(ctx, "SELECT MAX(version) FROM twofactor_schema").Scan(&v)
	if err != nil {
		// No table yet: an empty database.
		if exists, e := s.schemaTableExists(ctx); e == nil && !exists {
			return 0, nil
		}
		return 0, err
	}
	return int(v.Int64), nil
}

func (s *Store) schemaTableExists(ctx context.Context) (bool, error) {
	var q string
	switch s.d.Name {
	case "postgres":
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'twofactor_schema'"
	default:
		q = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'twofactor_schema'"
	}
	var n int
	err := s.r.QueryRowContext(ctx, q).Scan(&n)
	return n > 0, err
}

// Migrate implements twofactor.Store. All pending migrations run in one
// transaction, so a failure leaves the schema as it was.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := s.migrations()
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if s.d.LockMigrations != nil {
			if err := s.d.LockMigrations(ctx, tx); err != nil {
				return fmt.Errorf("lock migrations: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS twofactor_schema (version INTEGER NOT NULL)"); err != nil {
			return fmt.Errorf("create schema table: %w", err)
		}
		var cur sql.NullInt64
		if err := tx.QueryRowContext(ctx, "SELECT MAX(version) FROM twofactor_schema").Scan(&cur); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if int(cur.Int64) > len(ms) {
			return fmt.Errorf("%w (database version %d, this build knows up to %d)", twofactor.ErrSchemaTooNew, cur.Int64, len(ms))
		}
		for _, m := range ms[cur.Int64:] {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			if _, err := s.in(tx).exec(ctx, "INSERT INTO twofactor_schema (version) VALUES (?)", m.version); err != nil {
				return fmt.Errorf("record migration %s: %w", m.name, err)
			}
		}
		return nil
	})
}
