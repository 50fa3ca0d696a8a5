package twofactor

import (
	"context"
	"time"
)

// Actor is who performs a management action, and how recently they proved a
// second factor. The service decides from it whether step-up is needed.
type Actor struct {
	UserID string
	// VerifiedAt is when the acting session or token last verified a second
	// factor; zero means never.
	VerifiedAt time.Time
	// Operator marks an administrator acting on the user's behalf (the CLI,
	// the staff console): step-up does not apply, and events say so.
	Operator bool
}

// UserActor is a user acting for themselves with a session or token that
// verified a second factor at verifiedAt (zero if never).
func UserActor(userID string, verifiedAt time.Time) Actor {
	return Actor{UserID: userID, VerifiedAt: verifiedAt}
}

// OperatorActor is an administrator acting on the user userID.
func OperatorActor(userID string) Actor { return Actor{UserID: userID, Operator: true} }

func (a Actor) reason() string {
	if a.Operator {
		return "operator"
	}
	return ""
}

// requireStepUp enforces SPEC §10.8: a sensitive action on an account with
// two-factor enabled needs a second factor verified within StepUpAge, so a
// stolen session or token alone cannot weaken the account.
func (s *Service) requireStepUp(ctx context.Context, a Actor) error {
	if a.Operator {
		return nil
	}
	enabled, err := s.Enabled(ctx, a.UserID)
	if err != nil {
		return err
	}
	if !enabled {
		return nil
	}
	return s.requireFresh(a)
}

// requireStepUpToAdd guards adding a device: with two-factor on, a new
// device needs a recent second factor, or a stolen session could add the
// attacker's own device — which would then outlive a password change and,
// verifying the session, open every step-up action.
func (s *Service) requireStepUpToAdd(ctx context.Context, a Actor) error {
	return s.requireStepUp(ctx, a)
}

// requireFresh checks that the actor verified a second factor within
// StepUpAge, whatever its account's state.
func (s *Service) requireFresh(a Actor) error {
	if a.VerifiedAt.IsZero() || s.clock.Now().Sub(a.VerifiedAt) > s.opts.StepUpAge {
		return &Error{Code: CodeStepUpRequired, Message: msgStepUp}
	}
	return nil
}
