package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/twofactor/twofactor"
)

const deviceCols = "id, user_id, kind, name, confirmed, is_primary, created_at, last_used_at, secret, algorithm, " +
	"digits, step, t0, tolerance, drift, counter, destination, data, fail_count, locked_until"

func scanDevice(row interface{ Scan(...any) error }) (*twofactor.Device, error) {
	var d twofactor.Device
	var kind string
	var created, lastUsed, locked int64
	err := row.Scan(&d.ID, &d.UserID, &kind, &d.Name, &d.Confirmed, &d.Primary, &created, &lastUsed, &d.Secret,
		&d.Algorithm, &d.Digits, &d.Step, &d.T0, &d.Tolerance, &d.Drift, &d.Counter, &d.Destination, &d.Data,
		&d.Failures, &locked)
	if err != nil {
		return nil, notFound(err)
	}
	d.Kind = twofactor.Kind(kind)
	d.CreatedAt, d.LastUsedAt, d.LockedUntil = fromMicros(created), fromMicros(lastUsed), fromMicros(locked)
	return &d, nil
}

func insertDevice(ctx context.Context, s *Store, tx *sql.Tx, d *twofactor.Device) error {
	_, err := s.in(tx).exec(ctx, "INSERT INTO twofactor_devices ("+deviceCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		d.ID, d.UserID, string(d.Kind), d.Name, d.Confirmed, d.Primary, micros(d.CreatedAt), micros(d.LastUsedAt),
		d.Secret, d.Algorithm, d.Digits, d.Step, d.T0, d.Tolerance, d.Drift, d.Counter, d.Destination, d.Data,
		d.Failures, micros(d.LockedUntil))
	return s.conflict(err)
}

// hasPrimary reports whether the user has a primary device.
func hasPrimary(ctx context.Context, s *Store, tx *sql.Tx, userID string) (bool, error) {
	var n int
	err := s.in(tx).queryRow(ctx, "SELECT COUNT(*) FROM twofactor_devices WHERE user_id = ? AND is_primary = TRUE", userID).Scan(&n)
	return n > 0, err
}

// CreateDevice implements twofactor.DeviceStore.
func (s *Store) CreateDevice(ctx context.Context, d *twofactor.Device) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockUser(ctx, tx, d.UserID); err != nil {
			return err
		}
		d.Primary = false
		if d.Confirmed && d.Kind != twofactor.KindStatic {
			has, err := hasPrimary(ctx, s, tx, d.UserID)
			if err != nil {
				return err
			}
			d.Primary = !has
		}
		return insertDevice(ctx, s, tx, d)
	})
}

// DeviceByID implements twofactor.DeviceStore.
func (s *Store) DeviceByID(ctx context.Context, id string) (*twofactor.Device, error) {
	return scanDevice(s.read().queryRow(ctx, "SELECT "+deviceCols+" FROM twofactor_devices WHERE id = ?", id))
}

// DevicesByUser implements twofactor.DeviceStore.
func (s *Store) DevicesByUser(ctx context.Context, userID string) ([]twofactor.Device, error) {
	rows, err := s.read().query(ctx, "SELECT "+deviceCols+" FROM twofactor_devices WHERE user_id = ? ORDER BY is_primary DESC, created_at, id", userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []twofactor.Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

// deviceOf reads the user's device inside tx.
func (s *Store) deviceOf(ctx context.Context, tx *sql.Tx, userID, id string) (*twofactor.Device, error) {
	return scanDevice(s.in(tx).queryRow(ctx, "SELECT "+deviceCols+" FROM twofactor_devices WHERE id = ? AND user_id = ?", id, userID))
}

// RenameDevice implements twofactor.DeviceStore.
func (s *Store) RenameDevice(ctx context.Context, userID, id, name string) error {
	res, err := s.write().exec(ctx, "UPDATE twofactor_devices SET name = ? WHERE id = ? AND user_id = ?", name, id, userID)
	return affectedOne(res, err)
}

// SetPrimary implements twofactor.DeviceStore.
func (s *Store) SetPrimary(ctx context.Context, userID, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockUser(ctx, tx, userID); err != nil {
			return err
		}
		d, err := s.deviceOf(ctx, tx, userID, id)
		if err != nil {
			return err
		}
		if !d.Confirmed || d.Kind == twofactor.KindStatic {
			return twofactor.ErrConflict
		}
		if _, err := s.in(tx).exec(ctx, "UPDATE twofactor_devices SET is_primary = FALSE WHERE user_id = ? AND is_primary = TRUE", userID); err != nil {
			return err
		}
		_, err = s.in(tx).exec(ctx, "UPDATE twofactor_devices SET is_primary = TRUE WHERE id = ?", id)
		return err
	})
}

