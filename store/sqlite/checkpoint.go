package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// checkpointEvery is the shortest time between two checkpoints while the
// database is being written.
const checkpointEvery = 50 * time.Millisecond

// checkpointer copies committed WAL frames back into the database on a
// connection of its own, so that no request waits for it. A PASSIVE
// checkpoint neither blocks nor waits for the writer or the readers: it
// copies what no reader still needs and leaves the rest for the next round;
// the writer starts the WAL over once everything in it has been copied.
// Measured under 64 concurrent clients (docs/BENCHMARKS.md), checkpoints
// run by the writer at its commit put 40–70 ms stalls in the latency tail.
//
// It runs only after commits (the store calls written after each one), at
// most once per interval, so an idle server does no work for it.
type checkpointer struct {
	db    *sql.DB
	dirty chan struct{} // holds a token when a commit came since the last checkpoint
	quit  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
	err   error
}

func newCheckpointer(db *sql.DB) *checkpointer {
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	return &checkpointer{db: db, dirty: make(chan struct{}, 1), quit: make(chan struct{})}
}

// written records a commit; it never blocks.
func (c *checkpointer) written() {
	select {
	case c.dirty <- struct{}{}:
	default:
	}
}

func (c *checkpointer) start(every time.Duration) {
	c.wg.Add(1)
	go c.loop(every)
}

func (c *checkpointer) loop(every time.Duration) {
	defer c.wg.Done()
	for {
		select {
		case <-c.quit:
			return
		case <-c.dirty:
		}
		// A failure (the database busy or closing) is retried after the
		// next commit; the writer's backstop bounds the WAL meanwhile.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, _ = c.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		cancel()
		// Commits during the wait are taken by the next round.
		select {
		case <-c.quit:
			return
		case <-time.After(every):
		}
	}
}

// stop ends the loop and closes the connection; it may be called again.
func (c *checkpointer) stop() error {
	c.once.Do(func() {
		close(c.quit)
		c.wg.Wait()
		c.err = c.db.Close()
	})
	return c.err
}
