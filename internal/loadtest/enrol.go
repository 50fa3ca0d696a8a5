package loadtest

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/otp"
	"github.com/twofactor/twofactor/password"
	"github.com/twofactor/twofactor/secret"
)

// Enrolment methods.
const (
	// EnrolBulk writes users and devices in large multi-row inserts.
	EnrolBulk = "bulk"
	// EnrolCore creates each user through the store and its device through
	// Service.ImportTOTP, one at a time.
	EnrolCore = "core"
)

// LoadPassword is the password of every enrolled user.
const LoadPassword = "load test password"

// user is an enrolled user whose codes the clients send.
type user struct {
	id   string
	name string
	key  []byte
	// last is the last time step used (−1: none); the device's drift (the
	// offset of the last match from the server's time step, which centres
	// the next window) is known to be between dlo and dhi; tokens are the
	// user's unused login challenges. Only the client holding the user
	// touches them.
	last     int64
	dlo, dhi int64
	tokens   []string
	// after is the drift range once the step handed out last is accepted.
	afterLo, afterHi int64
}

// keyOf derives user number i's TOTP key from the run's seed.
func keyOf(seed []byte, i int) []byte {
	m := hmac.New(sha256.New, seed)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	m.Write(b[:])
	return m.Sum(nil)[:20]
}

// userName is user number i's name.
func userName(i int) string { return fmt.Sprintf("load%07d", i) }

// idAlphabet and idLength make ids like the core's (130 random bits in
// lower-case base32).
const (
	idAlphabet = "abcdefghijklmnopqrstuvwxyz234567"
	idLength   = 26
)

func newID() (string, error) { return secret.RandomString(rand.Reader, idAlphabet, idLength) }

// deviceSecretAAD binds a sealed device key to its row, as the core does
// (a key sealed for another row does not open).
func deviceSecretAAD(deviceID string) secret.AAD {
	return secret.AAD{Table: "devices", Column: "secret", Row: deviceID}
}

// activeIndex returns which of n users are the active ones: active of
// them, spread evenly.
func activeIndex(n, active int) map[int]int {
	idx := make(map[int]int, active)
	for j := 0; j < active; j++ {
		idx[int(int64(j)*int64(n)/int64(active))] = j
	}
	return idx
}

// enrolTarget is what enrolment writes to.
type enrolTarget struct {
	db       *sql.DB // the store's writer pool
	numbered bool    // PostgreSQL placeholders ($1…)
	parallel int     // concurrent batches
	keys     *secret.Keyring
	svc      *twofactor.Service
	store    twofactor.Store
}

// enrol creates n users with TOTP devices and returns the active ones.
func enrol(ctx context.Context, t enrolTarget, method string, n, active int, seed []byte, logf func(string, ...any)) ([]*user, error) {
	hash, err := password.Hash(LoadPassword, password.DefaultParams, rand.Reader)
	if err != nil {
		return nil, err
	}
	idx := activeIndex(n, active)
	users := make([]*user, active)
	now := time.Now()
	switch method {
	case EnrolCore:
		for i := 0; i < n; i++ {
			u, err := enrolOne(ctx, t, i, seed, hash, now)
			if err != nil {
				return nil, err
			}
			if j, ok := idx[i]; ok {
				users[j] = u
			}
			if (i+1)%10000 == 0 {
				logf("enrolled %d users", i+1)
			}
		}
	case EnrolBulk:
		if err := enrolBulk(ctx, t, n, seed, hash, now, func(i int, id string) {
			if j, ok := idx[i]; ok {
				users[j] = &user{id: id, name: userName(i), key: keyOf(seed, i), last: -1}
			}
		}, logf); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown enrolment method %q (want %s or %s)", method, EnrolBulk, EnrolCore)
	}
	return users, nil
}

// enrolOne creates user i through the store and its device through the
// core service.
func enrolOne(ctx context.Context, t enrolTarget, i int, seed []byte, hash string, now time.Time) (*user, error) {
	id, err := newID()
	if err != nil {
		return nil, err
	}
	rec := &twofactor.UserRecord{User: twofactor.User{ID: id, Username: userName(i), Active: true, CreatedAt: now,
		PasswordChangedAt: now}, PasswordHash: hash}
	if err := t.store.CreateUser(ctx, rec); err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	key := keyOf(seed, i)
	if _, err := t.svc.ImportTOTP(ctx, twofactor.OperatorActor(id), twofactor.TOTPSpec{Key: key}, rec.Username); err != nil {
		return nil, fmt.Errorf("import TOTP: %w", err)
	}
	return &user{id: id, name: rec.Username, key: key, last: -1}, nil
}

// bulkStatement is how many users one multi-row INSERT writes (20 columns
// per device row: 10,000 parameters, under both databases' limits), and
// bulkTx how many one transaction writes.
const (
	bulkStatement = 500
	bulkTx        = 10000
)

// enrolBulk writes n users and their devices in batches; seen is called
// with each user's number and id.
func enrolBulk(ctx context.Context, t enrolTarget, n int, seed []byte, hash string, now time.Time,
	seen func(i int, id string), logf func(string, ...any)) error {
	type batch struct{ from, to int }
	batches := make(chan batch)
	errc := make(chan error, t.parallel)
	var mu sync.Mutex
	done := 0
	var wg sync.WaitGroup
	for w := 0; w < t.parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				ids, err := insertBatch(ctx, t, b.from, b.to, seed, hash, now)
				if err != nil {
					errc <- err
					for range batches { // drain
					}
					return
				}
				mu.Lock()
				for k, id := range ids {
					seen(b.from+k, id)
				}
				before := done / 100000
				done += b.to - b.from
				if done/100000 != before {
					logf("enrolled %d users", done)
				}
				mu.Unlock()
			}
		}()
	}
	for from := 0; from < n; from += bulkTx {
		batches <- batch{from, min(from+bulkTx, n)}
	}
	close(batches)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// insertBatch writes users from..to−1 and their devices in one transaction.
