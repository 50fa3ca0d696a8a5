// Package otp implements the one-time password algorithms used by
// authenticator apps and hardware tokens: HOTP (RFC 4226), TOTP (RFC 6238),
// the otpauth:// key URIs that carry a secret to an app through a QR code,
// and strict parsing of the codes users type.
//
// The package is a set of pure functions over values the caller passes in.
// It must never:
//
//   - store anything: verification returns what matched (the TOTP step or the
//     HOTP counter, and the new drift) so that the caller can consume it with
//     one atomic conditional write in its store, which is what makes replay
//     protection hold across concurrent requests and server instances;
//   - read the clock: every time-based function takes the Unix time in
//     seconds as an argument;
//   - generate randomness or keys: callers pass the key bytes;
//   - allocate on the verification path: HOTP, TOTP.At, TOTP.Verify and
//     VerifyHOTP make no heap allocations, so a flood of wrong codes costs a
//     few hashes each and no garbage;
//   - panic, whatever the input.
//
// Verification follows django-otp: a TOTP code is accepted within a window of
// steps around the current one (the tolerance), a step at or before the last
// step that was used never verifies again (replay protection), the lowest
// matching offset wins, and the offset that matched becomes the new drift.
// Codes are compared in constant time and every offset in the window is
// computed, so response time does not reveal which offset matched.
//
// Keys are raw bytes. HOTP accepts any key length (keys longer than the
// hash's block size are hashed first, as HMAC requires); otpauth URIs accept
// 10 to 64 byte secrets.
package otp
