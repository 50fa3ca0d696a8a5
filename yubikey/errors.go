package yubikey

import "errors"

// Sentinel errors. Every error returned by this package wraps at most one of
// these (a few wrap two, said where), so callers can use errors.Is to record
// why a token was refused without parsing messages.
var (
	// ErrMalformed means the token (or a modhex string, key or id given to a
	// parser) is not well formed: wrong length, a character outside the
	// modhex alphabet, or similar. The user most likely typed into the field
	// instead of touching the key.
	ErrMalformed = errors.New("yubikey: malformed token")

	// ErrPublicID means the token's public id is not the one of the device
	// it was checked against.
	ErrPublicID = errors.New("yubikey: token belongs to another device")

	// ErrWrongKey means the token did not decrypt to a valid OTP for this
	// device: the CRC check failed or the private id inside did not match.
	// Either the token was made by another key or it was tampered with.
	ErrWrongKey = errors.New("yubikey: token does not decrypt with this device's key")

	// ErrReplayed means the OTP is not newer than the last one accepted: its
	// counter is not greater than the stored one (local verification), or
	// the validation service answered REPLAYED_OTP.
	ErrReplayed = errors.New("yubikey: token already used")

	// ErrBadOTP means the validation service answered BAD_OTP: it does not
	// know the token or could not decrypt it. Client.Verify also returns it
	// (together with ErrMalformed) for a token that is not well formed, which
	// it refuses to send.
	ErrBadOTP = errors.New("yubikey: validation service rejected the token")

	// ErrBadSignature means a validation response could not be trusted: its
	// HMAC signature was missing or wrong, or it did not echo the nonce or the
	// OTP of the request. It may be an attack; the token must be refused.
	ErrBadSignature = errors.New("yubikey: validation response failed authentication")

	// ErrStatus is wrapped, through a *StatusError, by every error for a
	// validation status other than OK, REPLAYED_OTP and BAD_OTP (such as
	// NO_SUCH_CLIENT, BAD_SIGNATURE, MISSING_PARAMETER,
	// OPERATION_NOT_ALLOWED, BACKEND_ERROR, NOT_ENOUGH_ANSWERS,
	// REPLAYED_REQUEST or a status this package does not know). These point
	// at configuration or at the service, not at the user.
	ErrStatus = errors.New("yubikey: validation service refused the request")

	// ErrBadResponse means the validation service answered HTTP 200 with a
	// body that is not a protocol 2.0 response: too large, lines without
	// "=", repeated keys, no status. Treat it like ErrUnavailable.
	ErrBadResponse = errors.New("yubikey: malformed validation response")

	// ErrUnavailable means the validation service could not be reached or
	// answered with an HTTP error: transport failure, timeout, cancelled
	// context or a non-200 status. The cause is wrapped as well, so
	// errors.Is(err, context.DeadlineExceeded) works.
	ErrUnavailable = errors.New("yubikey: validation service unavailable")

	// ErrConfig means a Client is not usable as configured: no API id, a
	// URL that is not http(s), a sync level out of range, or no API key
	// without AllowUnsigned.
	ErrConfig = errors.New("yubikey: invalid validation client configuration")
)

// StatusError reports a validation status that is neither OK nor one with a
// sentinel of its own. It wraps ErrStatus.
type StatusError struct {
	// Status is the status word from the response, such as "NO_SUCH_CLIENT".
	Status string
}

// Error implements error.
func (e *StatusError) Error() string {
	return "yubikey: validation service answered " + e.Status
}

// Unwrap returns ErrStatus.
func (e *StatusError) Unwrap() error { return ErrStatus }
