package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/twofactor/twofactor"
)

// maxBackoffExponent caps the doubling of the throttle wait: after 20
// consecutive failures every further attempt waits factor×2^20 (12 days
// with the default factor of one second). The cap only keeps the arithmetic
// in range; it never shortens a wait an attacker could exploit.
const maxBackoffExponent = 20

// backoff is the SQL for the wait after the failure that brings the count
// to fail_count+1: factor × 2^fail_count microseconds (one placeholder, the
// factor), with fail_count qualified by alias when alias is not "".
func backoff(alias string) string {
	col := "fail_count"
	if alias != "" {
		col = alias + ".fail_count"
	}
	exp := strconv.Itoa(maxBackoffExponent)
	return "CAST(? AS BIGINT) * (CASE WHEN " + col + " >= " + exp + " THEN " + strconv.Itoa(1<<maxBackoffExponent) +
		" ELSE (1 << " + col + ") END)"
}

// Claim queries: each scope is claimed with one conditional write — the
// counter goes up and the wait is set only if the scope is not waiting.
// The database serialises concurrent writes to a row, so of N simultaneous
// guesses only the first is evaluated and the rest are refused without
// counting: an attacker cannot parallelise guesses past the throttle.
//
// The device's row is returned as it is locked for the transaction, so the
// code is checked against exactly what the consumption will compare with.
// Placeholders: device (now, factor, id, user, now); user (id, now, factor,
// now, factor, now).
var (
	claimDeviceQuery = `UPDATE twofactor_devices
		SET fail_count = fail_count + 1, locked_until = CAST(? AS BIGINT) + ` + backoff("") + `
		WHERE id = ? AND user_id = ? AND locked_until <= ?
		RETURNING ` + deviceCols
	claimUserQuery = `INSERT INTO twofactor_user_throttles AS t (user_id, fail_count, locked_until)
		VALUES (?, 1, CAST(? AS BIGINT) + CAST(? AS BIGINT))
		ON CONFLICT (user_id) DO UPDATE SET fail_count = t.fail_count + 1,
			locked_until = CAST(? AS BIGINT) + ` + backoff("t") + `
		WHERE t.locked_until <= ?
		RETURNING fail_count`

	// With a factor of 0 that backoff is off: the attempt still counts,
	// but nothing is ever refused. Writing locked_until = now there would
	// refuse a concurrent request whose clock reading is a little older
	// (another instance, or one that waited for the row lock). Placeholders:
	// device (id, user); user (id).
	claimDeviceUnthrottledQuery = `UPDATE twofactor_devices SET fail_count = fail_count + 1
		WHERE id = ? AND user_id = ?
		RETURNING ` + deviceCols
	claimUserUnthrottledQuery = `INSERT INTO twofactor_user_throttles AS t (user_id, fail_count, locked_until)
		VALUES (?, 1, 0)
		ON CONFLICT (user_id) DO UPDATE SET fail_count = t.fail_count + 1
		RETURNING fail_count`
)

// claim claims an attempt inside tx. Rows are locked device first, then
// user — the order every transaction here uses — so concurrent claims and
// consumptions cannot deadlock on PostgreSQL. When refused it fills res,
// leaves nothing changed and returns the device as stored (nil, ErrNotFound
// for a device that is not the user's).
func (s *Store) claim(ctx context.Context, tx *sql.Tx, a twofactor.Attempt, res *twofactor.AttemptResult) (*twofactor.Device, error) {
	r := s.in(tx)
	now := micros(a.Now)
	if !a.DeviceOnly {
		// The user's claim may fail after the device's has succeeded; the
		// savepoint lets us undo the device's.
		if _, err := tx.ExecContext(ctx, "SAVEPOINT claim"); err != nil {
			return nil, err
		}
	}
	var row row
	if a.DeviceFactor > 0 {
		row = r.queryRow(ctx, claimDeviceQuery, now, a.DeviceFactor.Microseconds(), a.DeviceID, a.UserID, now)
	} else {
		row = r.queryRow(ctx, claimDeviceUnthrottledQuery, a.DeviceID, a.UserID)
	}
	d, err := scanDevice(row)
	if errors.Is(err, twofactor.ErrNotFound) {
		return s.refused(ctx, tx, a, res)
	}
	if err != nil || a.DeviceOnly {
		res.Allowed = err == nil
		return d, err
	}
	var n int
	if a.UserFactor > 0 {
		err = r.queryRow(ctx, claimUserQuery, a.UserID, now, a.UserFactor.Microseconds(), now, a.UserFactor.Microseconds(), now).Scan(&n)
	} else {
		err = r.queryRow(ctx, claimUserUnthrottledQuery, a.UserID).Scan(&n)
	}
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT claim"); err != nil {
			return nil, err
		}
		return s.refused(ctx, tx, a, res)
	}
	if err != nil {
		return nil, err
	}
	res.Allowed = true
	return d, nil
}

