package api

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/twofactor/twofactor"
)

// timestamp is a time written as RFC 3339 in UTC, to the second.
type timestamp time.Time

// MarshalJSON implements json.Marshaler.
func (t timestamp) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(time.RFC3339)+2)
	b = append(b, '"')
	b = time.Time(t).UTC().AppendFormat(b, time.RFC3339)
	return append(b, '"'), nil
}

// stamp returns t as a timestamp, nil (JSON null) when t is zero.
func stamp(t time.Time) *timestamp {
	if t.IsZero() {
		return nil
	}
	ts := timestamp(t)
	return &ts
}

// ---- requests -----------------------------------------------------------

// A request is the decoded JSON body of one endpoint. validate reports the
// fields that are missing or do not fit the endpoint (shape only: every
// rule about values is the core's).
type request interface {
	validate() []fieldError
}

// emptyRequest is the body of endpoints that take none: absent, or {}.
type emptyRequest struct{}

func (*emptyRequest) validate() []fieldError { return nil }

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (r *loginRequest) validate() []fieldError {
	// A password may be all spaces; a username may not.
	return required(nil, "username", strings.TrimSpace(r.Username), "password", r.Password)
}

type loginChallengeRequest struct {
	MFAToken string `json:"mfa_token"`
	DeviceID string `json:"device_id"`
}

func (r *loginChallengeRequest) validate() []fieldError {
	return required(nil, "mfa_token", r.MFAToken, "device_id", r.DeviceID)
}

type loginVerifyRequest struct {
	MFAToken   string `json:"mfa_token"`
	Code       string `json:"code"`
	BackupCode string `json:"backup_code"`
	DeviceID   string `json:"device_id"`
}

func (r *loginVerifyRequest) validate() []fieldError {
	errs := required(nil, "mfa_token", r.MFAToken)
	errs = oneCode(errs, r.Code, r.BackupCode)
	if r.DeviceID != "" && r.BackupCode != "" {
		errs = append(errs, fieldError{"device_id", "A device applies to code only, not to backup_code."})
	}
	return errs
}

type addDeviceRequest struct {
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	Digits      *int   `json:"digits"`
	PhoneNumber string `json:"phone_number"`
	Email       string `json:"email"`
	OTP         string `json:"otp"`
}

// deviceFields are the kinds POST /api/v1/mfa/devices adds and the
// members each takes besides kind and name ("!" marks a required one).
// Whether this server offers a kind is the service's to say (Methods);
// WebAuthn has its own ceremony endpoints (webauthn.go).
var deviceFields = map[twofactor.Kind][]string{
	twofactor.KindTOTP:    {"digits"},
	twofactor.KindSMS:     {"!phone_number"},
	twofactor.KindCall:    {"!phone_number"},
	twofactor.KindEmail:   {"email"},
	twofactor.KindYubiKey: {"!otp"},
}

func (r *addDeviceRequest) validate() []fieldError {
	errs := required(nil, "kind", r.Kind)
	if r.Kind == "" {
		return errs
	}
	kind := twofactor.Kind(r.Kind)
	fields, known := deviceFields[kind]
	switch {
	case kind == twofactor.KindWebAuthn:
		return append(errs, fieldError{"kind", "Security keys are registered with POST /api/v1/mfa/webauthn/options, then POST /api/v1/mfa/webauthn/register."})
	case !known:
		return append(errs, fieldError{"kind", "Must be one of totp, sms, call, email, yubikey."})
	}
	given := map[string]bool{"digits": r.Digits != nil, "phone_number": r.PhoneNumber != "", "email": r.Email != "", "otp": r.OTP != ""}
	takes := map[string]bool{}
	for _, f := range fields {
		name := strings.TrimPrefix(f, "!")
		takes[name] = true
		if name != f && strings.TrimSpace(map[string]string{"phone_number": r.PhoneNumber, "otp": r.OTP}[name]) == "" {
			errs = append(errs, fieldError{name, "This field is required for kind " + r.Kind + "."})
		}
	}
	for _, f := range []string{"digits", "phone_number", "email", "otp"} {
		if given[f] && !takes[f] {
			errs = append(errs, fieldError{f, "Does not apply to kind " + r.Kind + "."})
		}
	}
	if r.Digits != nil && takes["digits"] && *r.Digits != 6 && *r.Digits != 8 {
		errs = append(errs, fieldError{"digits", "Must be 6 or 8."})
	}
	return errs
}

