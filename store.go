package twofactor

import (
	"context"
	"time"
)

// Store is everything the core keeps. It is a set of small role interfaces;
// store/sqlite and store/postgres implement all of them and pass the shared
// conformance suite in store/storetest.
//
// Conventions for every method:
//   - A missing record is ErrNotFound (possibly wrapped), never a nil result
//     with a nil error; a uniqueness violation is ErrConflict. Any other error
//     is a system failure.
//   - Methods that change several rows do so in one transaction: a crash
//     leaves either the old or the new state.
//   - One-time operations (consuming a code, claiming an attempt) are single
//     atomic conditional writes, never read-check-write: they stay exactly-once
//     under concurrent requests and across server instances.
type Store interface {
	UserStore
	DeviceStore
	AttemptStore
	BackupCodeStore
	ChallengeStore
	SessionStore
	SendStore
	BrowserStore
	PolicyStore
	AuditStore
	OAuthStore
	WebAuthnStore

	// Migrate applies pending schema migrations. A database whose schema is
	// newer than this build is refused with ErrSchemaTooNew.
	Migrate(ctx context.Context) error
	// Version returns the database's schema version (0 when empty).
	Version(ctx context.Context) (int, error)
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

// UserRecord is a built-in user with its password hash.
type UserRecord struct {
	User
	PasswordHash string // PHC string, see package password
}

// UserQuery selects built-in users for listings.
type UserQuery struct {
	Search string // substring of username or email, case-insensitive; "" = all
	Offset int
	Limit  int // 0 = no limit
}

// UserStore keeps the built-in users of the standalone server. Applications
// that embed the library with their own user table do not need it.
type UserStore interface {
	// CreateUser inserts u; a taken username is ErrConflict.
	CreateUser(ctx context.Context, u *UserRecord) error
	// UserByID returns the user with that id.
	UserByID(ctx context.Context, id string) (*UserRecord, error)
	// UserByName returns the user with that username (exact match).
	UserByName(ctx context.Context, username string) (*UserRecord, error)
	// SetPassword stores a new password hash and when it changed.
	SetPassword(ctx context.Context, id, hash string, changedAt time.Time) error
	// ListUsers returns one page of users ordered by username, and the total
	// number matching the query.
	ListUsers(ctx context.Context, q UserQuery) ([]UserRecord, int, error)
	// Adoption counts built-in users and their two-factor devices.
	Adoption(ctx context.Context) (Adoption, error)
}

// DeviceStore keeps devices.
type DeviceStore interface {
	// CreateDevice inserts d. When d is confirmed, not static, and the user
	// has no primary device, d becomes the primary (d.Primary is set).
	CreateDevice(ctx context.Context, d *Device) error
	// DeviceByID returns the device with that id.
	DeviceByID(ctx context.Context, id string) (*Device, error)
	// DevicesByUser returns all the user's devices: the primary first, then
	// by creation time.
	DevicesByUser(ctx context.Context, userID string) ([]Device, error)
	// RenameDevice renames the user's device.
	RenameDevice(ctx context.Context, userID, id, name string) error
	// SetPrimary makes the user's confirmed, non-static device the primary.
	SetPrimary(ctx context.Context, userID, id string) error
	// DeleteDevice removes the user's device, the browsers remembered for
	// it, and un-verifies the sessions it verified. If it was the primary,
	// the oldest remaining confirmed non-static device is promoted and
	// returned; promoted is nil when none is left (two-factor is then off).
	DeleteDevice(ctx context.Context, userID, id string) (promoted *Device, err error)
	// DeleteStaleSetups removes unconfirmed devices created before the
	// given time, returning how many went.
	DeleteStaleSetups(ctx context.Context, before time.Time) (int, error)
	// DisableUser removes every device (and so every backup code), login
	// challenge, WebAuthn ceremony, remembered browser and throttle record
	// of the user and
	// un-verifies the user's sessions, returning how many devices were
	// removed.
	DisableUser(ctx context.Context, userID string) (int, error)
}

// Attempt asks to evaluate one submitted code for a user and a device.
type Attempt struct {
	UserID   string
	DeviceID string
	Now      time.Time
	// UserFactor and DeviceFactor are the throttle factors: after n
	// consecutive failures the scope refuses attempts for factor×2^(n−1).
	// Zero disables that scope's throttle (attempts are still counted).
	UserFactor   time.Duration
	DeviceFactor time.Duration
	// DeviceOnly leaves the user's counter alone (confirming a new device
	// is not a sign-in attempt).
	DeviceOnly bool
}

// AttemptResult is the answer to an Attempt.
type AttemptResult struct {
	Allowed bool
	// When refused: the end of the wait and the consecutive failures of the
	// scope (user or device) that refused.
	RetryAt  time.Time
	Failures int
}

// Verification is one submitted code checked against one device, carried
// out by the store as a single transaction (see AttemptStore.Verify).
type Verification struct {
	Attempt
	// Check decides whether the code matches the device as stored (and
	// locked) in the transaction. It runs inside the transaction, so it must
	// be quick and do no I/O.
	Check func(d *Device) Check
	// Events returns the audit events of the outcome; they are appended in
	// the same transaction and returned in VerifyResult.Events.
	Events func(d *Device, r *VerifyResult) []Event
	// Confirm says the code confirms a new (unconfirmed) device: on
	// success it becomes confirmed, and the primary device if the user has
	// none. The user's throttle is left alone (as with DeviceOnly): a
	// confirmation is not a sign-in attempt.
	Confirm bool
}

// Check is the verdict of Verification.Check.
type Check struct {
	// Reason is "" when the code matches, else why not (ReasonWrong…).
	Reason string
	// Counter devices: the counter value that matched, consumed only if it
	// is greater than the stored one, and the device's new drift.
	Counter, Drift int64
	// Static, sms, call and email devices: keyed hashes of the code under
	// each key; the stored code among them is deleted (a sent code only
	// while it is valid).
	CodeHashes [][]byte
	// Unconditional consumes a counter device's use without comparing
	// counters: Counter is stored whatever the stored one is. It is for
	// a WebAuthn key whose stored and new signature counts are both zero
	// (authenticators that keep no counter), where replay is prevented by
	// the single-use ceremony instead.
	Unconditional bool
	// Err aborts the verification (the transaction is rolled back).
	Err error
}

// VerifyResult is the outcome of a Verification.
type VerifyResult struct {
	// AttemptResult says whether the attempt was allowed; when refused by
	// a throttle, Check was not called.
	AttemptResult
	// Device is the device as stored when the attempt was made.
	Device *Device
	// Verified is true when the code matched and was consumed.
	Verified bool
	// Reason is why a checked code was not verified: the check's reason,
	// ReasonReplayed when its counter had been used already, ReasonWrong
	// when no such code is stored, ReasonExpired or ReasonNotPending for a
	// sent code.
	Reason string
	// Events are the audit events recorded, with their ids.
	Events []Event
}

// AttemptStore implements throttling and one-time consumption.
type AttemptStore interface {
	// Verify performs a Verification in one transaction: it claims the
	// attempt (as ClaimAttempt), calls v.Check with the device row, and if
	// the code matches consumes it atomically — a counter only if greater
	// than the stored one, a backup code by deleting it — resetting the
	// user's and the device's throttles and recording the use. A failure
	// keeps the claim's counts. v.Events are appended in the same
	// transaction. Of concurrent verifications of one code (on any number
	// of servers) at most one succeeds. A device that is not the user's is
	// ErrNotFound.
	Verify(ctx context.Context, v Verification) (VerifyResult, error)
	// ClaimAttempt records an attempt before a code is evaluated outside
	// the store (a device confirmation, a remote check). It is allowed only
	// if neither the user nor the device is in a wait; then both failure
	// counters are incremented and both waits set as if the attempt failed,
	// so concurrent guesses are refused, not evaluated. A refused attempt
	// changes nothing. A device that is not the user's is ErrNotFound.
	ClaimAttempt(ctx context.Context, a Attempt) (AttemptResult, error)
	// RecordSuccess records a successful verification checked outside the
	// store after ClaimAttempt (a remote YubiKey): the device's last use
	// and the reset of the user's and the device's throttles.
	RecordSuccess(ctx context.Context, userID, deviceID string, now time.Time) error
}

// BackupCodeStore keeps backup codes as keyed hashes.
type BackupCodeStore interface {
	// ReplaceBackupCodes replaces all the user's backup codes with hashes.
	// The user's static device is created from static if there is none; the
	// static device in use is returned.
	ReplaceBackupCodes(ctx context.Context, static *Device, hashes [][]byte) (*Device, error)
	// CountBackupCodes returns how many unused backup codes the user has.
	CountBackupCodes(ctx context.Context, userID string) (int, error)
}

// ChallengeStore keeps login challenges.
type ChallengeStore interface {
	// CreateChallenge inserts c.
	CreateChallenge(ctx context.Context, c *Challenge) error
	// ChallengeByHash returns the challenge whose IDHash is among hashes.
	ChallengeByHash(ctx context.Context, hashes [][]byte) (*Challenge, error)
	// SetChallengeDevice records the device chosen for the challenge.
	SetChallengeDevice(ctx context.Context, idHash []byte, deviceID string) error
	// DeleteChallenge deletes the challenge and reports whether it existed,
	// so that exactly one of two concurrent completions wins.
	DeleteChallenge(ctx context.Context, idHash []byte) (bool, error)
	// DeleteExpiredChallenges removes challenges that expired before now.
	DeleteExpiredChallenges(ctx context.Context, now time.Time) (int, error)
}

// SessionStore keeps sessions.
type SessionStore interface {
	// CreateSession inserts s.
	CreateSession(ctx context.Context, s *Session) error
	// SessionByHash returns the session whose IDHash is among hashes.
	SessionByHash(ctx context.Context, hashes [][]byte) (*Session, error)
	// UpdateSession stores s's user, device, verification time, data,
	// last-seen and expiry times.
	UpdateSession(ctx context.Context, s *Session) error
	// DeleteSession deletes the session and reports whether it existed.
	DeleteSession(ctx context.Context, idHash []byte) (bool, error)
	// DeleteUserSessions deletes the user's sessions except the one whose
	// hash is except (nil: all), returning how many went.
	DeleteUserSessions(ctx context.Context, userID string, except []byte) (int, error)
	// DeleteExpiredSessions removes sessions that expired before now.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}

// Send reserves the sending of a code to an sms, call or email device.
type Send struct {
	UserID    string
	DeviceID  string
	CodeHash  []byte // keyed hash of the new code, replacing any pending one
	Now       time.Time
	ExpiresAt time.Time
	// Cooldown is the least time between two codes to one device;
	// DailyLimit the most codes per user and UTC day (0 = no limit).
	Cooldown   time.Duration
	DailyLimit int
}

// SendResult answers a Send.
type SendResult struct {
	Allowed bool
	// When refused: when a code may be sent again, and why: ReasonCooldown
	// or ReasonDailyLimit.
	RetryAt time.Time
	Reason  string
}

// CallScript is what a voice call reads out, kept for the voice provider's
// callback: only the call id's keyed hash is stored, the script sealed.
type CallScript struct {
	IDHash    []byte
	DeviceID  string
	Script    []byte
	ExpiresAt time.Time
}

// SendStore keeps codes sent to phones and mailboxes.
type SendStore interface {
	// ReserveSend records a new pending code for the device, atomically
	// refusing it inside the device's cooldown or past the user's daily
	// limit (nothing changes then).
	ReserveSend(ctx context.Context, s Send) (SendResult, error)
	// CancelSend removes the device's pending code if it is still the one
	// with codeHash (the gateway failed to deliver it).
	CancelSend(ctx context.Context, deviceID string, codeHash []byte) error
	// CreateCall stores a call script.
	CreateCall(ctx context.Context, c *CallScript) error
	// CallByHash returns the unexpired call script whose IDHash is among
	// hashes.
	CallByHash(ctx context.Context, hashes [][]byte, now time.Time) (*CallScript, error)
	// DeleteExpiredSends removes expired codes and call scripts and the
	// daily counts of past days.
	DeleteExpiredSends(ctx context.Context, now time.Time) (int, error)
}

// BrowserStore keeps remembered browsers.
type BrowserStore interface {
	// CreateBrowser inserts b.
	CreateBrowser(ctx context.Context, b *RememberedBrowser) error
	// BrowserByID returns the remembered browser with that id.
	BrowserByID(ctx context.Context, id string) (*RememberedBrowser, error)
	// TouchBrowser records a use of the browser.
	TouchBrowser(ctx context.Context, id string, now time.Time) error
	// BrowsersByUser returns the user's remembered browsers, newest first.
	BrowsersByUser(ctx context.Context, userID string) ([]RememberedBrowser, error)
	// DeleteBrowser deletes the user's remembered browser and reports
	// whether it existed.
	DeleteBrowser(ctx context.Context, userID, id string) (bool, error)
	// DeleteUserBrowsers deletes all the user's remembered browsers.
	DeleteUserBrowsers(ctx context.Context, userID string) (int, error)
}

// PolicyStore remembers when an enforcement policy first reached a user.
type PolicyStore interface {
	// PolicySince returns when the policy first applied to the user,
	// recording now if it never did (atomically: concurrent first calls
	// agree on one time).
	PolicySince(ctx context.Context, userID string, now time.Time) (time.Time, error)
}

// AuditStore keeps the audit trail.
type AuditStore interface {
	// AppendEvent appends e and sets e.ID.
	AppendEvent(ctx context.Context, e *Event) error
	// EventsByUser returns the user's most recent events, newest first.
	EventsByUser(ctx context.Context, userID string, limit int) ([]Event, error)
}