func insertBatch(ctx context.Context, t enrolTarget, from, to int, seed []byte, hash string, now time.Time) ([]string, error) {
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	if !t.numbered {
		// A larger page cache for the enrolment's connection: the random
		// ids spread the inserts over the whole of each index.
		if _, err := tx.ExecContext(ctx, "PRAGMA cache_size = -262144"); err != nil {
			return nil, err
		}
	}
	ids := make([]string, 0, to-from)
	for lo := from; lo < to; lo += bulkStatement {
		part, err := insertRows(ctx, t, tx, lo, min(lo+bulkStatement, to), seed, hash, now)
		if err != nil {
			return nil, err
		}
		ids = append(ids, part...)
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return ids, nil
}

// insertRows writes users from..to−1 and their devices with two multi-row
// statements.
func insertRows(ctx context.Context, t enrolTarget, tx *sql.Tx, from, to int, seed []byte, hash string, now time.Time) ([]string, error) {
	us := now.UnixMicro()
	var uargs, dargs []any
	ids := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		uid, err := newID()
		if err != nil {
			return nil, err
		}
		did, err := newID()
		if err != nil {
			return nil, err
		}
		sealed, err := t.keys.Seal(keyOf(seed, i), deviceSecretAAD(did))
		if err != nil {
			return nil, err
		}
		ids = append(ids, uid)
		// id, username, email, password_hash, password_changed_at, staff, active, created_at
		uargs = append(uargs, uid, userName(i), "", hash, us, false, true, us)
		// id, user_id, kind, name, confirmed, is_primary, created_at, last_used_at, secret, algorithm,
		// digits, step, t0, tolerance, drift, counter, destination, data, fail_count, locked_until
		dargs = append(dargs, did, uid, string(twofactor.KindTOTP), "Authenticator app", true, true, us, int64(0),
			sealed, otp.SHA1.String(), 6, int64(30), int64(0), 1, int64(0), int64(-1), "", nil, 0, int64(0))
	}
	rows := to - from
	if _, err := tx.ExecContext(ctx, multiInsert(t.numbered, "twofactor_users",
		"id, username, email, password_hash, password_changed_at, staff, active, created_at", 8, rows), uargs...); err != nil {
		return nil, fmt.Errorf("insert users: %w", err)
	}
	if _, err := tx.ExecContext(ctx, multiInsert(t.numbered, "twofactor_devices",
		"id, user_id, kind, name, confirmed, is_primary, created_at, last_used_at, secret, algorithm, "+
			"digits, step, t0, tolerance, drift, counter, destination, data, fail_count, locked_until", 20, rows), dargs...); err != nil {
		return nil, fmt.Errorf("insert devices: %w", err)
	}
	return ids, nil
}

// multiInsert returns an INSERT of rows rows of cols values each.
func multiInsert(numbered bool, table, columns string, cols, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + columns + ") VALUES ")
	n := 0
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := 0; c < cols; c++ {
			if c > 0 {
				b.WriteString(", ")
			}
			n++
			if numbered {
				b.WriteString("$" + strconv.Itoa(n))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// step is the TOTP time step of t (30 seconds, t0 0).
func step(t time.Time) int64 { return t.Unix() / 30 }

// code is the user's TOTP code for time step s.
func (u *user) code(s int64) string {
	return otp.Format(otp.HOTP(u.key, uint64(s), 6, otp.SHA1), 6)
}

// nextStep returns the user's next unused step that the server accepts at
// now, or false when the user has used every step valid now. The server
// accepts steps T+d−1 … T+d+1 at its time step T with the device's drift
// d, after the last used one, and the user sends none past T+1; in the last second of a window T may be
// the next step by the time the request arrives, so only the steps valid
// at both are sent, and the drift after the match is known to within one.
func (u *user) nextStep(now time.Time) (int64, bool) {
	t := step(now)
	tmax := t
	if now.Unix()%30 == 29 {
		tmax = t + 1
	}
	// Never past T+1, the newest code an authenticator app shows: each
	// match at offset +1 moves the drift (and the window) one step
	// further, so the server would keep taking future steps.
	lo, hi := tmax+u.dhi-1, min(t+u.dlo+1, t+1)
	s := max(u.last+1, lo)
	u.afterLo, u.afterHi = s-tmax, s-t
	return s, s <= hi
}

// accepted records that the step handed out last was accepted.
func (u *user) accepted(s int64) {
	u.last, u.dlo, u.dhi = s, u.afterLo, u.afterHi
}

// sanityCheck verifies the current code of the first active user that has
// one through the core, proving the rows written are what the core
// expects.
func sanityCheck(ctx context.Context, svc *twofactor.Service, users []*user) error {
	for _, u := range users {
		s, ok := u.nextStep(time.Now())
		if !ok {
			continue
		}
		if _, err := svc.Verify(ctx, u.id, u.code(s), ""); err != nil {
			return fmt.Errorf("the core does not verify an enrolled user's code: %w", err)
		}
		u.accepted(s)
		return nil
	}
	return errors.New("every active user has used every code valid now: wait for the next 30-second window")
}
