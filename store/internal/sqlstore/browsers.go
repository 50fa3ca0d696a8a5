package sqlstore

import (
	"context"
	"time"

	"github.com/twofactor/twofactor"
)

const browserCols = "id, user_id, device_id, secret_hash, created_at, expires_at, last_used_at, user_agent, address"

func scanBrowser(row interface{ Scan(...any) error }) (*twofactor.RememberedBrowser, error) {
	var b twofactor.RememberedBrowser
	var created, expires, used int64
	err := row.Scan(&b.ID, &b.UserID, &b.DeviceID, &b.SecretHash, &created, &expires, &used, &b.UserAgent, &b.Address)
	if err != nil {
		return nil, notFound(err)
	}
	b.CreatedAt, b.ExpiresAt, b.LastUsedAt = fromMicros(created), fromMicros(expires), fromMicros(used)
	return &b, nil
}

// CreateBrowser implements twofactor.BrowserStore.
func (s *Store) CreateBrowser(ctx context.Context, b *twofactor.RememberedBrowser) error {
	_, err := s.write().exec(ctx, "INSERT INTO twofactor_browsers ("+browserCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		b.ID, b.UserID, b.DeviceID, b.SecretHash, micros(b.CreatedAt), micros(b.ExpiresAt), micros(b.LastUsedAt),
		truncate(b.UserAgent, 512), truncate(b.Address, 64))
	return s.conflict(err)
}

// BrowserByID implements twofactor.BrowserStore.
func (s *Store) BrowserByID(ctx context.Context, id string) (*twofactor.RememberedBrowser, error) {
	return scanBrowser(s.read().queryRow(ctx, "SELECT "+browserCols+" FROM twofactor_browsers WHERE id = ?", id))
}

// TouchBrowser implements twofactor.BrowserStore.
func (s *Store) TouchBrowser(ctx context.Context, id string, now time.Time) error {
	res, err := s.write().exec(ctx, "UPDATE twofactor_browsers SET last_used_at = ? WHERE id = ?", micros(now), id)
	return affectedOne(res, err)
}

// BrowsersByUser implements twofactor.BrowserStore.
func (s *Store) BrowsersByUser(ctx context.Context, userID string) ([]twofactor.RememberedBrowser, error) {
	rows, err := s.read().query(ctx, "SELECT "+browserCols+" FROM twofactor_browsers WHERE user_id = ? ORDER BY created_at DESC, id", userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []twofactor.RememberedBrowser
	for rows.Next() {
		b, err := scanBrowser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *b)
	}
	return out, rows.Err()
}

// DeleteBrowser implements twofactor.BrowserStore.
func (s *Store) DeleteBrowser(ctx context.Context, userID, id string) (bool, error) {
	res, err := s.write().exec(ctx, "DELETE FROM twofactor_browsers WHERE id = ? AND user_id = ?", id, userID)
	if err != nil {
		return false, err
	}
	return affected(res) > 0, nil
}

// DeleteUserBrowsers implements twofactor.BrowserStore.
func (s *Store) DeleteUserBrowsers(ctx context.Context, userID string) (int, error) {
	res, err := s.write().exec(ctx, "DELETE FROM twofactor_browsers WHERE user_id = ?", userID)
	if err != nil {
		return 0, err
	}
	return int(affected(res)), nil
}
