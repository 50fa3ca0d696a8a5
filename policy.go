package twofactor

import (
	"context"
	"time"
)

// Policy says who must use two-factor authentication (SPEC §8.2).
type Policy string

// Policies.
const (
	PolicyOptional         Policy = "optional"
	PolicyRequired         Policy = "required"
	PolicyRequiredForStaff Policy = "required_for_staff"
)

// PolicyState is what the policy means for one user now.
type PolicyState struct {
	// Required is true when the policy applies to the user.
	Required bool
	// Enabled is true when the user has two-factor on.
	Enabled bool
	// Deadline is the end of the user's grace period (zero without one).
	Deadline time.Time
	// MustSetUp is true when the user must set up two-factor before going
	// on: required, not enabled, and past the deadline.
	MustSetUp bool
}

// PolicyFor evaluates the policy for u. The first time a policy with a
// grace period reaches a user is recorded, so the grace period runs from
// then, the same on every server.
func (s *Service) PolicyFor(ctx context.Context, u *User) (PolicyState, error) {
	st := PolicyState{Required: s.opts.Policy == PolicyRequired || (s.opts.Policy == PolicyRequiredForStaff && u.Staff)}
	enabled, err := s.Enabled(ctx, u.ID)
	if err != nil {
		return st, err
	}
	st.Enabled = enabled
	if !st.Required || enabled {
		return st, nil
	}
	now := s.clock.Now()
	if s.opts.PolicyGrace > 0 {
		since, err := s.store.PolicySince(ctx, u.ID, now)
		if err != nil {
			return st, internal("policy grace", err)
		}
		st.Deadline = since.Add(s.opts.PolicyGrace)
	}
	st.MustSetUp = !now.Before(st.Deadline)
	return st, nil
}
