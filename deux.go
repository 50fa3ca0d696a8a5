package twofactor

import (
	"context"
	"encoding/hex"
	"strings"

	"github.com/twofactor/twofactor/secret"
)

// The core side of the deux-compatible API (SPEC §7.2, package api/deux).
// deux gives a user one SMS phone and one recovery code: twelve upper-case
// hexadecimal characters, a new one each time the user asks for it, whose
// use at sign-in turns two-factor off. Here the recovery code is the user's
// one backup code, kept like every backup code as a keyed hash only (under
// its own hash purpose, so that it never verifies as a regular backup code
// and a regular one never verifies as it), single use, and throttled with
// the backup-code device.

// hashPurposeDeuxRecovery separates deux recovery-code hashes from every
// other keyed hash, the regular backup codes' included.
const hashPurposeDeuxRecovery = "deux-recovery"

// DeuxRecoveryCodeLength is the length of a deux recovery code, deux's
// BACKUP_CODE_DIGITS: 12 upper-case hexadecimal characters (48 random bits).
const DeuxRecoveryCodeLength = 12

// ReasonDeuxRecovery is the Reason of the two_factor_disabled event of a
// sign-in with a deux recovery code, and of the events of the deux API's
// own actions.
const ReasonDeuxRecovery = "deux recovery code"

// reasonDeux marks the events of actions taken through the deux API.
const reasonDeux = "deux"

// DeuxRecoveryCode replaces the actor's backup codes with one new deux
// recovery code and returns it; only its keyed hash is stored. As in deux a
// new code is made on every call, and the previous one (and any regular
// backup code) stops working. Two-factor must be on (else CodeNoDevice),
// and unlike deux the actor needs step-up: showing a code that turns
// two-factor off is as sensitive as new backup codes.
func (s *Service) DeuxRecoveryCode(ctx context.Context, a Actor) (string, error) {
	enabled, err := s.Enabled(ctx, a.UserID)
	if err != nil {
		return "", err
	}
	if !enabled {
		return "", &Error{Code: CodeNoDevice, Message: msgNoDevice}
	}
	if err := s.requireStepUp(ctx, a); err != nil {
		return "", err
	}
	b, err := secret.RandomBytes(s.rand, DeuxRecoveryCodeLength/2)
	if err != nil {
		return "", internal("new recovery code", err)
	}
	code := strings.ToUpper(hex.EncodeToString(b))
	id, err := s.newID()
	if err != nil {
		return "", internal("new device id", err)
	}
	static := &Device{ID: id, UserID: a.UserID, Kind: KindStatic, Name: "Backup codes", Confirmed: true,
		CreatedAt: s.clock.Now(), Counter: -1}
	d, err := s.store.ReplaceBackupCodes(ctx, static, [][]byte{s.keys.Hash(hashPurposeDeuxRecovery, []byte(code))})
	if err != nil {
		return "", internal("store recovery code", err)
	}
	reason := reasonDeux
	if a.Operator {
		reason = a.reason()
	}
	s.emit(ctx, deviceEvent(EventBackupCodesRegenerated, d, OutcomeSuccess, reason))
	return code, nil
}

// CompleteLoginDeuxRecovery finishes a login challenge with a deux recovery
// code (deux's backup_code), under every rule of CompleteLogin: the code is
// checked against the backup-code device only, throttled with it (a wrong
// code is a failed attempt), and used once. As in deux, a sign-in with the
// recovery code turns two-factor off: every device, backup code and
// remembered browser of the user is removed. That is an audit event
// (two_factor_disabled, reason ReasonDeuxRecovery) and, with a mailer, a
// notice to the user, after the backup_code_used one. Two-factor being off,
// the result's Device is nil: the session it starts is not verified by a
// second factor.
//
// The code is compared as typed (deux's codes are case-sensitive); a value
// that is not 12 upper-case hexadecimal characters is a failed attempt.
func (s *Service) CompleteLoginDeuxRecovery(ctx context.Context, token, code string) (*LoginResult, error) {
	res, err := s.completeLogin(ctx, token, func(c *Challenge) (*Device, error) {
		return s.verifyDeuxRecovery(ctx, c.UserID, code)
	})
	if err != nil {
		return nil, err
	}
	if _, err := s.store.DisableUser(ctx, res.User.ID); err != nil {
		return nil, internal("disable two-factor", err)
	}
	s.emit(ctx, Event{Kind: EventTwoFactorDisabled, UserID: res.User.ID, Outcome: OutcomeSuccess, Reason: ReasonDeuxRecovery})
	res.Device = nil
	return res, nil
}

// verifyDeuxRecovery checks input against the user's deux recovery code and
// consumes it on a match.
func (s *Service) verifyDeuxRecovery(ctx context.Context, userID, input string) (*Device, error) {
	if input == "" {
		return nil, errValidation("code", msgCodeRequired)
	}
	d, err := s.staticDevice(ctx, userID)
	if err != nil {
		return nil, err
	}
	return s.verify(ctx, d, func(*Device) Check {
		if !validDeuxRecoveryCode(input) {
			return Check{Reason: ReasonMalformed}
		}
		return Check{CodeHashes: s.keys.Hashes(hashPurposeDeuxRecovery, []byte(input))}
	})
}

// validDeuxRecoveryCode reports whether s can be a deux recovery code.
func validDeuxRecoveryCode(s string) bool {
	if len(s) != DeuxRecoveryCodeLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// ValidDeuxPhoneNumber reports whether s is a phone number as deux takes
// it: 7 to 15 ASCII digits, country code first, no "+" (deux's
// ^\d{7,15}$).
func ValidDeuxPhoneNumber(s string) bool {
	if len(s) < 7 || len(s) > 15 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// AddDeuxPhone adds an unconfirmed sms device for the actor's user at a
// number in deux's form (see ValidDeuxPhoneNumber) and sends it a first
// code, as AddPhone does. The number is taken as E.164 by prefixing "+" —
// deux's numbers carry the country code without it — and stored so; the
// gateway, not a numbering plan, decides whether it exists (a refusal is
// CodeValidationFailed on phone_number, and no device is kept).
func (s *Service) AddDeuxPhone(ctx context.Context, a Actor, digits string) (*Device, error) {
	if !s.available(KindSMS) {
		return nil, errValidation("method", "This method is not available.")
	}
	if !ValidDeuxPhoneNumber(digits) {
		return nil, errValidation("phone_number", msgInvalidPhone)
	}
	return s.addInteractive(ctx, a, KindSMS, "+"+digits, "Text message")
}

// DeuxDisable turns two-factor off for the actor's user as deux's
// DELETE /mfa/ does: like Disable, but without step-up, which deux's
// clients cannot give. It still needs an actor that verified a second
// factor in its session (a.VerifiedAt set) when two-factor is on, so a
// token issued before two-factor was turned on cannot turn it off.
func (s *Service) DeuxDisable(ctx context.Context, a Actor) error {
	enabled, err := s.Enabled(ctx, a.UserID)
	if err != nil {
		return err
	}
	if !enabled {
		return &Error{Code: CodeNoDevice, Message: msgNoDevice}
	}
	if !a.Operator && a.VerifiedAt.IsZero() {
		return &Error{Code: CodeStepUpRequired, Message: msgStepUp}
	}
	if _, err := s.store.DisableUser(ctx, a.UserID); err != nil {
		return internal("disable two-factor", err)
	}
	reason := reasonDeux
	if a.Operator {
		reason = a.reason()
	}
	s.emit(ctx, Event{Kind: EventTwoFactorDisabled, UserID: a.UserID, Outcome: OutcomeSuccess, Reason: reason})
	return nil
}
