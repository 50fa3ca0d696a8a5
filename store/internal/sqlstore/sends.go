package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/twofactor/twofactor"
)

const microsPerDay = int64(24 * time.Hour / time.Microsecond)

// day is the UTC day number of t.
func day(t time.Time) int64 { return micros(t) / microsPerDay }

// ReserveSend implements twofactor.SendStore. The cooldown is enforced by
// the upsert's condition (only a code sent before now−cooldown is replaced)
// and the daily limit by the counter's, so two concurrent sends for one
// device — on one server or several — cannot both pass.
func (s *Store) ReserveSend(ctx context.Context, x twofactor.Send) (twofactor.SendResult, error) {
	now := micros(x.Now)
	var res twofactor.SendResult
	err := s.tx(ctx, func(tx *sql.Tx) error {
		r := s.in(tx)
		var id string
		err := r.queryRow(ctx, `INSERT INTO twofactor_codes AS c (device_id, code_hash, sent_at, expires_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (device_id) DO UPDATE SET code_hash = excluded.code_hash, sent_at = excluded.sent_at, expires_at = excluded.expires_at
			WHERE c.sent_at <= ?
			RETURNING device_id`,
			x.DeviceID, x.CodeHash, now, micros(x.ExpiresAt), now-x.Cooldown.Microseconds()).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			var sent int64
			if err := r.queryRow(ctx, "SELECT sent_at FROM twofactor_codes WHERE device_id = ?", x.DeviceID).Scan(&sent); err != nil {
				return err
			}
			res = twofactor.SendResult{RetryAt: fromMicros(sent).Add(x.Cooldown), Reason: twofactor.ReasonCooldown}
			return errRefused
		}
		if err != nil {
			return err
		}
		if x.DailyLimit > 0 {
			var n int
			err := r.queryRow(ctx, `INSERT INTO twofactor_send_quota AS q (user_id, day, count) VALUES (?, ?, 1)
				ON CONFLICT (user_id, day) DO UPDATE SET count = q.count + 1 WHERE q.count < ?
				RETURNING count`, x.UserID, day(x.Now), x.DailyLimit).Scan(&n)
			if errors.Is(err, sql.ErrNoRows) {
				res = twofactor.SendResult{RetryAt: fromMicros((day(x.Now) + 1) * microsPerDay), Reason: twofactor.ReasonDailyLimit}
				return errRefused
			}
			if err != nil {
				return err
			}
		}
		res.Allowed = true
		return nil
	})
	if errors.Is(err, errRefused) {
		return res, nil
	}
	return res, err
}

// errRefused rolls back a transaction whose answer is a refusal.
var errRefused = errors.New("refused")

// CancelSend implements twofactor.SendStore.
func (s *Store) CancelSend(ctx context.Context, deviceID string, codeHash []byte) error {
	_, err := s.write().exec(ctx, "DELETE FROM twofactor_codes WHERE device_id = ? AND code_hash = ?", deviceID, codeHash)
	return err
}

// CreateCall implements twofactor.SendStore.
func (s *Store) CreateCall(ctx context.Context, c *twofactor.CallScript) error {
	_, err := s.write().exec(ctx, "INSERT INTO twofactor_calls (id_hash, device_id, script, expires_at) VALUES (?, ?, ?, ?)",
		c.IDHash, c.DeviceID, c.Script, micros(c.ExpiresAt))
	return s.conflict(err)
}

// CallByHash implements twofactor.SendStore.
func (s *Store) CallByHash(ctx context.Context, hashes [][]byte, now time.Time) (*twofactor.CallScript, error) {
	if len(hashes) == 0 {
		return nil, twofactor.ErrNotFound
	}
	var c twofactor.CallScript
	var expires int64
	args := append(bytesArgs(hashes), micros(now))
	err := s.read().queryRow(ctx, "SELECT id_hash, device_id, script, expires_at FROM twofactor_calls WHERE id_hash IN ("+placeholders(len(hashes))+") AND expires_at > ?", args...).
		Scan(&c.IDHash, &c.DeviceID, &c.Script, &expires)
	if err != nil {
		return nil, notFound(err)
	}
	c.ExpiresAt = fromMicros(expires)
	return &c, nil
}
