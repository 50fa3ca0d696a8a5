package twofactor

import (
	"errors"
	"fmt"
	"time"
)

// Code is the stable, machine-readable identifier of an [Error]. Adapters map
// it to HTTP statuses, problem types, form messages and CLI exit codes; clients
// may rely on these strings never changing.
type Code string

// Error codes. New codes may be added; existing ones never change meaning.
const (
	// CodeInvalidCredentials: the username or password is wrong, or the
	// account is inactive (the two are not distinguished, to stop account
	// enumeration).
	CodeInvalidCredentials Code = "invalid_credentials"
	// CodeMFARequired: the password was right and a second factor is needed.
	CodeMFARequired Code = "mfa_required"
	// CodeInvalidCode: the submitted code was not accepted; Reason says why.
	CodeInvalidCode Code = "invalid_code"
	// CodeThrottled: too many failures; RetryAfter says when to try again.
	CodeThrottled Code = "throttled"
	// CodeStepUpRequired: the action needs a second factor verified within
	// the step-up age.
	CodeStepUpRequired Code = "step_up_required"
	// CodeNotFound: the user, device or challenge does not exist (or belongs
	// to someone else, which is reported the same way).
	CodeNotFound Code = "not_found"
	// CodeValidationFailed: an input value is invalid; Field names it.
	CodeValidationFailed Code = "validation_failed"
	// CodeConflict: the change conflicts with existing state (a duplicate
	// username, a device that is already confirmed).
	CodeConflict Code = "conflict"
	// CodeExpired: a login challenge or setup is too old; start again.
	CodeExpired Code = "expired"
	// CodeNoDevice: the user has no device that can verify this code.
	CodeNoDevice Code = "no_device"
	// CodeForbidden: the actor may not do this (not staff).
	CodeForbidden Code = "forbidden"
	// CodeGatewayFailed: the SMS, voice or email provider failed; nothing
	// was sent and nothing half-made was kept.
	CodeGatewayFailed Code = "gateway_failed"
	// CodeUnavailable: a dependency (the database) failed; try again later.
	CodeUnavailable Code = "unavailable"
)

// Reasons detail why a code was refused (Error.Reason with CodeInvalidCode).
// They are meant for audit logs and operators; user-facing messages stay
// generic so an attacker learns nothing from them.
const (
	ReasonWrong      = "wrong"       // no match in the accepted window
	ReasonReplayed   = "replayed"    // the code was valid once and has been used
	ReasonMalformed  = "malformed"   // not a code of the expected form
	ReasonExpired    = "expired"     // a sent code whose validity ended
	ReasonNotPending = "not_pending" // no code was sent to this device

	// ReasonNoBackupCodes (with CodeNoDevice): the user has no backup codes.
	ReasonNoBackupCodes = "no_backup_codes"
	// ReasonCooldown and ReasonDailyLimit (with CodeThrottled from sending
	// a code): a code was sent to the device a moment ago, or the user
	// reached the daily number of codes.
	ReasonCooldown   = "cooldown"
	ReasonDailyLimit = "daily_limit"

	// ReasonOtherUser (with CodeNotFound from RecognizeBrowser): a valid
	// remembered browser of another user (a shared computer); adapters keep
	// its cookie.
	ReasonOtherUser = "other_user"
)

// Error is the one error type the core returns for anything a user or client
// did (as opposed to internal failures, which it wraps with CodeUnavailable).
// Its Message is safe to show to users (and is a message-catalog key); the
// wrapped Err is for logs only and never reaches users.
type Error struct {
	Code    Code   // stable machine code
	Message string // public message in English; translate via the catalog
	Reason  string // finer detail for logs/operators (e.g. ReasonReplayed)
	Field   string // the input field at fault, for CodeValidationFailed

	// RetryAt is when a throttled operation may be retried (CodeThrottled).
	RetryAt time.Time
	// Failures is the consecutive failure count behind a throttle.
	Failures int

	Err error // internal cause; never shown to users
}

