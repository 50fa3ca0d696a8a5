package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/twofactor/twofactor"
)

const oauthClientCols = "id, name, secret_hash, created_at"

func scanOAuthClient(row interface{ Scan(...any) error }) (*twofactor.OAuthClient, error) {
	var c twofactor.OAuthClient
	var created int64
	if err := row.Scan(&c.ID, &c.Name, &c.SecretHash, &created); err != nil {
		return nil, notFound(err)
	}
	c.CreatedAt = fromMicros(created)
	return &c, nil
}

// CreateOAuthClient implements twofactor.OAuthStore.
func (s *Store) CreateOAuthClient(ctx context.Context, c *twofactor.OAuthClient) error {
	_, err := s.write().exec(ctx, "INSERT INTO twofactor_oauth_clients ("+oauthClientCols+") VALUES (?, ?, ?, ?)",
		c.ID, c.Name, c.SecretHash, micros(c.CreatedAt))
	return s.conflict(err)
}

// OAuthClientByID implements twofactor.OAuthStore.
func (s *Store) OAuthClientByID(ctx context.Context, id string) (*twofactor.OAuthClient, error) {
	return scanOAuthClient(s.read().queryRow(ctx, "SELECT "+oauthClientCols+" FROM twofactor_oauth_clients WHERE id = ?", id))
}

// OAuthClients implements twofactor.OAuthStore.
func (s *Store) OAuthClients(ctx context.Context) ([]twofactor.OAuthClient, error) {
	rows, err := s.read().query(ctx, "SELECT "+oauthClientCols+" FROM twofactor_oauth_clients ORDER BY created_at, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []twofactor.OAuthClient
	for rows.Next() {
		c, err := scanOAuthClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// DeleteOAuthClient implements twofactor.OAuthStore.
func (s *Store) DeleteOAuthClient(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		r := s.in(tx)
		if _, err := r.exec(ctx, `DELETE FROM twofactor_sessions WHERE id_hash IN
			(SELECT access_hash FROM twofactor_oauth_refresh_tokens WHERE client_id = ?)`, id); err != nil {
			return fmt.Errorf("delete access sessions: %w", err)
		}
		if _, err := r.exec(ctx, "DELETE FROM twofactor_oauth_refresh_tokens WHERE client_id = ?", id); err != nil {
			return fmt.Errorf("delete refresh tokens: %w", err)
		}
		res, err := r.exec(ctx, "DELETE FROM twofactor_oauth_clients WHERE id = ?", id)
		return affectedOne(res, err)
	})
}

const refreshCols = "id_hash, family_id, client_id, user_id, device_id, verified_at, scope, created_at, expires_at, used_at, access_hash"

func scanRefreshToken(row interface{ Scan(...any) error }) (*twofactor.RefreshToken, error) {
	var t twofactor.RefreshToken
	var verified, created, expires, used int64
	err := row.Scan(&t.IDHash, &t.FamilyID, &t.ClientID, &t.UserID, &t.DeviceID, &verified, &t.Scope, &created, &expires,
		&used, &t.AccessHash)
	if err != nil {
		return nil, notFound(err)
	}
	t.VerifiedAt, t.CreatedAt, t.ExpiresAt, t.UsedAt = fromMicros(verified), fromMicros(created), fromMicros(expires), fromMicros(used)
	return &t, nil
}

// familyLock is the lock key that serialises changes to one family of
// refresh tokens (PostgreSQL advisory lock; SQLite serialises every write).
func familyLock(familyID string) string { return "oauth-refresh-family:" + familyID }

// CreateRefreshToken implements twofactor.OAuthStore.
func (s *Store) CreateRefreshToken(ctx context.Context, t *twofactor.RefreshToken, access *twofactor.Session, parent []byte) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		r := s.in(tx)
		if err := s.lockUser(ctx, tx, familyLock(t.FamilyID)); err != nil {
			return fmt.Errorf("lock token family: %w", err)
		}
		var n int
		if err := r.queryRow(ctx, "SELECT COUNT(*) FROM twofactor_oauth_clients WHERE id = ?", t.ClientID).Scan(&n); err != nil {
			return fmt.Errorf("find client: %w", err)
		}
		if n == 0 {
			return twofactor.ErrNotFound
		}
		if parent != nil {
			var accessHash []byte
			err := r.queryRow(ctx, "SELECT access_hash FROM twofactor_oauth_refresh_tokens WHERE id_hash = ? AND family_id = ?",
				parent, t.FamilyID).Scan(&accessHash)
			if err != nil {
				return notFound(err)
			}
			if _, err := r.exec(ctx, "DELETE FROM twofactor_sessions WHERE id_hash = ?", accessHash); err != nil {
				return fmt.Errorf("end the replaced access session: %w", err)
			}
		}
		if _, err := r.exec(ctx, "INSERT INTO twofactor_sessions ("+sessionCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			access.IDHash, access.Kind, access.UserID, micros(access.CreatedAt), micros(access.ExpiresAt),
			micros(access.LastSeenAt), access.DeviceID, micros(access.VerifiedAt), access.Data); err != nil {
			return s.conflict(err)
		}
		_, err := r.exec(ctx, "INSERT INTO twofactor_oauth_refresh_tokens ("+refreshCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			t.IDHash, t.FamilyID, t.ClientID, t.UserID, t.DeviceID, micros(t.VerifiedAt), t.Scope, micros(t.CreatedAt),
			micros(t.ExpiresAt), micros(t.UsedAt), t.AccessHash)
		return s.conflict(err)
	})
}

