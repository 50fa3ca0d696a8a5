package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/twofactor/twofactor"
)

// ProblemTypeBase is the start of every problem's type URI; the code
// follows it. It points at the errors table of the API guide.
const ProblemTypeBase = "https://github.com/twofactor/twofactor/blob/main/docs/API.md#"

// Problem codes the API adds to the core's [twofactor.Code]s.
const (
	// CodeUnauthorized: the request has no usable Authorization header.
	CodeUnauthorized = "unauthorized"
	// CodeInvalidToken: the token is unknown, expired or revoked.
	CodeInvalidToken = "invalid_token"
	// CodeMethodNotAllowed: the path exists, the method does not.
	CodeMethodNotAllowed = "method_not_allowed"
	// CodeUnsupportedMediaType: the body is not application/json.
	CodeUnsupportedMediaType = "unsupported_media_type"
	// CodeTooLarge: the body exceeds the size limit.
	CodeTooLarge = "request_too_large"
	// CodeInternal: a bug; the server logged it.
	CodeInternal = "internal_error"
)

// problem is an RFC 9457 problem details object, the body of every error
// response (Content-Type application/problem+json). Code is stable: clients
// branch on it, not on Title or Detail. Handlers return it as an error.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	// Field names the request field at fault (the first one when there
	// are several); Errors lists every one.
	Field  string       `json:"field,omitempty"`
	Errors []fieldError `json:"errors,omitempty"`
	// RetryAfter is the number of seconds to wait (429), as in the
	// Retry-After header.
	RetryAfter int64 `json:"retry_after,omitempty"`
	// Reason refines Code where a client acts on the difference: with
	// expired, "ceremony" says that only the security-key ceremony is gone
	// (unknown, expired or used): begin a new one, not a new sign-in.
	Reason string `json:"reason,omitempty"`

	mfa             *mfaChallenge // the "mfa_required" answer of POST /api/v1/login
	allow           string        // Allow header of a 405
	wwwAuthenticate string        // WWW-Authenticate header of a 401
}

// fieldError is one invalid request field.
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// mfaChallenge is what a client needs to finish a sign-in that needs a
// second factor: the token of the login challenge, when it expires (null
// without a timeout) and the methods to choose from, the one verify checks
// by default first.
type mfaChallenge struct {
	MFAToken  string     `json:"mfa_token"`
	ExpiresAt *timestamp `json:"expires_at"`
	Methods   []method   `json:"methods"`
}

// mfaProblem is the "mfa_required" problem with the challenge's members at
// the top level.
type mfaProblem struct {
	problem
	mfaChallenge
}

// body returns what p is written as.
func (p *problem) body() any {
	if p.mfa != nil {
		return mfaProblem{*p, *p.mfa}
	}
	return p
}

// Error implements error.
func (p *problem) Error() string { return p.Code + ": " + p.Detail }

// titles are the short, fixed summaries of each code.
var titles = map[string]string{
	string(twofactor.CodeInvalidCredentials): "Invalid credentials",
	string(twofactor.CodeMFARequired):        "Second factor required",
	string(twofactor.CodeInvalidCode):        "Invalid code",
	string(twofactor.CodeThrottled):          "Too many attempts",
	string(twofactor.CodeStepUpRequired):     "Step-up required",
	string(twofactor.CodeNotFound):           "Not found",
	string(twofactor.CodeValidationFailed):   "Invalid request",
	string(twofactor.CodeConflict):           "Conflict",
	string(twofactor.CodeExpired):            "Expired",
	string(twofactor.CodeNoDevice):           "No device",
	string(twofactor.CodeUnavailable):        "Service unavailable",
	string(twofactor.CodeGatewayFailed):      "Message not sent",
	string(twofactor.CodeForbidden):          "Forbidden",
	CodeUnauthorized:                         "Unauthorized",
	CodeInvalidToken:                         "Invalid token",
	CodeMethodNotAllowed:                     "Method not allowed",
	CodeUnsupportedMediaType:                 "Unsupported media type",
	CodeTooLarge:                             "Request too large",
	CodeInternal:                             "Internal error",
}

