package sqlstore

import (
	"context"

	"github.com/twofactor/twofactor"
)

// CreateChallenge implements twofactor.ChallengeStore.
func (s *Store) CreateChallenge(ctx context.Context, c *twofactor.Challenge) error {
	_, err := s.write().exec(ctx, "INSERT INTO twofactor_challenges (id_hash, user_id, device_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
		c.IDHash, c.UserID, c.DeviceID, micros(c.CreatedAt), micros(c.ExpiresAt))
	return s.conflict(err)
}

// ChallengeByHash implements twofactor.ChallengeStore.
func (s *Store) ChallengeByHash(ctx context.Context, hashes [][]byte) (*twofactor.Challenge, error) {
	if len(hashes) == 0 {
		return nil, twofactor.ErrNotFound
	}
	args := bytesArgs(hashes)
	var c twofactor.Challenge
	var created, expires int64
	err := s.read().queryRow(ctx, "SELECT id_hash, user_id, device_id, created_at, expires_at FROM twofactor_challenges WHERE id_hash IN ("+placeholders(len(hashes))+")", args...).
		Scan(&c.IDHash, &c.UserID, &c.DeviceID, &created, &expires)
	if err != nil {
		return nil, notFound(err)
	}
	c.CreatedAt, c.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &c, nil
}

// SetChallengeDevice implements twofactor.ChallengeStore.
func (s *Store) SetChallengeDevice(ctx context.Context, idHash []byte, deviceID string) error {
	res, err := s.write().exec(ctx, "UPDATE twofactor_challenges SET device_id = ? WHERE id_hash = ?", deviceID, idHash)
	return affectedOne(res, err)
}

// DeleteChallenge implements twofactor.ChallengeStore.
func (s *Store) DeleteChallenge(ctx context.Context, idHash []byte) (bool, error) {
	res, err := s.write().exec(ctx, "DELETE FROM twofactor_challenges WHERE id_hash = ?", idHash)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
