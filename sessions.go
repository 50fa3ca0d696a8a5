package twofactor

import (
	"context"
	"encoding/hex"
	"errors"
	"time"

	"github.com/twofactor/twofactor/secret"
)

// hashPurposeSession separates session-token hashes from other keyed hashes.
const hashPurposeSession = "session"

// touchEvery bounds how often a session's last-seen time is written: at most
// once a minute per session, so reading a session is normally one read.
const touchEvery = time.Minute

// NewSession starts a session of the given kind (SessionWeb, SessionToken)
// for userID ("" for a browser that has not signed in yet) and returns its
// token, to hand to the client once. Only the token's keyed hash is stored.
func (s *Service) NewSession(ctx context.Context, kind, userID string) (string, *Session, error) {
	return s.newSession(ctx, kind, userID, nil)
}

// newSession starts a session, verified by d when d is not nil, with one
// write.
func (s *Service) newSession(ctx context.Context, kind, userID string, d *Device) (string, *Session, error) {
	token, err := secret.Token(s.rand)
	if err != nil {
		return "", nil, internal("new session token", err)
	}
	now := s.clock.Now()
	sess := &Session{IDHash: s.keys.Hash(hashPurposeSession, []byte(token)), Kind: kind, UserID: userID,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.opts.SessionAge)}
	if d != nil {
		sess.DeviceID, sess.VerifiedAt = d.ID, now
	}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return "", nil, internal("create session", err)
	}
	return token, sess, nil
}

// Session returns the live session of a token. An unknown, malformed or
// expired token is CodeNotFound: the client simply has no session.
func (s *Service) Session(ctx context.Context, token string) (*Session, error) {
	if token == "" || len(token) > 256 {
		return nil, errNotFound("session")
	}
	sess, err := s.store.SessionByHash(ctx, s.keys.Hashes(hashPurposeSession, []byte(token)))
	if errors.Is(err, ErrNotFound) {
		return nil, errNotFound("session")
	}
	if err != nil {
		return nil, internal("load session", err)
	}
	now := s.clock.Now()
	if !now.Before(sess.ExpiresAt) {
		_, _ = s.store.DeleteSession(ctx, sess.IDHash)
		return nil, errNotFound("session")
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		sess.LastSeenAt = now
		if err := s.store.UpdateSession(ctx, sess); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, internal("touch session", err)
		}
	}
	return sess, nil
}

// SignIn ends old (if any) and starts a new session for u, verified by d
// when d is not nil. A new token at every sign-in stops session fixation:
// a token planted in the browser before sign-in is worth nothing after it.
func (s *Service) SignIn(ctx context.Context, kind string, old *Session, u *User, d *Device) (string, *Session, error) {
	if old != nil {
		if _, err := s.store.DeleteSession(ctx, old.IDHash); err != nil {
			return "", nil, internal("end session", err)
		}
	}
	return s.newSession(ctx, kind, u.ID, d)
}

// SignOut ends a session.
func (s *Service) SignOut(ctx context.Context, sess *Session) error {
	if sess == nil {
		return nil
	}
	if _, err := s.store.DeleteSession(ctx, sess.IDHash); err != nil {
		return internal("end session", err)
	}
	return nil
}

// SignOutEverywhere ends every session of the user except keep (nil: all).
func (s *Service) SignOutEverywhere(ctx context.Context, userID string, keep *Session) (int, error) {
	var except []byte
	if keep != nil {
		except = keep.IDHash
	}
	n, err := s.store.DeleteUserSessions(ctx, userID, except)
	if err != nil {
		return 0, internal("end sessions", err)
	}
	return n, nil
}

// StepUp checks a code from the primary device, or a backup code, for the
// session's user with every rule of Verify and, when it is right, marks the
// session freshly verified for the sensitive actions that need step-up.
func (s *Service) StepUp(ctx context.Context, sess *Session, input string) (*Device, error) {
	return s.StepUpWith(ctx, sess, "", input)
}

// StepUpWith is StepUp with a code from the device deviceID (one of the
// user's confirmed devices; "" = the primary). The device becomes the one
// that verified the session.
func (s *Service) StepUpWith(ctx context.Context, sess *Session, deviceID, input string) (*Device, error) {
	return s.stepUp(ctx, sess, func(userID string) (*Device, error) { return s.Verify(ctx, userID, input, deviceID) })
}

// StepUpDeviceCode is StepUpWith for a code from a device only: the input is
// checked against the device deviceID ("" = the primary) whatever it looks
// like, as for a client that names the factor.
func (s *Service) StepUpDeviceCode(ctx context.Context, sess *Session, deviceID, code string) (*Device, error) {
	return s.stepUp(ctx, sess, func(userID string) (*Device, error) { return s.VerifyDevice(ctx, userID, deviceID, code) })
}

