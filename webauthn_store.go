package twofactor

import (
	"context"
	"time"
)

// WebAuthn ceremony purposes (WebAuthnCeremony.Purpose).
const (
	CeremonyRegister = "register" // adding a security key
	CeremonyLogin    = "login"    // the second step of a sign-in
	CeremonyStepUp   = "step-up"  // re-proving a second factor in a session
)

// WebAuthnCeremony is a WebAuthn registration or assertion in progress,
// kept server-side between its two steps so that the browser never holds
// (or can alter) what the response is checked against. Only a keyed hash of
// the ceremony token handed to the client is stored; the library's session
// data (the challenge, the relying party id and origin, the allowed
// credentials) is sealed and bound to the row.
type WebAuthnCeremony struct {
	IDHash  []byte // keyed hash of the ceremony token
	UserID  string
	Purpose string // CeremonyRegister, CeremonyLogin or CeremonyStepUp
	// BindingHash ties the ceremony to what began it: the login
	// challenge's IDHash for a sign-in, the session's IDHash for a step-up;
	// nil for a registration (bound to the user only).
	BindingHash []byte
	Session     []byte // sealed go-webauthn SessionData (JSON)
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// WebAuthnStore keeps WebAuthn ceremonies. A ceremony is used at most once:
// it is consumed by one atomic delete, so a challenge verifies at most once
// however many requests race for it, on any number of servers.
type WebAuthnStore interface {
	// CreateWebAuthnCeremony inserts c.
	CreateWebAuthnCeremony(ctx context.Context, c *WebAuthnCeremony) error
	// TakeWebAuthnCeremony deletes and returns the ceremony whose IDHash is
	// among hashes if it has not expired at now (ErrNotFound otherwise). Of
	// concurrent takes of one ceremony exactly one gets it.
	TakeWebAuthnCeremony(ctx context.Context, hashes [][]byte, now time.Time) (*WebAuthnCeremony, error)
	// DeleteExpiredWebAuthnCeremonies removes ceremonies that expired at or
	// before now, returning how many went.
	DeleteExpiredWebAuthnCeremonies(ctx context.Context, now time.Time) (int, error)
}
