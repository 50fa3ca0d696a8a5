package twofactor

import (
	"context"
	"errors"
	"math"
	"strings"

	"github.com/twofactor/twofactor/otp"
	"github.com/twofactor/twofactor/secret"
)

// hashPurposeBackupCode separates backup-code hashes from every other keyed
// hash made with the same keyring.
const hashPurposeBackupCode = "backup-code"

// normalizeBackupCode lower-cases input and drops dashes and spaces, so
// "K7M2P-X9QRT", "k7m2p x9qrt" and "k7m2px9qrt" are the same code.
func normalizeBackupCode(input string) string {
	var b strings.Builder
	b.Grow(len(input))
	for i := 0; i < len(input); i++ {
		c := input[i]
		switch {
		case c == '-' || c == ' ':
		case 'A' <= c && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// looksLikeBackupCode reports whether input has the form of a backup code:
// the configured number of letters and digits once dashes and spaces are
// dropped. A digits-only input without a dash is taken for a device code.
// Generated backup codes always contain a letter, so no code is ambiguous.
func (s *Service) looksLikeBackupCode(input string) bool {
	n := normalizeBackupCode(strings.TrimSpace(input))
	if len(n) != s.opts.BackupCodeLength {
		return false
	}
	letters := false
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case 'a' <= c && c <= 'z':
			letters = true
		case '0' <= c && c <= '9':
		default:
			return false
		}
	}
	return letters || strings.Contains(input, "-")
}

// validBackupCode reports whether a normalized code can be one we issued.
func validBackupCode(n string, length int) bool {
	if len(n) != length {
		return false
	}
	for i := 0; i < len(n); i++ {
		if !strings.Contains(secret.BackupAlphabet, n[i:i+1]) {
			return false
		}
	}
	return true
}

// formatBackupCode prints a code in two dash-separated groups: k7m2p-x9qrt.
func formatBackupCode(n string) string {
	h := (len(n) + 1) / 2
	return n[:h] + "-" + n[h:]
}

// claim records an attempt against the device (and the user, unless
// deviceOnly) before a code is evaluated outside the store, so that
// parallel guesses are refused rather than checked (SPEC §4.3). A refusal
// is audited.
func (s *Service) claim(ctx context.Context, d *Device, deviceOnly bool) error {
	res, err := s.store.ClaimAttempt(ctx, Attempt{
		UserID: d.UserID, DeviceID: d.ID, Now: s.clock.Now(),
		UserFactor: s.opts.UserThrottle, DeviceFactor: s.opts.throttle(d.Kind), DeviceOnly: deviceOnly,
	})
	if errors.Is(err, ErrNotFound) {
		return errNotFound("device")
	}
	if err != nil {
		return internal("claim attempt", err)
	}
	if !res.Allowed {
		s.emit(ctx, deviceEvent(EventThrottled, d, OutcomeRefused, ""))
		return errThrottled(res.RetryAt, res.Failures)
	}
	return nil
}

// matchCounter checks a TOTP or HOTP code against d without consuming it.
// It returns the matched counter, or a failure reason.
func (s *Service) matchCounter(d *Device, input string) (otp.Match, string, error) {
	code, err := otp.ParseCode(input, d.Digits)
	if err != nil {
		return otp.Match{}, ReasonMalformed, nil
	}
	alg, err := otp.ParseAlgorithm(d.Algorithm)
	if err != nil {
		return otp.Match{}, "", internal("device algorithm", err)
	}
	key, err := s.keys.Open(d.Secret, deviceSecretAAD(d.ID))
	if err != nil {
		return otp.Match{}, "", internal("open device key", err)
	}
	defer clear(key)
	switch d.Kind {
	case KindTOTP:
		t := otp.TOTP{Key: key, Algorithm: alg, Digits: d.Digits, Step: d.Step, T0: d.T0}
		now := s.clock.Now().Unix()
		if m, ok := t.Verify(code, now, d.Tolerance, d.Drift, d.Counter); ok {
			return m, "", nil
		}
		// Tell a replay from a wrong code, for the audit trail.
		if _, ok := t.Verify(code, now, d.Tolerance, d.Drift, math.MinInt64); ok {
			return otp.Match{}, ReasonReplayed, nil
		}
		return otp.Match{}, ReasonWrong, nil
	case KindHOTP:
		if c, ok := otp.VerifyHOTP(key, alg, d.Digits, code, d.Counter, d.Tolerance); ok {
			return otp.Match{Counter: c, Drift: d.Drift}, "", nil
		}
		return otp.Match{}, ReasonWrong, nil
	}
	return otp.Match{}, "", errors.New("twofactor: not a counter device")
}

// drift returns the drift to store after a match: the matched one when
// drift sync is on (django-otp OTP_TOTP_SYNC), else the device's own.
func (s *Service) drift(d *Device, m otp.Match) int64 {
	if d.Kind == KindTOTP && s.opts.TOTPSyncDrift {
		return m.Drift
	}
	return d.Drift
}

// deviceSecretAAD binds a sealed device key to its row: a ciphertext copied
// into another device's row does not decrypt.
func deviceSecretAAD(deviceID string) secret.AAD {
	return secret.AAD{Table: "devices", Column: "secret", Row: deviceID}
}
