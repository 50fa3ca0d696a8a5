package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// checkpointEvery is how often the checkpointer copies the WAL back into
// the database file.
const checkpointEvery = 50 * time.Millisecond

// checkpointer copies committed WAL frames back into the database on a
// connection of its own, so that no request waits for it. A PASSIVE
// checkpoint neither blocks nor waits for the writer or the readers: it
// copies what no reader still needs and leaves the rest for the next round;
// the writer starts the WAL over once everything in it has been copied.
// Measured under 64 concurrent clients (docs/BENCHMARKS.md), checkpoints
// run by the writer at its commit put 40–70 ms stalls in the latency tail.
type checkpointer struct {
	db   *sql.DB
	quit chan struct{}
	wg   sync.WaitGroup
	once sync.Once
	err  error
}

func startCheckpointer(db *sql.DB, every time.Duration) *checkpointer {
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	c := &checkpointer{db: db, quit: make(chan struct{})}
	c.wg.Add(1)
	go c.loop(every)
	return c
}

func (c *checkpointer) loop(every time.Duration) {
	defer c.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.quit:
			return
		case <-t.C:
			// A failure (the database busy or closing) is retried next
			// round; the writer's backstop bounds the WAL meanwhile.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, _ = c.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
			cancel()
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
