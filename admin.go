package twofactor

import (
	"context"
	"errors"
)

// Adoption counts the built-in users with two-factor on, in all and by
// device kind, for the staff console.
func (s *Service) Adoption(ctx context.Context) (Adoption, error) {
	a, err := s.store.Adoption(ctx)
	if err != nil {
		return a, internal("count adoption", err)
	}
	return a, nil
}

// Events returns the user's most recent audit events, newest first.
func (s *Service) Events(ctx context.Context, userID string, limit int) ([]Event, error) {
	es, err := s.store.EventsByUser(ctx, userID, limit)
	if err != nil {
		return nil, internal("load events", err)
	}
	return es, nil
}

// RequireStaff checks that the actor is an active staff user. The staff
// console calls it for every request; the core's admin actions call it too.
func (s *Service) RequireStaff(ctx context.Context, a Actor) (*User, error) {
	u, err := s.users.UserByID(ctx, a.UserID)
	if errors.Is(err, ErrNotFound) || (err == nil && (!u.Staff || !u.Active)) {
		return nil, &Error{Code: CodeForbidden, Message: msgForbidden}
	}
	if err != nil {
		return nil, internal("load staff user", err)
	}
	return u, nil
}

// AdminDisable turns two-factor off for another user on behalf of a staff
// member: the staff member must be active staff and have verified a second
// factor within StepUpAge (disabling someone's protection is at least as
// sensitive as disabling one's own). The target's devices, backup codes,
// pending logins and remembered browsers go; the event is audited on the
// target's trail as admin_disabled_user, naming the staff member.
func (s *Service) AdminDisable(ctx context.Context, staff Actor, targetUserID string) error {
	if _, err := s.RequireStaff(ctx, staff); err != nil {
		return err
	}
	if err := s.requireFresh(staff); err != nil {
		return err
	}
	if _, err := s.users.UserByID(ctx, targetUserID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return errNotFound("user")
		}
		return internal("load user", err)
	}
	if _, err := s.store.DisableUser(ctx, targetUserID); err != nil {
		return internal("disable two-factor", err)
	}
	by := "staff " + staff.UserID
	s.emit(ctx, Event{Kind: EventTwoFactorDisabled, UserID: targetUserID, Outcome: OutcomeSuccess, Reason: by})
	s.emit(ctx, Event{Kind: EventAdminDisabledUser, UserID: targetUserID, Outcome: OutcomeSuccess, Reason: by})
	return nil
}
