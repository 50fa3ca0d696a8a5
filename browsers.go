package twofactor

import (
	"context"
	"errors"
	"time"

	"github.com/twofactor/twofactor/secret"
)

// hashPurposeBrowser separates remembered-browser secrets from other hashes.
const hashPurposeBrowser = "remember-browser"

// RememberedCookie is what a browser keeps to skip the second step: the
// record's id (part of the cookie's name) and a random secret (its value).
type RememberedCookie struct {
	ID      string
	Secret  string
	Expires time.Time
}

// RememberBrowser lets the browser of a sign-in just verified by d skip the
// second step for Options.RememberAge (SPEC §4.4). The server keeps only a
// keyed hash of the secret, with the user, device, times and client.
func (s *Service) RememberBrowser(ctx context.Context, userID string, d *Device) (*RememberedCookie, error) {
	if s.opts.RememberAge <= 0 {
		return nil, &Error{Code: CodeValidationFailed, Message: "Remembering browsers is turned off."}
	}
	id, err := s.newID()
	if err != nil {
		return nil, internal("new browser id", err)
	}
	sec, err := secret.Token(s.rand)
	if err != nil {
		return nil, internal("new browser secret", err)
	}
	now := s.clock.Now()
	b := &RememberedBrowser{ID: id, UserID: userID, DeviceID: d.ID, SecretHash: s.keys.Hash(hashPurposeBrowser, []byte(sec)),
		CreatedAt: now, ExpiresAt: now.Add(s.opts.RememberAge), Client: ClientFrom(ctx)}
	if err := s.store.CreateBrowser(ctx, b); err != nil {
		return nil, internal("remember browser", err)
	}
	s.emit(ctx, deviceEvent(EventBrowserRemembered, d, OutcomeSuccess, ""))
	return &RememberedCookie{ID: id, Secret: sec, Expires: b.ExpiresAt}, nil
}

// RecognizeBrowser checks a remembered browser for u. It is honoured only if
// it belongs to u, its secret matches (compared in constant time), it has
// not expired, u's password has not changed since it was remembered, and its
// device still exists and is confirmed. Any other case is CodeNotFound: the
// cookie should be deleted and the second step asked, never an error page.
// A forged cookie is not counted as a failed attempt: its secret is 256
// random bits, so guessing is hopeless and throttling would only let a
// stranger lock the user out.
func (s *Service) RecognizeBrowser(ctx context.Context, u *User, id, secretValue string) (*Device, error) {
	invalid := errNotFound("remembered browser")
	if id == "" || len(id) > 64 || secretValue == "" || len(secretValue) > 256 {
		return nil, invalid
	}
	b, err := s.store.BrowserByID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, invalid
	}
	if err != nil {
		return nil, internal("load remembered browser", err)
	}
	now := s.clock.Now()
	match := false
	for _, h := range s.keys.Hashes(hashPurposeBrowser, []byte(secretValue)) {
		match = secret.Equal(h, b.SecretHash) || match
	}
	switch {
	case !match:
		return nil, invalid
	case b.UserID != u.ID:
		return nil, &Error{Code: CodeNotFound, Message: msgNotFound, Reason: ReasonOtherUser}
	case !now.Before(b.ExpiresAt), u.PasswordChangedAt.After(b.CreatedAt):
		_, _ = s.store.DeleteBrowser(ctx, b.UserID, b.ID)
		return nil, invalid
	}
	d, err := s.store.DeviceByID(ctx, b.DeviceID)
	if errors.Is(err, ErrNotFound) || (err == nil && (!d.Confirmed || d.UserID != u.ID)) {
		_, _ = s.store.DeleteBrowser(ctx, b.UserID, b.ID)
		return nil, invalid
	}
	if err != nil {
		return nil, internal("load device", err)
	}
	if err := s.store.TouchBrowser(ctx, b.ID, now); err != nil && !errors.Is(err, ErrNotFound) {
		return nil, internal("touch remembered browser", err)
	}
	s.emit(ctx, deviceEvent(EventUserVerified, d, OutcomeSuccess, "remembered browser"))
	return d, nil
}

// Browsers lists the user's remembered browsers, newest first.
func (s *Service) Browsers(ctx context.Context, userID string) ([]RememberedBrowser, error) {
	bs, err := s.store.BrowsersByUser(ctx, userID)
	if err != nil {
		return nil, internal("list remembered browsers", err)
	}
	return bs, nil
}

// RevokeBrowser forgets one of the actor's remembered browsers.
func (s *Service) RevokeBrowser(ctx context.Context, a Actor, id string) error {
	ok, err := s.store.DeleteBrowser(ctx, a.UserID, id)
	if err != nil {
		return internal("revoke remembered browser", err)
	}
	if !ok {
		return errNotFound("remembered browser")
	}
	s.emit(ctx, Event{Kind: EventBrowserRevoked, UserID: a.UserID, Outcome: OutcomeSuccess, Reason: a.reason()})
	return nil
}

// RevokeBrowsers forgets all the actor's remembered browsers.
func (s *Service) RevokeBrowsers(ctx context.Context, a Actor) (int, error) {
	return s.revokeBrowsers(ctx, a.UserID, a.reason())
}

func (s *Service) revokeBrowsers(ctx context.Context, userID, reason string) (int, error) {
	n, err := s.store.DeleteUserBrowsers(ctx, userID)
	if err != nil {
		return 0, internal("revoke remembered browsers", err)
	}
	if n > 0 {
		s.emit(ctx, Event{Kind: EventBrowserRevoked, UserID: userID, Outcome: OutcomeSuccess, Reason: reason})
	}
	return n, nil
}
