package sqlstore

import (
	"context"
	"time"
)

// The statements of Service.Cleanup, each with one argument. Every one
// finds its rows through an index (schema 6 added the last ones): a
// statement that read a whole table would stall the writer at every
// cleanup round in proportion to the users enrolled.
const (
	deleteExpiredSessionsSQL   = "DELETE FROM twofactor_sessions WHERE expires_at <= ?"
	deleteExpiredChallengesSQL = "DELETE FROM twofactor_challenges WHERE expires_at <> 0 AND expires_at <= ?"
	deleteExpiredRefreshSQL    = "DELETE FROM twofactor_oauth_refresh_tokens WHERE expires_at <= ?"
	deleteStaleSetupsSQL       = "DELETE FROM twofactor_devices WHERE confirmed = FALSE AND created_at < ?"
	deleteExpiredCodesSQL      = "DELETE FROM twofactor_codes WHERE expires_at <= ?"
	deleteExpiredCallsSQL      = "DELETE FROM twofactor_calls WHERE expires_at <= ?"
	deleteOldSendQuotaSQL      = "DELETE FROM twofactor_send_quota WHERE day < ?"
	deleteExpiredCeremoniesSQL = "DELETE FROM twofactor_webauthn_ceremonies WHERE expires_at <= ?"
)

// CleanupStatements returns the statements the cleanup methods run, for
// the stores' tests of their query plans.
func CleanupStatements() []string {
	return []string{
		deleteExpiredSessionsSQL, deleteExpiredChallengesSQL, deleteExpiredRefreshSQL, deleteStaleSetupsSQL,
		deleteExpiredCodesSQL, deleteExpiredCallsSQL, deleteOldSendQuotaSQL, deleteExpiredCeremoniesSQL,
	}
}

// deleteWhere runs one cleanup statement and returns the rows it removed.
func (s *Store) deleteWhere(ctx context.Context, query string, arg int64) (int, error) {
	res, err := s.write().exec(ctx, query, arg)
	if err != nil {
		return 0, err
	}
	return int(affected(res)), nil
}

// DeleteExpiredSessions implements twofactor.SessionStore.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	return s.deleteWhere(ctx, deleteExpiredSessionsSQL, micros(now))
}

// DeleteExpiredChallenges implements twofactor.ChallengeStore.
func (s *Store) DeleteExpiredChallenges(ctx context.Context, now time.Time) (int, error) {
	return s.deleteWhere(ctx, deleteExpiredChallengesSQL, micros(now))
}

// DeleteExpiredRefreshTokens implements twofactor.OAuthStore.
func (s *Store) DeleteExpiredRefreshTokens(ctx context.Context, now time.Time) (int, error) {
	return s.deleteWhere(ctx, deleteExpiredRefreshSQL, micros(now))
}

// DeleteStaleSetups implements twofactor.DeviceStore.
func (s *Store) DeleteStaleSetups(ctx context.Context, before time.Time) (int, error) {
	return s.deleteWhere(ctx, deleteStaleSetupsSQL, micros(before))
}

// DeleteExpiredWebAuthnCeremonies implements twofactor.WebAuthnStore.
func (s *Store) DeleteExpiredWebAuthnCeremonies(ctx context.Context, now time.Time) (int, error) {
	return s.deleteWhere(ctx, deleteExpiredCeremoniesSQL, micros(now))
}

// DeleteExpiredSends implements twofactor.SendStore: expired codes and
// calls, and the send quotas of past days.
func (s *Store) DeleteExpiredSends(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for _, q := range []struct {
		sql string
		arg int64
	}{
		{deleteExpiredCodesSQL, micros(now)},
		{deleteExpiredCallsSQL, micros(now)},
		{deleteOldSendQuotaSQL, day(now)},
	} {
		n, err := s.deleteWhere(ctx, q.sql, q.arg)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
