package sqlstore

import (
	"context"
	"database/sql"
)

// Statements are prepared once per pool and reused: parsing SQL dominated
// the cost of a verification before (each query was prepared anew).

// stmtKey identifies a prepared statement: the pool it belongs to and its
// text (with ? placeholders).
type stmtKey struct {
	db    *sql.DB
	query string
}

// prepared returns the cached statement for query on db, preparing it once.
func (s *Store) prepared(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	key := stmtKey{db, query}
	if st, ok := s.stmts.Load(key); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.PrepareContext(ctx, s.q(query))
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(key, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// runner runs statements on a pool or inside a transaction.
type runner struct {
	s  *Store
	db *sql.DB
	tx *sql.Tx
}

func (s *Store) read() runner         { return runner{s: s, db: s.r} }
func (s *Store) write() runner        { return runner{s: s, db: s.w} }
func (s *Store) in(tx *sql.Tx) runner { return runner{s: s, db: s.w, tx: tx} }

// stmt returns the prepared statement for query. Inside a transaction a
// statement not cached yet is prepared on the transaction alone and queued
// for caching after it ends: preparing on the pool would wait for a
// connection, and the SQLite writer pool's only connection is the one the
// transaction holds.
func (r runner) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if r.tx == nil {
		return r.s.prepared(ctx, r.db, query)
	}
	if st, ok := r.s.stmts.Load(stmtKey{r.db, query}); ok {
		return r.tx.StmtContext(ctx, st.(*sql.Stmt)), nil
	}
	r.s.pending.Store(query, struct{}{})
	return r.tx.PrepareContext(ctx, r.s.q(query))
}

// preparePending caches the statements first seen inside transactions.
// Errors are ignored: the statement is simply prepared again next time.
func (s *Store) preparePending(ctx context.Context) {
	s.pending.Range(func(k, _ any) bool {
		s.pending.Delete(k)
		_, _ = s.prepared(ctx, s.w, k.(string))
		return true
	})
}

// batched reports whether a statement of r is a job of the group commit:
// a write outside a transaction, when the store batches writes.
func (r runner) batched() bool { return r.tx == nil && r.s.batch != nil && r.db == r.s.w }

func (r runner) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if r.batched() {
		var res sql.Result
		err := r.s.batch.run(ctx, true, func(tx *sql.Tx) error {
			var err error
			res, err = r.s.in(tx).exec(ctx, query, args...)
			return err
		})
		r.s.preparePending(ctx)
		return res, err
	}
	st, err := r.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// query runs a query that returns rows. It is for reads and for statements
// inside a transaction: rows cannot outlive a job of the group commit, so a
// write returning rows outside a transaction must use tx.
func (r runner) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := r.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// row is a single-row result that may carry a preparation error, or, for
// a job of the group commit, the statement to run when it is scanned.
type row struct {
	r   *sql.Row
	err error
	job func(dest ...any) error
}

// Scan implements the scanner used by the scan helpers.
func (r row) Scan(dest ...any) error {
	if r.job != nil {
		return r.job(dest...)
	}
	if r.err != nil {
		return r.err
	}
	return r.r.Scan(dest...)
}

func (r runner) queryRow(ctx context.Context, query string, args ...any) row {
	if r.batched() {
		return row{job: func(dest ...any) error {
			err := r.s.batch.run(ctx, true, func(tx *sql.Tx) error {
				return r.s.in(tx).queryRow(ctx, query, args...).Scan(dest...)
			})
			r.s.preparePending(ctx)
			return err
		}}
	}
	st, err := r.stmt(ctx, query)
	if err != nil {
		return row{err: err}
	}
	return row{r: st.QueryRowContext(ctx, args...)}
}