// StepUpBackupCode is StepUp with a backup code only.
func (s *Service) StepUpBackupCode(ctx context.Context, sess *Session, code string) (*Device, error) {
	return s.stepUp(ctx, sess, func(userID string) (*Device, error) { return s.verifyBackupCode(ctx, userID, code) })
}

// stepUp runs verify for the session's user and, on success, records the
// fresh verification in the session.
func (s *Service) stepUp(ctx context.Context, sess *Session, verify func(userID string) (*Device, error)) (*Device, error) {
	if sess == nil || sess.UserID == "" {
		return nil, errNotFound("session")
	}
	d, err := verify(sess.UserID)
	if err != nil {
		return nil, err
	}
	sess.VerifiedAt, sess.DeviceID = s.clock.Now(), d.ID
	if err := s.store.UpdateSession(ctx, sess); err != nil {
		return nil, internal("step up", err)
	}
	return d, nil
}

// NeedsStepUp reports whether a sensitive action in this session would be
// refused with CodeStepUpRequired, so a form can ask for a code up front.
func (s *Service) NeedsStepUp(ctx context.Context, sess *Session) (bool, error) {
	if sess == nil || sess.UserID == "" {
		return false, errNotFound("session")
	}
	err := s.requireStepUp(ctx, sess.Actor())
	if CodeOf(err) == CodeStepUpRequired {
		return true, nil
	}
	return false, err
}

// Actor returns who acts through the session.
func (sess *Session) Actor() Actor {
	return Actor{UserID: sess.UserID, VerifiedAt: sess.VerifiedAt}
}

// sessionDataAAD binds sealed session data to its session row.
func sessionDataAAD(sess *Session) secret.AAD {
	return secret.AAD{Table: "sessions", Column: "data", Row: hex.EncodeToString(sess.IDHash)}
}

// SessionData returns the adapter state kept in the session (nil if none).
// It is sealed at rest: a sign-in in progress holds a challenge token.
func (s *Service) SessionData(sess *Session) ([]byte, error) {
	if len(sess.Data) == 0 {
		return nil, nil
	}
	data, err := s.keys.Open(sess.Data, sessionDataAAD(sess))
	if err != nil {
		return nil, internal("open session data", err)
	}
	return data, nil
}

// SetSessionData replaces the adapter state kept in the session.
func (s *Service) SetSessionData(ctx context.Context, sess *Session, data []byte) error {
	sealed := []byte(nil)
	if len(data) > 0 {
		var err error
		if sealed, err = s.keys.Seal(data, sessionDataAAD(sess)); err != nil {
			return internal("seal session data", err)
		}
	}
	sess.Data = sealed
	if err := s.store.UpdateSession(ctx, sess); err != nil {
		if errors.Is(err, ErrNotFound) {
			return errNotFound("session")
		}
		return internal("save session", err)
	}
	return nil
}

// ConfirmInSession confirms a device from the session's setup (as
// ConfirmDevice). When the confirmation turns two-factor on, the session is
// marked verified by the new device, so the user who just proved it is not
// asked again (the seed's "no double login"). A further device does not
// refresh the session's verification: it proves possession of itself, not
// of the account's existing factors, so it must not open step-up actions.
func (s *Service) ConfirmInSession(ctx context.Context, sess *Session, deviceID, input string) (*Confirmation, error) {
	c, err := s.ConfirmDevice(ctx, sess.Actor(), deviceID, input)
	if err != nil {
		return nil, err
	}
	return c, s.verifyByFirstDevice(ctx, sess, c)
}

// verifyByFirstDevice marks the session verified by the device of c when c
// turned two-factor on (it then came with backup codes).
func (s *Service) verifyByFirstDevice(ctx context.Context, sess *Session, c *Confirmation) error {
	if c.BackupCodes == nil {
		return nil
	}
	sess.DeviceID, sess.VerifiedAt = c.Device.ID, s.clock.Now()
	if err := s.store.UpdateSession(ctx, sess); err != nil {
		return internal("verify session", err)
	}
	return nil
}

// AddYubiKeyOTPInSession enrols a YubiKey by one OTP (as AddYubiKeyOTP);
// like ConfirmInSession, the session is marked verified by it when it turned
// two-factor on.
func (s *Service) AddYubiKeyOTPInSession(ctx context.Context, sess *Session, otp, name string) (*Confirmation, error) {
	c, err := s.AddYubiKeyOTP(ctx, sess.Actor(), otp, name)
	if err != nil {
		return nil, err
	}
	return c, s.verifyByFirstDevice(ctx, sess, c)
}
