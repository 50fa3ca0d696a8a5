package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twofactor/twofactor"
)

// subjectError attaches what a command was acting on (a user, a device) to
// an error, so that the message can name it.
type subjectError struct {
	user   string
	device string
	client string // an OAuth2 client id
	err    error
}

func (e *subjectError) Error() string { return message(e) }
func (e *subjectError) Unwrap() error { return e.err }

// forUser returns err about the user named user (nil stays nil).
func forUser(user string, err error) error {
	if err == nil {
		return nil
	}
	return &subjectError{user: user, err: err}
}

// forDevice returns err about the user's device (nil stays nil).
func forDevice(user, device string, err error) error {
	if err == nil {
		return nil
	}
	return &subjectError{user: user, device: device, err: err}
}

// forClient returns err about the OAuth2 client with that id (nil stays
// nil).
func forClient(id string, err error) error {
	if err == nil {
		return nil
	}
	return &subjectError{client: id, err: err}
}

// errUnknownUser is the cause of an error about a user that does not exist.
var errUnknownUser = errors.New("no such user")

// now is the clock used for "retry in" durations.
var now = time.Now

// message is the one place that turns an error into the line printed after
// "twofactor: ". Errors of the core are described in plain words, naming
// the user or device they concern; internal causes are included, since the
// CLI is an operator's tool, but they never carry secrets. Other errors
// (configuration, opening the database) already are one line naming what
// is wrong.
func message(err error) string {
	var subj subjectError
	var s *subjectError
	if errors.As(err, &s) {
		subj = *s
	}
	var te *twofactor.Error
	switch {
	case errors.Is(err, errUnknownUser), subj.user != "" && errors.Is(err, twofactor.ErrNotFound):
		return fmt.Sprintf("user %q does not exist", subj.user)
	case subj.client != "" && (errors.Is(err, twofactor.ErrNotFound) || twofactor.CodeOf(err) == twofactor.CodeNotFound):
		return fmt.Sprintf("oauth2 client %q does not exist", subj.client)
	case errors.As(err, &te):
		return coreMessage(te, subj)
	}
	if s != nil && err == error(s) {
		err = s.err // s.Error would come back here
	}
	return strings.TrimPrefix(err.Error(), "twofactor: ")
}

// coreMessage describes an error of the core service.
func coreMessage(e *twofactor.Error, s subjectError) string {
	switch e.Code {
	case twofactor.CodeInvalidCode:
		return "code rejected: " + reasonText(e.Reason)
	case twofactor.CodeThrottled:
		return throttledText(e)
	case twofactor.CodeNoDevice:
		switch {
		case e.Reason == twofactor.ReasonNoBackupCodes:
			return fmt.Sprintf("user %q has no backup codes", s.user)
		case twofactor.Kind(e.Reason).Valid() && s.device == "":
			return fmt.Sprintf("the primary device of user %q is of kind %s, which cannot verify codes here (use --device)", s.user, e.Reason)
		case twofactor.Kind(e.Reason).Valid():
			return fmt.Sprintf("device %q is of kind %s, which cannot verify codes here", s.device, e.Reason)
		}
		return fmt.Sprintf("user %q has no two-factor device (two-factor is disabled)", s.user)
	case twofactor.CodeNotFound:
		switch {
		case e.Reason == "device" && s.device != "":
			return fmt.Sprintf("device %q not found for user %q", s.device, s.user)
		case e.Reason == "user" && s.user != "":
			return fmt.Sprintf("user %q does not exist", s.user)
		}
		return strings.TrimSpace(e.Reason + " not found")
	case twofactor.CodeValidationFailed:
		if e.Field == "" {
			return trimPeriod(e.Message)
		}
		return fmt.Sprintf("invalid %s: %s", fieldName(e.Field), trimPeriod(e.Message))
	case twofactor.CodeConflict:
		if e.Field == "username" && s.user != "" {
			return fmt.Sprintf("user %q already exists", s.user)
		}
		return trimPeriod(e.Message)
	case twofactor.CodeUnavailable:
		if e.Err != nil {
			return "database unavailable: " + e.Err.Error()
		}
		return "database unavailable"
	}
	return trimPeriod(e.Message)
}

// reasonText says in plain words why a code was refused.
func reasonText(reason string) string {
	switch reason {
	case twofactor.ReasonWrong:
		return "wrong code"
	case twofactor.ReasonReplayed:
		return "code already used (replay)"
	case twofactor.ReasonMalformed:
		return "malformed code"
	case twofactor.ReasonExpired:
		return "code expired"
	case twofactor.ReasonNotPending:
		return "no code was sent to this device"
	case "":
		return "invalid code"
	}
	return reason
}

// throttledText describes a throttle refusal with when to retry.
func throttledText(e *twofactor.Error) string {
	attempts := "attempts"
	if e.Failures == 1 {
		attempts = "attempt"
	}
	text := fmt.Sprintf("throttled: %d failed %s", e.Failures, attempts)
	if !e.RetryAt.IsZero() {
		text += fmt.Sprintf(", retry in %s (at %s)", e.RetryAfter(now()), e.RetryAt.UTC().Format(time.RFC3339))
	}
	return text
}

// fieldName names an input field of the core as the CLI user knows it.
func fieldName(field string) string {
	switch field {
	case "digits", "step", "key", "name", "email":
		return "--" + field
	case "public_id":
		return "--public-id"
	}
	return field
}

func trimPeriod(s string) string { return strings.TrimSuffix(s, ".") }
