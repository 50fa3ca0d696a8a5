package twofactor

import "context"

// FinishWebAuthnRegistrationInSession finishes a registration begun by
// BeginWebAuthnRegistration for the session's user, as
// FinishWebAuthnRegistration does. Like ConfirmInSession, when the key turns
// two-factor on the session is marked verified by it, so the user who just
// proved it is not asked again; a further key leaves the session's
// verification as it was: it proves possession of itself, not of the
// account's existing factors, so it must not open step-up actions.
func (s *Service) FinishWebAuthnRegistrationInSession(ctx context.Context, sess *Session, ceremony string, response []byte, name string) (*Confirmation, error) {
	if sess == nil || sess.UserID == "" {
		return nil, errNotFound("session")
	}
	c, err := s.FinishWebAuthnRegistration(ctx, sess.Actor(), ceremony, response, name)
	if err != nil {
		return nil, err
	}
	return c, s.verifyByFirstDevice(ctx, sess, c)
}
