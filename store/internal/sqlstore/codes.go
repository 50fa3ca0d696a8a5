package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/twofactor/twofactor"
)

// ReplaceBackupCodes implements twofactor.BackupCodeStore.
func (s *Store) ReplaceBackupCodes(ctx context.Context, static *twofactor.Device, hashes [][]byte) (*twofactor.Device, error) {
	var out *twofactor.Device
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockUser(ctx, tx, static.UserID); err != nil {
			return err
		}
		d, err := scanDevice(s.in(tx).queryRow(ctx, "SELECT "+deviceCols+" FROM twofactor_devices WHERE user_id = ? AND kind = 'static'", static.UserID))
		switch {
		case errors.Is(err, twofactor.ErrNotFound):
			d = static
			d.Primary = false
			if err := insertDevice(ctx, s, tx, d); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		if _, err := s.in(tx).exec(ctx, "DELETE FROM twofactor_backup_codes WHERE device_id = ?", d.ID); err != nil {
			return err
		}
		if len(hashes) > 0 {
			args := make([]any, 0, 2*len(hashes))
			values := ""
			for i, h := range hashes {
				if i > 0 {
					values += ", "
				}
				values += "(?, ?)"
				args = append(args, d.ID, h)
			}
			if _, err := s.in(tx).exec(ctx, "INSERT INTO twofactor_backup_codes (device_id, code_hash) VALUES "+values, args...); err != nil {
				return err
			}
		}
		out = d
		return nil
	})
	return out, err
}

// CountBackupCodes implements twofactor.BackupCodeStore.
func (s *Store) CountBackupCodes(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.read().queryRow(ctx, `SELECT COUNT(*) FROM twofactor_backup_codes c
		JOIN twofactor_devices d ON d.id = c.device_id WHERE d.user_id = ? AND d.kind = 'static'`, userID).Scan(&n)
	return n, err
}
