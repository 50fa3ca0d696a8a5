package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// openBatcher returns a batcher on a new SQLite database with a table
// t(k TEXT PRIMARY KEY), and the pool it writes through.
func openBatcher(t *testing.T) (*batcher, *sql.DB) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "b.db")+"?_txlock=immediate&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec("CREATE TABLE t (k TEXT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	return &batcher{db: db, benign: func(err error) bool {
		return errors.Is(err, sql.ErrNoRows) || strings.Contains(err.Error(), "UNIQUE constraint failed")
	}}, db
}

func keys(t *testing.T, db *sql.DB) map[string]bool {
	t.Helper()
	rows, err := db.Query("SELECT k FROM t")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		out[k] = true
	}
	return out
}

var errJob = errors.New("the job fails")

// TestBatchJobsAreAtomic: of many concurrent jobs sharing commits, the
// failed ones leave nothing and every other one is committed when it
// returns; a failed single statement does not disturb the batch.
func TestBatchJobsAreAtomic(t *testing.T) {
	b, db := openBatcher(t)
	ctx := context.Background()
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i % 4 {
			case 0: // two inserts, then a failure: both undone
				errs[i] = b.run(ctx, false, func(tx *sql.Tx) error {
					for _, k := range []string{fmt.Sprint("a", i), fmt.Sprint("b", i)} {
						if _, err := tx.Exec("INSERT INTO t (k) VALUES (?)", k); err != nil {
							return err
						}
					}
					return errJob
				})
			case 1: // a duplicate key in a single statement
				errs[i] = b.run(ctx, true, func(tx *sql.Tx) error {
					_, err := tx.Exec("INSERT INTO t (k) VALUES ('dup')")
					return err
				})
			default: // two inserts that succeed
				errs[i] = b.run(ctx, false, func(tx *sql.Tx) error {
					for _, k := range []string{fmt.Sprint("a", i), fmt.Sprint("b", i)} {
						if _, err := tx.Exec("INSERT INTO t (k) VALUES (?)", k); err != nil {
							return err
						}
					}
					return nil
				})
			}
			if errs[i] == nil {
				// Committed when run returns: another connection sees it.
				var c int
				if err := db.QueryRow("SELECT COUNT(*) FROM t").Scan(&c); err != nil || c == 0 {
					t.Errorf("job %d: nothing committed after it returned (%v)", i, err)
				}
			}
		}()
	}
	wg.Wait()
	got := keys(t, db)
	dups := 0
	for i := 0; i < n; i++ {
		switch i % 4 {
		case 0:
			if !errors.Is(errs[i], errJob) || got[fmt.Sprint("a", i)] || got[fmt.Sprint("b", i)] {
				t.Errorf("failed job %d: %v, rows left %v %v", i, errs[i], got[fmt.Sprint("a", i)], got[fmt.Sprint("b", i)])
			}
		case 1:
			if errs[i] == nil {
				dups++
			}
		default:
			if errs[i] != nil || !got[fmt.Sprint("a", i)] || !got[fmt.Sprint("b", i)] {
				t.Errorf("job %d: %v, rows %v %v", i, errs[i], got[fmt.Sprint("a", i)], got[fmt.Sprint("b", i)])
			}
		}
	}
	if dups != 1 || !got["dup"] {
		t.Errorf("%d inserts of one key succeeded, want 1", dups)
	}
}

// TestBatchBroken: a job that cannot be undone alone (here it ends the
// transaction itself) makes the whole batch fail, and the jobs waiting for
// its commit are told so instead of being reported committed.
func TestBatchBroken(t *testing.T) {
	b, db := openBatcher(t)
	ctx := context.Background()
	b.waiting.Add(1) // pretend a job is waiting, so the first one does not commit
	first := make(chan error, 1)
	go func() {
		first <- b.run(ctx, false, func(tx *sql.Tx) error {
			_, err := tx.Exec("INSERT INTO t (k) VALUES ('first')")
			return err
		})
	}()
	// Wait until the first job ran and left its transaction open.
	for {
		b.mu.Lock()
		n := len(b.done)
		b.mu.Unlock()
		if n == 1 {
			break
		}
	}
	b.waiting.Add(-1)
	err := b.run(ctx, false, func(tx *sql.Tx) error {
		if _, err := tx.Exec("ROLLBACK"); err != nil {
			return err
		}
		return errJob
	})
	if !errors.Is(err, errJob) {
		t.Errorf("the breaking job: %v", err)
	}
	if err := <-first; err == nil || !strings.Contains(err.Error(), "batch rolled back") {
		t.Errorf("the job before it: %v, want the batch's failure", err)
	}
	if got := keys(t, db); len(got) != 0 {
		t.Errorf("rows %v, want none", got)
	}
	// The batcher works again afterwards.
	if err := b.run(ctx, true, func(tx *sql.Tx) error {
		_, err := tx.Exec("INSERT INTO t (k) VALUES ('after')")
		return err
	}); err != nil || !keys(t, db)["after"] {
		t.Errorf("after a broken batch: %v", err)
	}
}
