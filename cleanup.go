package twofactor

import (
	"context"
	"time"
)

// StaleSetupAge is how long an unconfirmed device (a setup the user walked
// away from) is kept before Cleanup removes it.
const StaleSetupAge = 24 * time.Hour

// CleanupResult counts what Cleanup removed.
type CleanupResult struct {
	Sessions, Challenges, RefreshTokens, Setups, Sends int
	Ceremonies                                         int // WebAuthn ceremonies
}

// Cleanup removes what has expired: sessions, login challenges, OAuth refresh
// tokens, sent codes and call scripts, WebAuthn ceremonies, and setups
// abandoned for StaleSetupAge. Expired records are already refused when
// presented; this only keeps the tables small. The server runs it
// periodically; running it on several instances at once is harmless.
func (s *Service) Cleanup(ctx context.Context) (CleanupResult, error) {
	now := s.clock.Now()
	var r CleanupResult
	var err error
	if r.Sessions, err = s.store.DeleteExpiredSessions(ctx, now); err != nil {
		return r, internal("delete expired sessions", err)
	}
	if r.Challenges, err = s.store.DeleteExpiredChallenges(ctx, now); err != nil {
		return r, internal("delete expired challenges", err)
	}
	if r.RefreshTokens, err = s.store.DeleteExpiredRefreshTokens(ctx, now); err != nil {
		return r, internal("delete expired refresh tokens", err)
	}
	if r.Setups, err = s.store.DeleteStaleSetups(ctx, now.Add(-StaleSetupAge)); err != nil {
		return r, internal("delete stale setups", err)
	}
	if r.Sends, err = s.store.DeleteExpiredSends(ctx, now); err != nil {
		return r, internal("delete expired codes", err)
	}
	if r.Ceremonies, err = s.store.DeleteExpiredWebAuthnCeremonies(ctx, now); err != nil {
		return r, internal("delete expired webauthn ceremonies", err)
	}
	return r, nil
}