// DeleteDevice implements twofactor.DeviceStore.
func (s *Store) DeleteDevice(ctx context.Context, userID, id string) (*twofactor.Device, error) {
	var promoted *twofactor.Device
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockUser(ctx, tx, userID); err != nil {
			return err
		}
		d, err := s.deviceOf(ctx, tx, userID, id)
		if err != nil {
			return err
		}
		for _, q := range []string{
			"DELETE FROM twofactor_devices WHERE id = ?",
			"DELETE FROM twofactor_browsers WHERE device_id = ?",
			// Sessions verified by the device are verified no more.
			"UPDATE twofactor_sessions SET device_id = '' WHERE device_id = ?",
		} {
			if _, err := s.in(tx).exec(ctx, q, id); err != nil {
				return err
			}
		}
		if !d.Primary {
			return nil
		}
		next, err := scanDevice(s.in(tx).queryRow(ctx, "SELECT "+deviceCols+` FROM twofactor_devices
			WHERE user_id = ? AND confirmed = TRUE AND kind <> 'static' ORDER BY created_at, id LIMIT 1`, userID))
		if errors.Is(err, twofactor.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := s.in(tx).exec(ctx, "UPDATE twofactor_devices SET is_primary = TRUE WHERE id = ?", next.ID); err != nil {
			return err
		}
		next.Primary = true
		promoted = next
		return nil
	})
	return promoted, err
}

// DisableUser implements twofactor.DeviceStore.
func (s *Store) DisableUser(ctx context.Context, userID string) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockUser(ctx, tx, userID); err != nil {
			return err
		}
		// Backup codes go with their device (ON DELETE CASCADE); deleting
		// them explicitly too keeps this correct even if a database was
		// opened without foreign-key enforcement.
		for _, q := range []string{
			"DELETE FROM twofactor_backup_codes WHERE device_id IN (SELECT id FROM twofactor_devices WHERE user_id = ?)",
			"DELETE FROM twofactor_codes WHERE device_id IN (SELECT id FROM twofactor_devices WHERE user_id = ?)",
			"DELETE FROM twofactor_calls WHERE device_id IN (SELECT id FROM twofactor_devices WHERE user_id = ?)",
		} {
			if _, err := s.in(tx).exec(ctx, q, userID); err != nil {
				return err
			}
		}
		res, err := s.in(tx).exec(ctx, "DELETE FROM twofactor_devices WHERE user_id = ?", userID)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		for _, q := range []string{
			"DELETE FROM twofactor_challenges WHERE user_id = ?",
			"DELETE FROM twofactor_webauthn_ceremonies WHERE user_id = ?",
			"DELETE FROM twofactor_user_throttles WHERE user_id = ?",
			"DELETE FROM twofactor_browsers WHERE user_id = ?",
			"UPDATE twofactor_sessions SET device_id = '' WHERE user_id = ?",
		} {
			if _, err := s.in(tx).exec(ctx, q, userID); err != nil {
				return err
			}
		}
		return nil
	})
	return int(n), err
}