type confirmRequest struct {
	Code string `json:"code"`
}

func (r *confirmRequest) validate() []fieldError { return required(nil, "code", r.Code) }

type renameRequest struct {
	Name string `json:"name"`
}

func (r *renameRequest) validate() []fieldError { return required(nil, "name", r.Name) }

type stepUpRequest struct {
	Code       string `json:"code"`
	BackupCode string `json:"backup_code"`
	// A security key's assertion: the ceremony of
	// POST /api/v1/step-up/webauthn/options and the credential.
	Ceremony   string         `json:"ceremony"`
	Credential credentialJSON `json:"credential"`
}

func (r *stepUpRequest) validate() []fieldError {
	if r.Ceremony == "" && len(r.Credential) == 0 {
		return oneCode(nil, r.Code, r.BackupCode)
	}
	var errs []fieldError
	if r.Code != "" || r.BackupCode != "" {
		errs = append(errs, fieldError{"credential", "Give a security key's credential, a code or a backup_code: one of them."})
	}
	errs = required(errs, "ceremony", r.Ceremony)
	return r.Credential.check(errs, "credential")
}

// isKey reports whether the step-up is with a security key.
func (r *stepUpRequest) isKey() bool { return len(r.Credential) > 0 }

type loginWebAuthnOptionsRequest struct {
	MFAToken string `json:"mfa_token"`
}

func (r *loginWebAuthnOptionsRequest) validate() []fieldError {
	return required(nil, "mfa_token", r.MFAToken)
}

type loginWebAuthnVerifyRequest struct {
	MFAToken   string         `json:"mfa_token"`
	Ceremony   string         `json:"ceremony"`
	Credential credentialJSON `json:"credential"`
}

func (r *loginWebAuthnVerifyRequest) validate() []fieldError {
	errs := required(nil, "mfa_token", r.MFAToken, "ceremony", r.Ceremony)
	return r.Credential.check(errs, "credential")
}

type webauthnRegisterRequest struct {
	Ceremony   string         `json:"ceremony"`
	Credential credentialJSON `json:"credential"`
	Name       string         `json:"name"`
}

func (r *webauthnRegisterRequest) validate() []fieldError {
	errs := required(nil, "ceremony", r.Ceremony)
	return r.Credential.check(errs, "credential")
}

// credentialJSON is a credential the browser made, as
// PublicKeyCredential.toJSON() gives it (binary members in base64url): kept
// as JSON text for the core, which parses and checks it. It is compacted
// when decoded, into the form encoding/json writes it in, so that it reads
// back the same.
type credentialJSON []byte

// UnmarshalJSON implements json.Unmarshaler: any JSON value is kept (check
// says whether it is an object); null is none.
func (c *credentialJSON) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*c = nil
		return nil
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, b); err != nil {
		return err
	}
	var out bytes.Buffer
	json.HTMLEscape(&out, compact.Bytes())
	*c = out.Bytes()
	return nil
}

// MarshalJSON implements json.Marshaler.
func (c credentialJSON) MarshalJSON() ([]byte, error) {
	if c == nil {
		return []byte("null"), nil
	}
	return c, nil
}

