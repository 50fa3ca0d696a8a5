package oauth2

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	liberrors "github.com/go-oauth2/oauth2/v4/errors"

	"github.com/twofactor/twofactor"
)

// Error codes: RFC 6749 §5.2 and two of this package's.
const (
	CodeInvalidRequest         = "invalid_request"
	CodeInvalidClient          = "invalid_client"
	CodeInvalidGrant           = "invalid_grant"
	CodeUnauthorizedClient     = "unauthorized_client"
	CodeUnsupportedGrantType   = "unsupported_grant_type"
	CodeInvalidScope           = "invalid_scope"
	CodeServerError            = "server_error"
	CodeTemporarilyUnavailable = "temporarily_unavailable"
	// CodeMFARequired: the password was right; a second factor is needed
	// (the error carries MFARequired).
	CodeMFARequired = "mfa_required"
	// CodeThrottled: too many attempts; retry after Error.RetryAfter.
	CodeThrottled = "throttled"
)

// ErrBothCodes is the Cause of the error of a password grant that carries
// both mfa_code and backup_code.
var ErrBothCodes = errors.New("oauth2: mfa_code and backup_code given together")

// Error is a refused request, before it is written: what the RFC 6749
// dialect writes (WriteOutcome), and what another dialect needs to write
// its own.
type Error struct {
	// Status is the HTTP status of the RFC 6749 answer.
	Status int
	// Code is the "error" member: a Code… constant.
	Code string
	// Description is the error_description: English, ASCII, safe to show.
	Description string
	// Param names the request parameter at fault, when there is one:
	// "mfa_code" or "backup_code" for a refused code, "grant_type", …
	Param string
	// RetryAfter is how long to wait before retrying (CodeThrottled).
	RetryAfter time.Duration
	// MFA is set with CodeMFARequired.
	MFA *MFARequired
	// Cause is what the error comes from: a *twofactor.Error, ErrBothCodes,
	// an error of the OAuth library, or nil. It is for logs and dialects,
	// never for clients.
	Cause error
}