// newProblem returns a problem with the type and title of code.
func newProblem(status int, code, detail string) *problem {
	title, ok := titles[code]
	if !ok {
		title = http.StatusText(status)
	}
	return &problem{Type: ProblemTypeBase + code, Title: title, Status: status, Detail: detail, Code: code}
}

// invalid returns a validation_failed problem for one or more fields.
func invalid(errs ...fieldError) *problem {
	p := newProblem(http.StatusBadRequest, string(twofactor.CodeValidationFailed), "")
	p.Errors = errs
	if len(errs) > 0 {
		p.Field = errs[0].Field
		p.Detail = errs[0].Field + ": " + errs[0].Message
		if len(errs) > 1 {
			p.Detail += " (and " + strconv.Itoa(len(errs)-1) + " more, see errors)"
		}
	}
	return p
}

// badRequest returns a validation_failed problem about the body as a
// whole (malformed JSON), not a field.
func badRequest(detail string) *problem {
	return newProblem(http.StatusBadRequest, string(twofactor.CodeValidationFailed), detail)
}

// statusOf is the HTTP status of each core code.
var statusOf = map[twofactor.Code]int{
	twofactor.CodeInvalidCredentials: http.StatusUnauthorized,
	twofactor.CodeMFARequired:        http.StatusUnauthorized,
	twofactor.CodeInvalidCode:        http.StatusBadRequest,
	twofactor.CodeThrottled:          http.StatusTooManyRequests,
	twofactor.CodeStepUpRequired:     http.StatusForbidden,
	twofactor.CodeNotFound:           http.StatusNotFound,
	twofactor.CodeValidationFailed:   http.StatusBadRequest,
	twofactor.CodeConflict:           http.StatusConflict,
	twofactor.CodeExpired:            http.StatusGone,
	twofactor.CodeNoDevice:           http.StatusConflict,
	twofactor.CodeUnavailable:        http.StatusServiceUnavailable,
	twofactor.CodeGatewayFailed:      http.StatusBadGateway,
	twofactor.CodeForbidden:          http.StatusForbidden,
}

// coreProblem maps an error from the core to a problem. It is the one place
// where core codes become HTTP statuses: a code unknown to this version of
// the API (added to the core later) is a client error, 400, since the core
// returns *Error only for what a client did. fields renames the core's
// field names to the request's (the core says "code" where the request
// said "backup_code"). now is the service clock's time, for Retry-After.
func coreProblem(err error, now time.Time, fields map[string]string) *problem {
	e := twofactor.AsError(err)
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusBadRequest
	}
	p := newProblem(status, string(e.Code), e.Message)
	if e.Field != "" {
		f := e.Field
		if r, ok := fields[f]; ok {
			f = r
		}
		p.Field = f
		p.Errors = []fieldError{{Field: f, Message: e.Message}}
	}
	if e.Code == twofactor.CodeExpired && e.Reason == twofactor.ReasonCeremony {
		p.Reason = twofactor.ReasonCeremony
		p.Field = "ceremony"
		p.Errors = []fieldError{{Field: "ceremony", Message: e.Message}}
	}
	if e.Code == twofactor.CodeThrottled {
		p.RetryAfter = int64(e.RetryAfter(now) / time.Second)
		if p.RetryAfter < 1 {
			p.RetryAfter = 1
		}
	}
	if status == http.StatusUnauthorized {
		p.wwwAuthenticate = bearerChallenge
	}
	return p
}

// isUnavailable reports whether err is a failure of the service (the
// database) rather than something the client did; those are logged.
func isUnavailable(err error) bool {
	var p *problem
	if errors.As(err, &p) {
		return false
	}
	return twofactor.CodeOf(err) == twofactor.CodeUnavailable
}
