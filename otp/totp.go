package otp

// TOTP describes a time-based one-time password generator (RFC 6238): the
// HOTP value of the number of time steps since T0.
type TOTP struct {
	// Key is the shared secret.
	Key []byte
	// Algorithm is the HMAC hash; the zero value is SHA1.
	Algorithm Algorithm
	// Digits is the code length; 0 means DefaultDigits.
	Digits int
	// Step is the length of a time step in seconds; 0 or negative means
	// DefaultStep.
	Step int64
	// T0 is the Unix time in seconds at which step 0 starts (usually 0).
	T0 int64
}

// Match reports which time step a verified TOTP code belonged to.
type Match struct {
	// Counter is the time step T whose code matched. Store it as the
	// device's last used step so the code cannot be used again.
	Counter int64
	// Drift is the caller's drift plus the offset that matched: the new
	// drift for a device that follows its clock (django-otp OTP_TOTP_SYNC).
	Drift int64
}

func (t TOTP) step() int64 {
	if t.Step <= 0 {
		return DefaultStep
	}
	return t.Step
}

func (t TOTP) digits() int {
	if t.Digits == 0 {
		return DefaultDigits
	}
	return t.Digits
}

// Counter returns the time step of the Unix time unix, adjusted by drift:
// floor((unix - T0) / Step) + drift. The division rounds towards negative
// infinity, also for times before T0.
func (t TOTP) Counter(unix int64, drift int64) int64 {
	s := t.step()
	d := unix - t.T0
	q := d / s
	if d%s < 0 {
		q--
	}
	return q + drift
}

// At returns the code for the Unix time unix with the given drift. Digits
// outside MinDigits..MaxDigits are clamped as in HOTP. A step before zero
// (a time before T0) is passed to HOTP as its two's complement; Verify never
// accepts such steps. At makes no heap allocations.
func (t TOTP) At(unix int64, drift int64) uint32 {
	return HOTP(t.Key, uint64(t.Counter(unix, drift)), t.Digits, t.Algorithm)
}

// Verify checks code at the Unix time unix with django-otp semantics. For
// each offset from -tolerance to +tolerance, in ascending order, the step
// T = Counter(unix, drift) + offset is tried; the first (lowest) matching
// offset wins and is reported as Match{Counter: T, Drift: drift + offset}.
//
// Steps at or before lastCounter are skipped: a code from a step that was
// already used, or from an earlier one, never verifies again. This stops
// replay of an observed code, provided the caller stores Match.Counter with
// an atomic conditional write ("set last_t = T where last_t < T") so that
// two concurrent requests cannot both consume the same step. A device that
// was never used has lastCounter -1. Negative steps never verify.
//
// Every offset in the window is computed and compared in constant time, with
// no early exit, so response time tells an attacker neither whether the
// code was close nor which offset matched (timing side channel).
//
// A negative tolerance is treated as 0 and one above MaxTolerance as
// MaxTolerance. An empty key, an undefined algorithm or Digits outside
// MinDigits..MaxDigits never verify. Verify makes no heap allocations.
func (t TOTP) Verify(code uint32, unix int64, tolerance int, drift int64, lastCounter int64) (Match, bool) {
	digits := t.digits()
	if !verifiable(t.Key, t.Algorithm, digits) {
		return Match{}, false
	}
	tol := clampTolerance(tolerance)
	base := t.Counter(unix, drift)
	var h hmacKey
	h.init(t.Key, t.Algorithm)
	var found, matchedT, matchedOff int64
	for off := -int64(tol); off <= int64(tol); off++ {
		step := base + off
		// Replay protection: steps at or before the last used one are not
		// eligible, whatever code they produce.
		eligible := bit(step > lastCounter && step >= 0)
		eq := ctEq(h.code(uint64(step), digits), code) & eligible
		first := eq &^ found
		matchedT = ctSelect(first, step, matchedT)
		matchedOff = ctSelect(first, off, matchedOff)
		found |= eq
	}
	if found != 1 {
		return Match{}, false
	}
	return Match{Counter: matchedT, Drift: drift + matchedOff}, true
}
