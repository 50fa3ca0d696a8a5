package sqlstore

import (
	"context"

	"github.com/twofactor/twofactor"
)

const sessionCols = "id_hash, kind, user_id, created_at, expires_at, last_seen_at, device_id, verified_at, data"

// CreateSession implements twofactor.SessionStore.
func (s *Store) CreateSession(ctx context.Context, x *twofactor.Session) error {
	_, err := s.write().exec(ctx, "INSERT INTO twofactor_sessions ("+sessionCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		x.IDHash, x.Kind, x.UserID, micros(x.CreatedAt), micros(x.ExpiresAt), micros(x.LastSeenAt), x.DeviceID,
		micros(x.VerifiedAt), x.Data)
	return s.conflict(err)
}

// SessionByHash implements twofactor.SessionStore.
func (s *Store) SessionByHash(ctx context.Context, hashes [][]byte) (*twofactor.Session, error) {
	if len(hashes) == 0 {
		return nil, twofactor.ErrNotFound
	}
	var x twofactor.Session
	var created, expires, seen, verified int64
	err := s.read().queryRow(ctx, "SELECT "+sessionCols+" FROM twofactor_sessions WHERE id_hash IN ("+placeholders(len(hashes))+")", bytesArgs(hashes)...).
		Scan(&x.IDHash, &x.Kind, &x.UserID, &created, &expires, &seen, &x.DeviceID, &verified, &x.Data)
	if err != nil {
		return nil, notFound(err)
	}
	x.CreatedAt, x.ExpiresAt, x.LastSeenAt, x.VerifiedAt = fromMicros(created), fromMicros(expires), fromMicros(seen), fromMicros(verified)
	return &x, nil
}

// UpdateSession implements twofactor.SessionStore.
func (s *Store) UpdateSession(ctx context.Context, x *twofactor.Session) error {
	res, err := s.write().exec(ctx, `UPDATE twofactor_sessions SET user_id = ?, device_id = ?, verified_at = ?, data = ?,
		last_seen_at = ?, expires_at = ? WHERE id_hash = ?`,
		x.UserID, x.DeviceID, micros(x.VerifiedAt), x.Data, micros(x.LastSeenAt), micros(x.ExpiresAt), x.IDHash)
	return affectedOne(res, err)
}

// DeleteSession implements twofactor.SessionStore.
func (s *Store) DeleteSession(ctx context.Context, idHash []byte) (bool, error) {
	res, err := s.write().exec(ctx, "DELETE FROM twofactor_sessions WHERE id_hash = ?", idHash)
	if err != nil {
		return false, err
	}
	return affected(res) > 0, nil
}

// DeleteUserSessions implements twofactor.SessionStore.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string, except []byte) (int, error) {
	if except == nil {
		except = []byte{}
	}
	res, err := s.write().exec(ctx, "DELETE FROM twofactor_sessions WHERE user_id = ? AND id_hash <> ?", userID, except)
	if err != nil {
		return 0, err
	}
	return int(affected(res)), nil
}

// bytesArgs turns byte slices into query arguments.
func bytesArgs(bs [][]byte) []any {
	args := make([]any, len(bs))
	for i, b := range bs {
		args[i] = b
	}
	return args
}
