package twofactor

import (
	"context"
	"errors"
	"time"

	"github.com/twofactor/twofactor/secret"
)

// hashPurposeChallenge separates login-challenge token hashes from other
// keyed hashes.
const hashPurposeChallenge = "login-challenge"

// LoginResult is the outcome of the password step or of a completed login.
type LoginResult struct {
	User *User
	// MFARequired is true when a second factor is still needed; Token then
	// identifies the login challenge (the page session keeps it; the API
	// returns it as mfa_token) until ExpiresAt (zero = no timeout).
	MFARequired bool
	Token       string
	ExpiresAt   time.Time
	// Device is the device that verified a completed login (nil when
	// two-factor is off).
	Device *Device
}

// Login checks a username and password. With two-factor off the login is
// complete; with it on, a login challenge is created for the second step.
func (s *Service) Login(ctx context.Context, username, pw string) (*LoginResult, error) {
	if err := s.limitSignIn(ctx); err != nil {
		return nil, err
	}
	u, err := s.users.Authenticate(ctx, username, pw)
	if err != nil {
		return nil, err
	}
	return s.BeginLogin(ctx, u)
}

// BeginLogin starts the second step for a user whose password the caller has
// already checked (an application with its own login form).
func (s *Service) BeginLogin(ctx context.Context, u *User) (*LoginResult, error) {
	enabled, err := s.Enabled(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if !enabled {
		return &LoginResult{User: u}, nil
	}
	token, err := secret.Token(s.rand)
	if err != nil {
		return nil, internal("new challenge token", err)
	}
	now := s.clock.Now()
	c := &Challenge{IDHash: s.keys.Hash(hashPurposeChallenge, []byte(token)), UserID: u.ID, CreatedAt: now}
	if s.opts.LoginTimeout > 0 {
		c.ExpiresAt = now.Add(s.opts.LoginTimeout)
	}
	if err := s.store.CreateChallenge(ctx, c); err != nil {
		return nil, internal("create challenge", err)
	}
	return &LoginResult{User: u, MFARequired: true, Token: token, ExpiresAt: c.ExpiresAt}, nil
}

// LoginState is what the second step of a login shows.
type LoginState struct {
	Challenge *Challenge
	User      *User
	// Device is the device the code is expected from: the chosen one, or
	// the primary.
	Device *Device
	// Others are the user's other confirmed devices, offered as
	// alternatives.
	Others []Device
	// BackupCodes is how many backup codes the user has left.
	BackupCodes int
}

// Challenge returns the state of the login challenge identified by token. An
// unknown token and an expired one are both CodeExpired ("Your session has
// timed out"): the flow restarts at the password step.
func (s *Service) Challenge(ctx context.Context, token string) (*LoginState, error) {
	c, err := s.challenge(ctx, token)
	if err != nil {
		return nil, err
	}
	u, err := s.users.UserByID(ctx, c.UserID)
	if errors.Is(err, ErrNotFound) {
		return nil, errExpired()
	}
	if err != nil {
		return nil, internal("load user", err)
	}
	st, err := s.Status(ctx, c.UserID)
	if err != nil {
		return nil, err
	}
	ls := &LoginState{Challenge: c, User: u, BackupCodes: st.BackupCodes}
	for i := range st.Devices {
		d := &st.Devices[i]
		if !d.Confirmed {
			continue
		}
		if (c.DeviceID == "" && d.Primary) || d.ID == c.DeviceID {
			ls.Device = d
		} else {
			ls.Others = append(ls.Others, *d)
		}
	}
	if ls.Device == nil { // two-factor was disabled meanwhile
		return nil, errExpired()
	}
	return ls, nil
}

func errExpired() *Error { return &Error{Code: CodeExpired, Message: msgExpired} }

func (s *Service) challenge(ctx context.Context, token string) (*Challenge, error) {
	if token == "" || len(token) > 256 {
		return nil, errExpired()
	}
	c, err := s.store.ChallengeByHash(ctx, s.keys.Hashes(hashPurposeChallenge, []byte(token)))
	if errors.Is(err, ErrNotFound) {
		return nil, errExpired()
	}
	if err != nil {
		return nil, internal("load challenge", err)
	}
	if !c.ExpiresAt.IsZero() && !s.clock.Now().Before(c.ExpiresAt) {
		_, _ = s.store.DeleteChallenge(ctx, c.IDHash)
		return nil, errExpired()
	}
	return c, nil
}

// ChooseDevice picks which of the user's confirmed devices the login's code
// will come from. A device that is not the user's is not found.
func (s *Service) ChooseDevice(ctx context.Context, token, deviceID string) (*Device, error) {
	c, err := s.challenge(ctx, token)
	if err != nil {
		return nil, err
	}
	d, err := s.verifiableDevice(ctx, c.UserID, deviceID)
	if err != nil {
		return nil, err
	}
	if d.Kind == KindStatic {
		return nil, errNotFound("device")
	}
	if err := s.store.SetChallengeDevice(ctx, c.IDHash, d.ID); err != nil {
		return nil, internal("choose device", err)
	}
	if d.Interactive() {
		// Choosing a phone or email device sends its code — once per
		// cooldown: inside it the previous code stays valid, and the
		// refusal (CodeThrottled) tells the adapter to say so.
		if _, err := s.send(ctx, d); err != nil {
			return d, err
		}
	}
	return d, nil
}

// CompleteLogin verifies the second factor of a login challenge: a code from
// the chosen (or primary) device, or a backup code. On success the
// challenge is consumed, so it completes exactly once.
func (s *Service) CompleteLogin(ctx context.Context, token, input string) (*LoginResult, error) {
	if err := s.limitSignIn(ctx); err != nil {
		return nil, err
	}
	c, err := s.challenge(ctx, token)
	if err != nil {
		return nil, err
	}
	d, err := s.Verify(ctx, c.UserID, input, c.DeviceID)
	if err != nil {
		return nil, err
	}
	ok, err := s.store.DeleteChallenge(ctx, c.IDHash)
	if err != nil {
		return nil, internal("consume challenge", err)
	}
	if !ok { // a concurrent request completed this login first
		return nil, errExpired()
	}
	u, err := s.users.UserByID(ctx, c.UserID)
	if err != nil {
		return nil, internal("load user", err)
	}
	return &LoginResult{User: u, Device: d}, nil
}

// CancelLogin abandons a login challenge.
func (s *Service) CancelLogin(ctx context.Context, token string) error {
	c, err := s.challenge(ctx, token)
	if err != nil {
		return nil // nothing to cancel
	}
	if _, err := s.store.DeleteChallenge(ctx, c.IDHash); err != nil {
		return internal("cancel challenge", err)
	}
	return nil
}