// Error implements error. It includes the reason and the internal cause, for logs.
func (e *Error) Error() string {
	s := string(e.Code)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Reason != "" {
		s += " (" + e.Reason + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same Code, so that
// errors.Is(err, &twofactor.Error{Code: twofactor.CodeThrottled}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// RetryAfter returns how long to wait from now before retrying, rounded up
// to whole seconds and at least one second when a retry time is set.
func (e *Error) RetryAfter(now time.Time) time.Duration {
	if e.RetryAt.IsZero() {
		return 0
	}
	d := e.RetryAt.Sub(now)
	if d < time.Second {
		return time.Second
	}
	return (d + time.Second - 1).Truncate(time.Second)
}

// CodeOf returns the Code of err if it is (or wraps) an *Error, else
// CodeUnavailable for any other non-nil error and "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeUnavailable
}

// AsError returns err as an *Error; any other non-nil error becomes a
// CodeUnavailable error wrapping it, with a generic public message.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeUnavailable, Message: msgUnavailable, Err: err}
}

// Public messages. They are English message-catalog keys; the seed's wording
// is kept where users know it.
const (
	msgInvalidCredentials = "Please enter a correct username and password. Note that both fields may be case-sensitive."
	msgInvalidCode        = "Invalid token. Please make sure you have entered it correctly."
	msgThrottledOne       = "Verification temporarily disabled because of %d failed attempt, please try again soon."
	msgThrottledMany      = "Verification temporarily disabled because of %d failed attempts, please try again soon."
	msgStepUp             = "Please confirm it is you: enter a code from your authentication device."
	msgNotFound           = "Not found."
	msgForbidden          = "You do not have permission to do this."
	msgExpired            = "Your session has timed out. Please login again."
	msgNoDevice           = "Two-factor authentication is not enabled for this account."
	msgUnavailable        = "The service is temporarily unavailable. Please try again."
	msgCodeRequired       = "Please enter your OTP token."
	msgSignInRate         = "Too many sign-in attempts from your network. Please try again later."
	msgInvalidPhone       = "Please enter a valid phone number, including your country code starting with + or 00."
	msgGatewayFailed      = "We could not send the code. Please try again later or use another method."
	msgYubiCloud          = "We could not check the YubiKey code. Please try again later or use another method."
	msgSendCooldown       = "A code was sent a moment ago. Please wait before asking for another one."
	msgSendDailyLimit     = "Too many codes were sent today. Please use another method or try again tomorrow."
)

func errInvalidCode(reason string, cause error) *Error {
	return &Error{Code: CodeInvalidCode, Message: msgInvalidCode, Reason: reason, Err: cause}
}

func errThrottled(retryAt time.Time, failures int) *Error {
	msg := msgThrottledMany
	if failures == 1 {
		msg = msgThrottledOne
	}
	return &Error{Code: CodeThrottled, Message: fmt.Sprintf(msg, failures), RetryAt: retryAt, Failures: failures}
}

func errNotFound(what string) *Error {
	return &Error{Code: CodeNotFound, Message: msgNotFound, Reason: what}
}

func errValidation(field, message string) *Error {
	return &Error{Code: CodeValidationFailed, Message: message, Field: field}
}

// internal wraps an unexpected failure (usually the store's) with context.
func internal(op string, err error) *Error {
	return &Error{Code: CodeUnavailable, Message: msgUnavailable, Err: fmt.Errorf("%s: %w", op, err)}
}

// ErrNotFound is returned by Store methods when the requested record does not
// exist. It is a store-level sentinel; the Service turns it into an *Error
// with CodeNotFound.
var ErrNotFound = errors.New("twofactor: record not found")

// ErrConflict is returned by Store methods when a uniqueness rule is violated
// (a duplicate username, a second backup-code device).
var ErrConflict = errors.New("twofactor: record conflicts with an existing one")

// ErrSchemaTooNew is returned by Store.Migrate when the database was created
// by a newer version of twofactor; running an older build against it could
// corrupt data, so it is refused.
var ErrSchemaTooNew = errors.New("twofactor: the database schema is newer than this build; upgrade twofactor")
