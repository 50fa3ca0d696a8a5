package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// Group commit, for a database with a single writer connection (SQLite).
//
// Every write of the store — a transaction of several statements or one
// statement — is a job. Jobs run one at a time on the writer connection, as
// they did before, but consecutive jobs share one database transaction:
// each job runs inside a savepoint of its own (a failed job is rolled back
// to it and the others are kept), and the transaction commits when no
// other job is waiting, or after maxBatch jobs. A caller returns only after
// the commit that made its job durable, so what it observes is exactly
// what it observed with a transaction of its own: its change is committed
// when it returns, and a job sees every job before it. Under concurrent
// load a commit — the WAL frames written for every page a job dirtied, the
// most expensive step of a small write — is shared by many jobs, and a
// page dirtied by several jobs (the tail of the audit table, a session
// index leaf) is written once.
//
// If the commit fails, every job of the batch fails with its error.

// maxBatch bounds the jobs that share a commit, so that callers waiting
// for theirs are not kept waiting by an endless stream of new jobs.
const maxBatch = 64

// batcher runs jobs on the writer pool with group commit.
type batcher struct {
	db *sql.DB
	// benign reports whether a failed single statement left the
	// transaction as it was (no row, a uniqueness violation). Any other
	// failure may have ended the transaction (SQLite rolls back the whole
	// transaction on an interrupt, a full disk, an I/O error), so the
	// batch is given up.
	benign func(error) bool
	// committed, if set, is told of every commit that succeeded.
	committed func()
	waiting   atomic.Int32 // jobs waiting for mu

	mu   sync.Mutex
	tx   *sql.Tx        // the open batch transaction, or nil
	done []chan<- error // jobs of the open transaction waiting for its commit
}

// run runs fn as one job: atomically, and durably when it returns nil.
// single says fn runs a single statement, which SQLite already makes
// atomic on its own (a failed statement changes nothing), so it needs no
// savepoint.
func (b *batcher) run(ctx context.Context, single bool, fn func(tx *sql.Tx) error) error {
	b.waiting.Add(1)
	b.mu.Lock()
	b.waiting.Add(-1)
	if b.tx == nil {
		// The transaction outlives the caller that opens it: it must not
		// end with that caller's context.
		tx, err := b.db.BeginTx(context.WithoutCancel(ctx), nil)
		if err != nil {
			b.mu.Unlock()
			return fmt.Errorf("begin: %w", err)
		}
		b.tx = tx
	}
	err, broken := b.job(ctx, single, fn)
	var wait chan error
	switch {
	case broken != nil:
		// The job could not be undone alone: give up the whole batch.
		_ = b.tx.Rollback()
		b.finish(fmt.Errorf("batch rolled back: %w", broken))
		if err == nil {
			err = broken
		}
	case err == nil:
		wait = make(chan error, 1)
		b.done = append(b.done, wait)
	}
	if b.tx != nil && (b.waiting.Load() == 0 || len(b.done) >= maxBatch) {
		err := b.tx.Commit()
		if err != nil {
			err = fmt.Errorf("commit: %w", err)
		} else if b.committed != nil {
			b.committed()
		}
		b.finish(err)
	}
	b.mu.Unlock()
	if err != nil {
		return err
	}
	return <-wait
}

// job runs fn in the open transaction. err is fn's failure, after which
// the transaction is as before the job; broken is set when that could not
// be ensured.
func (b *batcher) job(ctx context.Context, single bool, fn func(tx *sql.Tx) error) (err, broken error) {
	if single {
		err := fn(b.tx)
		if err != nil && (ctx.Err() != nil || !b.benign(err)) {
			return err, err
		}
		return err, nil
	}
	if _, err := b.tx.ExecContext(ctx, "SAVEPOINT job"); err != nil {
		return fmt.Errorf("savepoint: %w", err), nil
	}
	bg := context.WithoutCancel(ctx)
	if err := fn(b.tx); err != nil {
		// ROLLBACK TO fails when the transaction is gone (interrupted by a
		// cancelled context, or ended by SQLite on an I/O error).
		if _, rerr := b.tx.ExecContext(bg, "ROLLBACK TO job"); rerr != nil {
			return err, errors.Join(err, rerr)
		}
		if _, rerr := b.tx.ExecContext(bg, "RELEASE job"); rerr != nil {
			return err, errors.Join(err, rerr)
		}
		return err, nil
	}
	if _, err := b.tx.ExecContext(bg, "RELEASE job"); err != nil {
		return err, err
	}
	return nil, nil
}

// finish ends the open transaction, telling its jobs err.
func (b *batcher) finish(err error) {
	for _, c := range b.done {
		c <- err
	}
	b.tx, b.done = nil, nil
}
