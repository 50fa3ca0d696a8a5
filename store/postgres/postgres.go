// Package postgres is the PostgreSQL store of twofactor (through
// github.com/jackc/pgx/v5), for several server instances sharing one
// database: throttling, replay protection and sessions are then shared.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/store/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a twofactor.Store on a PostgreSQL database.
type Store struct {
	*sqlstore.Store
}

var _ twofactor.Store = (*Store)(nil)

// migrationLockID is the advisory lock that serialises migrations of
// instances starting at the same time.
const migrationLockID = 0x7477_6f66_6163 // "twofac"

// Open connects to the database at url (postgres://user:pass@host:port/db…).
// It does not migrate: call Migrate.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: invalid database URL: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect to %s:%d/%s: %w", cfg.Host, cfg.Port, cfg.Database, err)
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	return &Store{sqlstore.New(db, db, sqlstore.Dialect{
		Name:       "postgres",
		Numbered:   true,
		Migrations: sub,
		LockMigrations: func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLockID))
			return err
		},
		// Changes to one user's devices (primary promotion, confirmation,
		// disabling) are serialised per user for the transaction.
		LockUser: func(ctx context.Context, tx *sql.Tx, userID string) error {
			_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", userID)
			return err
		},
		IsUniqueViolation: isUniqueViolation,
	})}, nil
}

func isUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}