// RefreshTokenByHash implements twofactor.OAuthStore.
func (s *Store) RefreshTokenByHash(ctx context.Context, hashes [][]byte) (*twofactor.RefreshToken, error) {
	if len(hashes) == 0 {
		return nil, twofactor.ErrNotFound
	}
	return scanRefreshToken(s.read().queryRow(ctx, "SELECT "+refreshCols+" FROM twofactor_oauth_refresh_tokens WHERE id_hash IN ("+
		placeholders(len(hashes))+")", bytesArgs(hashes)...))
}

// RefreshTokenByAccess implements twofactor.OAuthStore.
func (s *Store) RefreshTokenByAccess(ctx context.Context, accessHash []byte) (*twofactor.RefreshToken, error) {
	return scanRefreshToken(s.read().queryRow(ctx, "SELECT "+refreshCols+" FROM twofactor_oauth_refresh_tokens WHERE access_hash = ?",
		accessHash))
}

// ConsumeRefreshToken implements twofactor.OAuthStore: one conditional
// UPDATE … RETURNING, which the database applies to the row exactly once
// however many requests race for it.
func (s *Store) ConsumeRefreshToken(ctx context.Context, hashes [][]byte, now time.Time) (*twofactor.RefreshToken, error) {
	if len(hashes) == 0 {
		return nil, twofactor.ErrNotFound
	}
	used := micros(now)
	if used <= 0 {
		return nil, errors.New("consume refresh token: a time after 1970 is required")
	}
	args := append([]any{used}, bytesArgs(hashes)...)
	args = append(args, used)
	return scanRefreshToken(s.write().queryRow(ctx, "UPDATE twofactor_oauth_refresh_tokens SET used_at = ? WHERE id_hash IN ("+
		placeholders(len(hashes))+") AND used_at = 0 AND expires_at > ? RETURNING "+refreshCols, args...))
}

// DeleteRefreshFamily implements twofactor.OAuthStore.
func (s *Store) DeleteRefreshFamily(ctx context.Context, familyID string) (int, error) {
	var n int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		r := s.in(tx)
		if err := s.lockUser(ctx, tx, familyLock(familyID)); err != nil {
			return fmt.Errorf("lock token family: %w", err)
		}
		if _, err := r.exec(ctx, `DELETE FROM twofactor_sessions WHERE id_hash IN
			(SELECT access_hash FROM twofactor_oauth_refresh_tokens WHERE family_id = ?)`, familyID); err != nil {
			return fmt.Errorf("delete access sessions: %w", err)
		}
		res, err := r.exec(ctx, "DELETE FROM twofactor_oauth_refresh_tokens WHERE family_id = ?", familyID)
		if err != nil {
			return fmt.Errorf("delete refresh tokens: %w", err)
		}
		n = int(affected(res))
		return nil
	})
	return n, err
}

// DeleteUserRefreshTokens implements twofactor.OAuthStore.
func (s *Store) DeleteUserRefreshTokens(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		r := s.in(tx)
		if _, err := r.exec(ctx, `DELETE FROM twofactor_sessions WHERE id_hash IN
			(SELECT access_hash FROM twofactor_oauth_refresh_tokens WHERE user_id = ?)`, userID); err != nil {
			return fmt.Errorf("delete access sessions: %w", err)
		}
		res, err := r.exec(ctx, "DELETE FROM twofactor_oauth_refresh_tokens WHERE user_id = ?", userID)
		if err != nil {
			return fmt.Errorf("delete refresh tokens: %w", err)
		}
		n = int(affected(res))
		return nil
	})
	return n, err
}
