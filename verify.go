package twofactor

import (
	"context"
	"errors"
	"strings"
)

// Verify checks a code the user typed, with every rule: throttling per
// device and per user, replay protection, single use. The input's form picks
// what it is checked against, exactly one thing and never several in turn
// (which would multiply an attacker's guesses and throttle innocent devices,
// django-otp#110): a backup code goes to the backup codes, anything else to
// the device deviceID (one of the user's confirmed devices), or the primary
// device when deviceID is "". It returns the device that verified.
func (s *Service) Verify(ctx context.Context, userID, input, deviceID string) (*Device, error) {
	if s.looksLikeBackupCode(input) {
		return s.verifyBackupCode(ctx, userID, input)
	}
	if pub, ok := yubikeyPublicID(input); ok && pub != "" {
		// A YubiKey OTP names its key: its public id.
		d, err := s.yubikeyDevice(ctx, userID, pub)
		if err != nil {
			return nil, err
		}
		if d != nil {
			return s.verifyYubiKey(ctx, d, input)
		}
	}
	return s.VerifyDevice(ctx, userID, deviceID, input)
}

// VerifyDevice checks input against exactly the device deviceID (the
// primary when ""), whatever the input looks like. A static device id
// checks the backup codes.
func (s *Service) VerifyDevice(ctx context.Context, userID, deviceID, input string) (*Device, error) {
	if strings.TrimSpace(input) == "" {
		return nil, errValidation("code", msgCodeRequired)
	}
	d, err := s.verifiableDevice(ctx, userID, deviceID)
	if err != nil {
		return nil, err
	}
	switch d.Kind {
	case KindStatic:
		return s.verifyBackupCode(ctx, userID, input)
	case KindYubiKey:
		return s.verifyYubiKey(ctx, d, input)
	}
	check := s.checker(d.Kind, input)
	if check == nil {
		return nil, &Error{Code: CodeNoDevice, Message: "This device cannot verify codes here.", Reason: string(d.Kind)}
	}
	return s.verify(ctx, d, check)
}

// checker returns the check of a typed code for a device kind, or nil for
// kinds that are not verified by a typed code here.
func (s *Service) checker(k Kind, input string) func(*Device) Check {
	switch k {
	case KindTOTP, KindHOTP:
		return func(d *Device) Check {
			m, reason, err := s.matchCounter(d, input)
			return Check{Reason: reason, Counter: m.Counter, Drift: s.drift(d, m), Err: err}
		}
	case KindSMS, KindCall, KindEmail:
		return func(d *Device) Check { return s.checkSentCode(d, input) }
	}
	return nil
}

// verify runs one verification of device d through the store — claim,
// check, consume and audit in one transaction — and maps the result.
func (s *Service) verify(ctx context.Context, d *Device, check func(*Device) Check) (*Device, error) {
	res, err := s.runVerification(ctx, d, check, false)
	if err != nil {
		return nil, err
	}
	return res.Device, nil
}

// runVerification runs one verification (or confirmation) of device d
// through the store and maps a refusal to an *Error.
func (s *Service) runVerification(ctx context.Context, d *Device, check func(*Device) Check, confirm bool) (*VerifyResult, error) {
	res, err := s.store.Verify(ctx, Verification{
		Attempt: Attempt{UserID: d.UserID, DeviceID: d.ID, Now: s.clock.Now(),
			UserFactor: s.opts.UserThrottle, DeviceFactor: s.opts.throttle(d.Kind)},
		Check:   check,
		Events:  func(d *Device, r *VerifyResult) []Event { return s.verificationEvents(ctx, d, r, confirm) },
		Confirm: confirm,
	})
	if errors.Is(err, ErrNotFound) {
		return nil, errNotFound("device")
	}
	if err != nil {
		return nil, internal("verify code", err)
	}
	s.notify(ctx, res.Events...)
	switch {
	case !res.Allowed:
		return nil, errThrottled(res.RetryAt, res.Failures)
	case !res.Verified:
		return nil, errInvalidCode(res.Reason, nil)
	}
	return &res, nil
}

// verificationEvents are the audit events of a verification's outcome.
func (s *Service) verificationEvents(ctx context.Context, d *Device, r *VerifyResult, confirm bool) []Event {
	var evs []Event
	switch {
	case !r.Allowed:
		evs = append(evs, deviceEvent(EventThrottled, d, OutcomeRefused, ""))
	case !r.Verified:
		evs = append(evs, deviceEvent(EventVerificationFailed, d, OutcomeFailure, r.Reason))
	case confirm:
		evs = append(evs, deviceEvent(EventDeviceAdded, d, OutcomeSuccess, ""))
	default:
		if d.Kind == KindStatic {
			evs = append(evs, deviceEvent(EventBackupCodeUsed, d, OutcomeSuccess, ""))
		}
		evs = append(evs, deviceEvent(EventUserVerified, d, OutcomeSuccess, ""))
	}
	for i := range evs {
		evs[i] = s.stamp(ctx, evs[i])
	}
	return evs
}

// verifyBackupCode checks input against the user's backup codes and, on a
// match, deletes that code (single use, atomically: of two concurrent uses
// exactly one succeeds).
func (s *Service) verifyBackupCode(ctx context.Context, userID, input string) (*Device, error) {
	if strings.TrimSpace(input) == "" {
		return nil, errValidation("code", msgCodeRequired)
	}
	d, err := s.staticDevice(ctx, userID)
	if err != nil {
		return nil, err
	}
	n := normalizeBackupCode(strings.TrimSpace(input))
	return s.verify(ctx, d, func(*Device) Check {
		if !validBackupCode(n, s.opts.BackupCodeLength) {
			return Check{Reason: ReasonMalformed}
		}
		// The lookup is by keyed hash: timing differences in the database
		// index reveal nothing, because an attacker cannot compute the
		// hashes.
		return Check{CodeHashes: s.keys.Hashes(hashPurposeBackupCode, []byte(n))}
	})
}
