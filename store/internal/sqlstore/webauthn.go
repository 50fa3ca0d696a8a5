package sqlstore

import (
	"context"
	"time"

	"github.com/twofactor/twofactor"
)

// CreateWebAuthnCeremony implements twofactor.WebAuthnStore.
func (s *Store) CreateWebAuthnCeremony(ctx context.Context, c *twofactor.WebAuthnCeremony) error {
	var binding []byte
	if len(c.BindingHash) > 0 {
		binding = c.BindingHash
	}
	_, err := s.write().exec(ctx, "INSERT INTO twofactor_webauthn_ceremonies (id_hash, user_id, purpose, binding_hash, session, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
		c.IDHash, c.UserID, c.Purpose, binding, c.Session, micros(c.CreatedAt), micros(c.ExpiresAt))
	return s.conflict(err)
}

// TakeWebAuthnCeremony implements twofactor.WebAuthnStore. The ceremony is
// consumed by one DELETE … RETURNING: the database serialises deletes of a
// row, so of concurrent takes exactly one sees it (the challenge in it can
// be answered once). An expired ceremony is left for the cleanup and is
// not found.
func (s *Store) TakeWebAuthnCeremony(ctx context.Context, hashes [][]byte, now time.Time) (*twofactor.WebAuthnCeremony, error) {
	if len(hashes) == 0 {
		return nil, twofactor.ErrNotFound
	}
	args := append(bytesArgs(hashes), micros(now))
	var c twofactor.WebAuthnCeremony
	var created, expires int64
	err := s.write().queryRow(ctx, "DELETE FROM twofactor_webauthn_ceremonies WHERE id_hash IN ("+placeholders(len(hashes))+") AND expires_at > ? "+
		"RETURNING id_hash, user_id, purpose, binding_hash, session, created_at, expires_at", args...).
		Scan(&c.IDHash, &c.UserID, &c.Purpose, &c.BindingHash, &c.Session, &created, &expires)
	if err != nil {
		return nil, notFound(err)
	}
	c.CreatedAt, c.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &c, nil
}