// refused reports the later of the device's and the user's waits.
func (s *Store) refused(ctx context.Context, tx *sql.Tx, a twofactor.Attempt, res *twofactor.AttemptResult) (*twofactor.Device, error) {
	d, err := s.deviceOf(ctx, tx, a.UserID, a.DeviceID)
	if err != nil {
		return nil, err // not this user's device
	}
	*res = twofactor.AttemptResult{}
	if d.LockedUntil.After(a.Now) {
		res.RetryAt, res.Failures = d.LockedUntil, d.Failures
	}
	if !a.DeviceOnly {
		var failures int
		var locked int64
		err := s.in(tx).queryRow(ctx, "SELECT fail_count, locked_until FROM twofactor_user_throttles WHERE user_id = ?", a.UserID).Scan(&failures, &locked)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		if t := fromMicros(locked); t.After(a.Now) && t.After(res.RetryAt) {
			res.RetryAt, res.Failures = t, failures
		}
	}
	return d, nil
}

// ClaimAttempt implements twofactor.AttemptStore.
func (s *Store) ClaimAttempt(ctx context.Context, a twofactor.Attempt) (twofactor.AttemptResult, error) {
	var res twofactor.AttemptResult
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := s.claim(ctx, tx, a, &res)
		return err
	})
	return res, err
}

// Verify implements twofactor.AttemptStore.
func (s *Store) Verify(ctx context.Context, v twofactor.Verification) (twofactor.VerifyResult, error) {
	var res twofactor.VerifyResult
	if v.Confirm {
		v.DeviceOnly = true // confirming a device is not a sign-in attempt
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res = twofactor.VerifyResult{}
		if v.Confirm {
			// Confirming may change which device is primary: take the
			// user's lock first, as every device-structure change does, so
			// lock order stays the same everywhere.
			if err := s.lockUser(ctx, tx, v.UserID); err != nil {
				return err
			}
		}
		d, err := s.claim(ctx, tx, v.Attempt, &res.AttemptResult)
		if err != nil {
			return err
		}
		res.Device = d
		if res.Allowed {
			if err := s.checkAndConsume(ctx, tx, v, d, &res); err != nil {
				return err
			}
			if res.Verified && v.Confirm {
				if res.Device, err = s.confirm(ctx, tx, d); err != nil {
					return err
				}
			}
		}
		if v.Events != nil {
			res.Events = v.Events(res.Device, &res)
			return s.appendEvents(ctx, tx, res.Events)
		}
		return nil
	})
	return res, err
}

// checkAndConsume runs the check and, on a match, consumes the code. The
// conditional writes (counter < new, the code row still there) are the
// replay protection: two requests with the same code, on one server or
// many, cannot both succeed.
func (s *Store) checkAndConsume(ctx context.Context, tx *sql.Tx, v twofactor.Verification, d *twofactor.Device, res *twofactor.VerifyResult) error {
	c := v.Check(d)
	if c.Err != nil {
		return c.Err
	}
	if c.Reason != "" {
		res.Reason = c.Reason
		return nil
	}
	var reason string
	var err error
	reset := true // the device's use and throttle still to record
	switch {
	case d.Kind == twofactor.KindStatic:
		reason, err = s.consumeBackupCode(ctx, tx, d, c.CodeHashes)
	case d.Interactive():
		reason, err = s.consumeSentCode(ctx, tx, d, c.CodeHashes, v.Now)
	default:
		reason, err = s.consumeCounter(ctx, tx, d, c, v.Now)
		reset = false
	}
	if err != nil || reason != "" {
		res.Reason = reason
		return err
	}
	if reset {
		if _, err := s.in(tx).exec(ctx, "UPDATE twofactor_devices SET last_used_at = ?, fail_count = 0, locked_until = 0 WHERE id = ?", micros(v.Now), d.ID); err != nil {
			return err
		}
	}
	res.Verified = true
	return resetUserThrottle(ctx, s, tx, v.UserID)
}