// Error implements error.
func (e *Error) Error() string {
	s := "oauth2: " + e.Code
	if e.Description != "" {
		s += ": " + e.Description
	}
	if e.Cause != nil {
		s += " (" + e.Cause.Error() + ")"
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// MFARequired is what a client needs to finish a sign-in with a second
// factor: the core's login challenge token (valid with /api/v1/login/…),
// when it expires (zero without a login timeout) and the user's methods.
type MFARequired struct {
	Token     string
	ExpiresAt time.Time
	Methods   []Method
}

// Method is one of the user's devices, as the client may show it.
type Method struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Destination is where codes are sent, masked by the core's rule
	// (Device.MaskedDestination), as /api/v1 shows it; "" for kinds that
	// receive no codes.
	Destination string `json:"destination"`
}

func newError(status int, code, description string) *Error {
	return &Error{Status: status, Code: code, Description: description}
}

func paramError(status int, code, param, description string) *Error {
	return &Error{Status: status, Code: code, Param: param, Description: description}
}

// classify turns any error of the library or the core into an Error.
func (s *Server) classify(ctx context.Context, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var te *twofactor.Error
	if errors.As(err, &te) {
		return s.coreError(ctx, te)
	}
	lib := func(status int, code, description string) *Error {
		return &Error{Status: status, Code: code, Description: description, Cause: err}
	}
	switch err {
	case liberrors.ErrInvalidRequest:
		return lib(http.StatusBadRequest, CodeInvalidRequest, "The request is missing a parameter or has an invalid one.")
	case liberrors.ErrInvalidClient:
		e := invalidClient()
		e.Cause = err
		return e
	case liberrors.ErrUnsupportedGrantType:
		return lib(http.StatusBadRequest, CodeUnsupportedGrantType, "Use grant_type password or refresh_token.")
	case liberrors.ErrUnauthorizedClient:
		return lib(http.StatusBadRequest, CodeUnauthorizedClient, "The client may not use this grant type.")
	case liberrors.ErrInvalidScope:
		return lib(http.StatusBadRequest, CodeInvalidScope, "The scope is invalid.")
	case liberrors.ErrInvalidGrant, liberrors.ErrAccessDenied, liberrors.ErrInvalidRefreshToken,
		liberrors.ErrExpiredRefreshToken, liberrors.ErrInvalidAuthorizeCode:
		return lib(http.StatusBadRequest, CodeInvalidGrant, "The grant is invalid, expired or revoked.")
	}
	s.log.ErrorContext(ctx, "oauth2: unexpected error", "err", err)
	return lib(http.StatusInternalServerError, CodeServerError, "The server failed; try again later.")
}

// coreError maps an error of the core service.
func (s *Server) coreError(ctx context.Context, te *twofactor.Error) *Error {
	e := &Error{Status: http.StatusBadRequest, Code: CodeInvalidGrant, Description: te.Message, Cause: te}
	switch te.Code {
	case twofactor.CodeInvalidCredentials:
		e.Description = "The username or password is not valid."
	case twofactor.CodeInvalidCode:
		e.Description = "The code is not valid."
	case twofactor.CodeNoDevice:
		e.Description = "The user has nothing this code could verify."
	case twofactor.CodeThrottled:
		e.Status, e.Code = http.StatusTooManyRequests, CodeThrottled
		e.RetryAfter = te.RetryAfter(s.svc.Now())
	case twofactor.CodeValidationFailed:
		e.Code, e.Param = CodeInvalidRequest, te.Field
		if te.Field == "scope" {
			e.Code = CodeInvalidScope
		}
	case twofactor.CodeUnavailable:
		s.log.ErrorContext(ctx, "oauth2: service unavailable", "err", te)
		e.Status, e.Code, e.Description = http.StatusServiceUnavailable, CodeTemporarilyUnavailable, "The service is temporarily unavailable; try again."
	case twofactor.CodeExpired, twofactor.CodeNotFound, twofactor.CodeMFARequired:
	default:
		e.Code = CodeInvalidRequest
	}
	return e
}

// ascii keeps the characters RFC 6749 allows in error_description.
func ascii(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return ' '
		}
		return r
	}, s)
}

// TokenResponse is the successful answer of the token endpoint (RFC 6749
// §5.1).
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// Outcome is the result of a token request before it is written: a token
// or an error.
type Outcome struct {
	Token *TokenResponse
	Err   *Error
}

// WriteOutcome writes an outcome in the RFC 6749 dialect: the token JSON,
// or the error object with its status (WWW-Authenticate on 401,
// Retry-After on 429). Neither is ever cached.
func WriteOutcome(w http.ResponseWriter, o Outcome) {
	if o.Err != nil {
		writeError(w, o.Err)
		return
	}
	if o.Token == nil {
		writeError(w, &Error{Status: http.StatusInternalServerError, Code: CodeServerError, Description: "No token was issued."})
		return
	}
	writeJSON(w, http.StatusOK, o.Token)
}

// errorBody is the JSON of an error (RFC 6749 §5.2, with the mfa_required
// members).
type errorBody struct {
	Error       string    `json:"error"`
	Description string    `json:"error_description,omitempty"`
	MFAToken    string    `json:"mfa_token,omitempty"`
	ExpiresAt   string    `json:"expires_at,omitempty"`
	Methods     *[]Method `json:"methods,omitempty"`
}

func writeError(w http.ResponseWriter, e *Error) {
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="oauth2"`)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64((e.RetryAfter+time.Second-1)/time.Second), 10))
	}
	b := errorBody{Error: e.Code, Description: ascii(e.Description)}
	if e.MFA != nil {
		b.MFAToken = e.MFA.Token
		methods := e.MFA.Methods
		if methods == nil {
			methods = []Method{}
		}
		b.Methods = &methods
		if !e.MFA.ExpiresAt.IsZero() {
			b.ExpiresAt = e.MFA.ExpiresAt.UTC().Format(time.RFC3339)
		}
	}
	status := e.Status
	if status < 400 || status > 599 {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, b)
}

// writeJSON writes v with the headers every answer of these endpoints
// carries: they hold tokens or say something about them, so no cache may
// keep them.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