// check appends an error for the field unless c is the JSON of a
// credential: an object with a string id, a string type and an object
// response. What the members hold is the core's to check.
func (c credentialJSON) check(errs []fieldError, field string) []fieldError {
	if len(c) == 0 {
		return append(errs, fieldError{field, "This field is required."})
	}
	var v struct {
		ID       *string                    `json:"id"`
		Type     *string                    `json:"type"`
		Response map[string]json.RawMessage `json:"response"`
	}
	if c[0] != '{' || json.Unmarshal(c, &v) != nil || v.ID == nil || *v.ID == "" || v.Type == nil || v.Response == nil {
		return append(errs, fieldError{field, "Must be the credential as PublicKeyCredential.toJSON() gives it: an object with id, type and response."})
	}
	return errs
}

// required appends an error for each (name, value) pair whose value is
// empty.
func required(errs []fieldError, pairs ...string) []fieldError {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			errs = append(errs, fieldError{pairs[i], "This field is required."})
		}
	}
	return errs
}

// oneCode appends an error unless exactly one of code and backup_code is
// given.
func oneCode(errs []fieldError, code, backup string) []fieldError {
	switch {
	case code != "" && backup != "":
		errs = append(errs, fieldError{"code", "Give either code or backup_code, not both."},
			fieldError{"backup_code", "Give either code or backup_code, not both."})
	case strings.TrimSpace(code) == "" && strings.TrimSpace(backup) == "":
		errs = append(errs, fieldError{"code", "This field is required (or backup_code)."})
	}
	return errs
}

// ---- responses ----------------------------------------------------------

// tokenResponse is an issued API token.
type tokenResponse struct {
	Token     string     `json:"token"`
	TokenType string     `json:"token_type"`
	MFA       bool       `json:"mfa"`
	ExpiresAt *timestamp `json:"expires_at"`
}

// method is a device offered at sign-in.
type method struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	Destination string `json:"destination"`
}

func methodOf(d *twofactor.Device) method {
	return method{ID: d.ID, Kind: string(d.Kind), Name: d.Name, Destination: d.MaskedDestination()}
}

// device is a device as the management endpoints show it.
type device struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`
	Name        string     `json:"name"`
	Confirmed   bool       `json:"confirmed"`
	Primary     bool       `json:"primary"`
	CreatedAt   *timestamp `json:"created_at"`
	LastUsedAt  *timestamp `json:"last_used_at"`
	Destination string     `json:"destination"`
}

func deviceOf(d *twofactor.Device) device {
	return device{ID: d.ID, Kind: string(d.Kind), Name: d.Name, Confirmed: d.Confirmed, Primary: d.Primary,
		CreatedAt: stamp(d.CreatedAt), LastUsedAt: stamp(d.LastUsedAt), Destination: d.MaskedDestination()}
}

type statusResponse struct {
	Enabled              bool     `json:"enabled"`
	Primary              *string  `json:"primary"`
	Devices              []device `json:"devices"`
	BackupCodesRemaining int      `json:"backup_codes_remaining"`
}

type enrollmentResponse struct {
	Device     device `json:"device"`
	Secret     string `json:"secret"`
	OTPAuthURI string `json:"otpauth_uri"`
	QRSVG      string `json:"qr_svg"`
}

type deviceResponse struct {
	Device      device   `json:"device"`
	BackupCodes []string `json:"backup_codes,omitempty"`
}

type challengeResponse struct {
	Method method `json:"method"`
	// Sent is true when a code was sent to the device (sms, call, email).
	Sent bool `json:"sent"`
}

type codesResponse struct {
	Codes []string `json:"codes"`
}

type stepUpResponse struct {
	VerifiedAt *timestamp `json:"verified_at"`
}

type browser struct {
	ID         string     `json:"id"`
	DeviceID   string     `json:"device_id"`
	CreatedAt  *timestamp `json:"created_at"`
	ExpiresAt  *timestamp `json:"expires_at"`
	LastUsedAt *timestamp `json:"last_used_at"`
	UserAgent  string     `json:"user_agent"`
	Address    string     `json:"address"`
}

type browsersResponse struct {
	Browsers []browser `json:"browsers"`
}