// consumeCounter stores the matched counter if it is greater than the stored
// one, or, for an unconditional check (a WebAuthn key that keeps no
// signature count), stores it without comparing. The same statement
// records the use and clears the device's throttle, one write instead of
// two on the path every sign-in takes.
func (s *Store) consumeCounter(ctx context.Context, tx *sql.Tx, d *twofactor.Device, c twofactor.Check, now time.Time) (string, error) {
	var res sql.Result
	var err error
	if c.Unconditional {
		res, err = s.in(tx).exec(ctx, "UPDATE twofactor_devices SET counter = ?, drift = ?, last_used_at = ?, fail_count = 0, locked_until = 0 WHERE id = ?",
			c.Counter, c.Drift, micros(now), d.ID)
	} else {
		res, err = s.in(tx).exec(ctx, "UPDATE twofactor_devices SET counter = ?, drift = ?, last_used_at = ?, fail_count = 0, locked_until = 0 WHERE id = ? AND counter < ?",
			c.Counter, c.Drift, micros(now), d.ID, c.Counter)
	}
	if err != nil {
		return "", err
	}
	if affected(res) == 0 {
		return twofactor.ReasonReplayed, nil
	}
	return "", nil
}

// consumeBackupCode deletes the one backup code among hashes.
func (s *Store) consumeBackupCode(ctx context.Context, tx *sql.Tx, d *twofactor.Device, hashes [][]byte) (string, error) {
	if len(hashes) == 0 {
		return twofactor.ReasonWrong, nil
	}
	args := append([]any{d.ID}, bytesArgs(hashes)...)
	res, err := s.in(tx).exec(ctx, "DELETE FROM twofactor_backup_codes WHERE device_id = ? AND code_hash IN ("+placeholders(len(hashes))+")", args...)
	if err != nil {
		return "", err
	}
	if affected(res) == 0 {
		return twofactor.ReasonWrong, nil
	}
	return "", nil
}

// consumeSentCode deletes the device's pending code if it is among hashes
// and has not expired; otherwise it says why not.
func (s *Store) consumeSentCode(ctx context.Context, tx *sql.Tx, d *twofactor.Device, hashes [][]byte, now time.Time) (string, error) {
	r := s.in(tx)
	if len(hashes) > 0 {
		args := append([]any{d.ID}, bytesArgs(hashes)...)
		args = append(args, micros(now))
		res, err := r.exec(ctx, "DELETE FROM twofactor_codes WHERE device_id = ? AND code_hash IN ("+placeholders(len(hashes))+") AND expires_at > ?", args...)
		if err != nil {
			return "", err
		}
		if affected(res) > 0 {
			return "", nil
		}
	}
	var expires int64
	err := r.queryRow(ctx, "SELECT expires_at FROM twofactor_codes WHERE device_id = ?", d.ID).Scan(&expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return twofactor.ReasonNotPending, nil
	case err != nil:
		return "", err
	case expires <= micros(now):
		return twofactor.ReasonExpired, nil
	}
	return twofactor.ReasonWrong, nil
}

// confirm marks an unconfirmed device confirmed and makes it the primary if
// the user has none, returning it as stored.
func (s *Store) confirm(ctx context.Context, tx *sql.Tx, d *twofactor.Device) (*twofactor.Device, error) {
	r := s.in(tx)
	if _, err := r.exec(ctx, "UPDATE twofactor_devices SET confirmed = TRUE WHERE id = ?", d.ID); err != nil {
		return nil, err
	}
	has, err := hasPrimary(ctx, s, tx, d.UserID)
	if err != nil {
		return nil, err
	}
	if !has && d.Kind != twofactor.KindStatic {
		if _, err := r.exec(ctx, "UPDATE twofactor_devices SET is_primary = TRUE WHERE id = ?", d.ID); err != nil {
			return nil, err
		}
	}
	return s.deviceOf(ctx, tx, d.UserID, d.ID)
}

// affected returns the number of rows a statement changed (0 on error).
func affected(res sql.Result) int64 {
	if res == nil {
		return 0
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0
	}
	return n
}

func resetUserThrottle(ctx context.Context, s *Store, tx *sql.Tx, userID string) error {
	_, err := s.in(tx).exec(ctx, "UPDATE twofactor_user_throttles SET fail_count = 0, locked_until = 0 WHERE user_id = ?", userID)
	return err
}

// RecordSuccess implements twofactor.AttemptStore.
func (s *Store) RecordSuccess(ctx context.Context, userID, deviceID string, now time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.in(tx).exec(ctx, "UPDATE twofactor_devices SET last_used_at = ?, fail_count = 0, locked_until = 0 WHERE id = ? AND user_id = ?",
			micros(now), deviceID, userID)
		if err := affectedOne(res, err); err != nil {
			return err
		}
		return resetUserThrottle(ctx, s, tx, userID)
	})
}
