package twofactor

import (
	"time"
)

// Kind is the kind of a device: how it produces or proves a second factor.
type Kind string

// Device kinds. A user may hold any number of devices of any kinds.
const (
	KindTOTP     Kind = "totp"     // authenticator app, RFC 6238
	KindHOTP     Kind = "hotp"     // counter-based token, RFC 4226
	KindStatic   Kind = "static"   // the user's backup codes
	KindSMS      Kind = "sms"      // codes sent by text message
	KindCall     Kind = "call"     // codes read out by a voice call
	KindEmail    Kind = "email"    // codes sent by email
	KindYubiKey  Kind = "yubikey"  // Yubico OTP
	KindWebAuthn Kind = "webauthn" // security key or passkey used as a second factor
)

// Kinds lists every device kind in display order.
var Kinds = []Kind{KindTOTP, KindHOTP, KindSMS, KindCall, KindEmail, KindYubiKey, KindWebAuthn, KindStatic}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if k == x {
			return true
		}
	}
	return false
}

// User is an account as the core sees it. The host application's user table
// supplies it through a [UserSource]; the standalone server keeps its own.
type User struct {
	ID       string // stable, opaque identifier
	Username string
	Email    string
	Staff    bool // may use the staff console
	Active   bool // inactive users cannot sign in
	// PasswordChangedAt is when the password last changed. Remembered
	// browsers older than this are not honoured. Zero means unknown.
	PasswordChangedAt time.Time
	CreatedAt         time.Time
}

// Device is one second factor of one user.
//
// Secret holds the device's key sealed by the secret package (AES-256-GCM,
// bound to this row); the core opens it only to verify a code and never
// returns it in usable form except once, at enrolment.
type Device struct {
	ID         string
	UserID     string
	Kind       Kind
	Name       string
	Confirmed  bool // verified once by the user; unconfirmed devices never sign in
	Primary    bool // the user's primary device (at most one, never static)
	CreatedAt  time.Time
	LastUsedAt time.Time // zero until first successful verification

	Secret    []byte // sealed key (totp, hotp, yubikey)
	Algorithm string // "SHA1" (default), "SHA256", "SHA512" for imported TOTP keys
	Digits    int
	Step      int64 // TOTP time step in seconds
	T0        int64 // TOTP epoch, Unix seconds
	Tolerance int   // steps (TOTP) or counters (HOTP) accepted around the expected one
	Drift     int64 // TOTP clock drift learned from the device, in steps

	// Counter is the last value consumed by a successful verification: the
	// TOTP step, the HOTP counter, the YubiKey session and use counter, the
	// WebAuthn signature count. A value at or below it never verifies again
	// (replay protection); -1 means none yet.
	Counter int64

	// Destination is where codes go or where the key is found: an E.164
	// phone number (sms, call), an email address, a YubiKey public id.
	Destination string
	// Data holds kind-specific, non-secret data (e.g. a WebAuthn credential).
	Data []byte

	// Throttling state (§4.3): consecutive failures and the end of the wait.
	Failures    int
	LockedUntil time.Time
}

// Interactive reports whether the device needs a code to be sent before it
// can be verified (sms, call, email).
func (d *Device) Interactive() bool {
	return d.Kind == KindSMS || d.Kind == KindCall || d.Kind == KindEmail
}

// Challenge is a login in progress: the password was correct and a second
// factor is still needed. Every front end (pages, JSON API, deux, OAuth2)
// uses the same persisted challenge, so the same rules apply to all of them.
// Only a keyed hash of the challenge token is stored.
type Challenge struct {
	IDHash    []byte // keyed hash of the token handed to the client
	UserID    string
	DeviceID  string // the device chosen for this sign-in; "" = the primary
	CreatedAt time.Time
	ExpiresAt time.Time // zero = no login timeout
}

// Outcome is the result recorded with an event.
type Outcome string

// Outcomes.
const (
	OutcomeSuccess Outcome = "success"
	OutcomeFailure Outcome = "failure"
	OutcomeRefused Outcome = "refused" // not evaluated (throttled)
)

// EventKind names a security-relevant event (SPEC §8.3).
type EventKind string

// Event kinds delivered to hooks and written to the audit table.
const (
	EventUserVerified           EventKind = "user_verified"
	EventVerificationFailed     EventKind = "verification_failed"
	EventThrottled              EventKind = "throttled"
	EventDeviceAdded            EventKind = "device_added"
	EventDeviceRemoved          EventKind = "device_removed"
	EventPrimaryChanged         EventKind = "primary_changed"
	EventBackupCodeUsed         EventKind = "backup_code_used"
	EventBackupCodesRegenerated EventKind = "backup_codes_regenerated"
	EventTwoFactorDisabled      EventKind = "two_factor_disabled"
	EventBrowserRemembered      EventKind = "browser_remembered"
	EventBrowserRevoked         EventKind = "browser_revoked"
	EventAdminDisabledUser      EventKind = "admin_disabled_user"
	EventCodeSent               EventKind = "code_sent"
)

// Event is one security-relevant event. It never carries a code, secret,
// password or token.
type Event struct {
	ID         int64 // assigned by the store
	Kind       EventKind
	Time       time.Time
	UserID     string
	DeviceID   string
	DeviceKind Kind
	Outcome    Outcome
	Reason     string // e.g. ReasonReplayed, or who acted ("operator")
	Client
}

// Client describes where a request came from, for the audit trail, and the
// language of the person behind it, for the messages sent to them. Adapters
// attach it to the context with [WithClient].
type Client struct {
	Address   string
	UserAgent string
	Language  string `json:"-"` // BCP 47; not part of the audit record
}

// Session kinds.
const (
	SessionWeb   = "web"   // a browser, identified by a cookie
	SessionToken = "token" // an API client, identified by a bearer token
)

// Session is a browser or API client: who it is, and which device verified
// it and when. Only a keyed hash of its token is stored. Web sessions also
// exist before sign-in (UserID ""), to carry a sign-in in progress.
type Session struct {
	IDHash     []byte
	Kind       string
	UserID     string // "" = not signed in
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastSeenAt time.Time
	// DeviceID is the device that verified the session ("" = not verified
	// by a second factor). Removing the device un-verifies the session.
	DeviceID string
	// VerifiedAt is when a second factor was last verified in this session
	// (sign-in or step-up); step-up compares it with Options.StepUpAge.
	VerifiedAt time.Time
	// Data is the adapter's state (a sign-in or setup in progress), sealed:
	// only the Service reads and writes it.
	Data []byte
}

// Verified reports whether a second factor verified the session.
func (s *Session) Verified() bool { return s != nil && s.UserID != "" && s.DeviceID != "" }

// RememberedBrowser is a browser allowed to skip the second step for a while
// (SPEC §4.4). The browser holds a random secret; only its keyed hash is
// stored.
type RememberedBrowser struct {
	ID         string
	UserID     string
	DeviceID   string // the device whose verification is remembered
	SecretHash []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt time.Time
	Client
}

// Adoption counts two-factor use for the staff console.
type Adoption struct {
	Users   int          // built-in users
	Enabled int          // users with a confirmed primary device
	ByKind  map[Kind]int // users with at least one confirmed device of a kind
}
