package twofactor

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/twofactor/twofactor/secret"
)

// WebAuthnCeremonyTTL is how long a ceremony may take, from Begin to Finish.
const WebAuthnCeremonyTTL = 5 * time.Minute

// ReasonCeremony (with CodeExpired) says that a WebAuthn ceremony token is
// unknown, expired, already used or not for this request: the adapter
// should begin a new ceremony (not a new sign-in).
const ReasonCeremony = "ceremony"

// maxWebAuthnResponse bounds the size of a browser's response, in bytes. A
// registration with a long attestation certificate chain is a few KiB.
const maxWebAuthnResponse = 64 << 10

// hashPurposeCeremony separates ceremony-token hashes from other keyed
// hashes.
const hashPurposeCeremony = "webauthn-ceremony"

// Public messages of the WebAuthn errors.
const (
	msgMethodUnavailable   = "This method is not available."
	msgCeremonyExpired     = "The security key request has expired. Please try again."
	msgNoSecurityKey       = "There is no security key registered for this account."
	msgKeyRegistered       = "This security key is already registered."
	msgUntrustedKey        = "This security key is not accepted here."
	msgOriginNotAllowed    = "Security keys cannot be used from this address."
	msgInvalidSecurityKey  = "The security key response is not valid."
	defaultSecurityKeyName = "Security key"
)

// WebAuthnConfig configures the WebAuthn relying party (SPEC §3
// webauthn.*): security keys and platform authenticators used as a second
// factor, built on github.com/go-webauthn/webauthn. RPName is required;
// everything else has the seed's default.
//
// A registered key is a Device of kind KindWebAuthn: Destination is its
// credential id in unpadded base64url (so a key is found among the user's
// own devices by the id an assertion names), Data the credential record
// (public key, transports, flags, AAGUID and the relying party id it was
// registered for — nothing secret), Counter the last signature count.
//
// Both ceremonies have two steps. Begin* returns the options for the browser
// and an opaque ceremony token; the library's session data (challenge,
// relying party id, origin, allowed credentials) stays on the server in a
// WebAuthnCeremony, sealed, for WebAuthnCeremonyTTL, and is consumed by the
// first attempt to finish it — so every challenge is answered at most once,
// and a missing or expired ceremony is a clear CodeExpired error (Reason
// ReasonCeremony), never a server error.
//
// Assertions are verified like every other second factor: through
// AttemptStore.Verify, in one transaction that claims the attempt (per-device
// and per-user throttling), checks the assertion against the device row as
// locked, consumes the signature count and writes the audit events. The
// sign-count rule is the seed's: when the stored or the new count is not
// zero, the new count must be greater (otherwise the key may be cloned: the
// use is refused as ReasonReplayed); when both are zero (authenticators that
// keep no counter) the use is consumed without comparison.
//
// Origins and relying party id (what a response must have been made for):
//
//   - With Origins set, only those origins are accepted. The
//     origin the adapter passes (the request's Origin) binds the ceremony to
//     it when it is one of them and is refused (CodeValidationFailed, field
//     "origin") when it is not; an empty origin (an API client that sends
//     none) leaves every configured origin acceptable.
//   - Without Origins, the ceremony is bound to exactly the origin the
//     adapter passes (scheme, host and port, as the browser reports it);
//     it is required.
//   - The relying party id is RPID, else the host (without
//     port) of the ceremony's origin — the bound one, or the first
//     configured origin. The origin's host must be the RP id or a subdomain
//     of it. A key is only offered and accepted in ceremonies with the RP id
//     it was registered under.
//
// Taking the origin from the request is safe because the browser, not the
// page, writes the origin into the signed client data, and an authenticator
// only answers for the RP id its credential was created for: a phishing site
// that relays our options under its own origin gets nothing our keys will
// sign.
type WebAuthnConfig struct {
	// RPName is the relying party's name, shown by authenticators.
	RPName string
	// RPID is the relying party id, a host name such as example.com. Empty:
	// the host of the ceremony's origin (see above). Keys registered under
	// one RP id work only there.
	RPID string
	// Origins are the origins allowed in ceremonies, such as
	// https://example.com. Empty: the origin of the request.
	Origins []string
	// AuthenticatorAttachment restricts registration to "platform" or
	// "cross-platform" authenticators; empty allows both.
	AuthenticatorAttachment string
	// PreferredTransports are put on every allowed credential at sign-in
	// (usb, nfc, ble, smart-card, hybrid, internal); empty: each key's own.
	PreferredTransports []string
	// UserVerification is "discouraged" (the default), "preferred" or
	// "required" (then enforced: a response without it is refused).
	UserVerification string
	// Attestation is the attestation conveyance: "none" (the default),
	// "indirect" or "direct". "enterprise" is refused.
	Attestation string
	// RootCerts are extra attestation roots: when set, a registration whose
	// packed, fido-u2f or tpm attestation carries a certificate chain is
	// accepted only if the chain leads to one of them (the formats that
	// come without built-in roots). Attestations without a chain (none,
	// self) are not affected. Meaningful with Attestation indirect or
	// direct: with none, browsers remove the attestation.
	RootCerts []*x509.Certificate
}

// webauthnRP is a validated WebAuthnConfig.
type webauthnRP struct {
	name        string
	rpID        string
	origins     []string
	attachment  protocol.AuthenticatorAttachment
	transports  []protocol.AuthenticatorTransport
	uv          protocol.UserVerificationRequirement
	attestation protocol.ConveyancePreference
	roots       *x509.CertPool // nil: no extra roots
}

// newWebAuthnRP validates c.
func newWebAuthnRP(c *WebAuthnConfig) (*webauthnRP, error) {
	w := &webauthnRP{name: strings.TrimSpace(c.RPName)}
	if w.name == "" {
		return nil, errors.New("RPName is required")
	}
	if c.RPID != "" {
		w.rpID = strings.ToLower(c.RPID)
		if err := protocol.ValidateRPID(w.rpID); err != nil || strings.ContainsAny(w.rpID, ":/") {
			return nil, fmt.Errorf("RPID %q is not a host name", c.RPID)
		}
	}
	for _, o := range c.Origins {
		n, host, err := normalizeOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("origin %q: %w", o, err)
		}
		if w.rpID != "" && !withinRPID(host, w.rpID) {
			return nil, fmt.Errorf("origin %q is not within the RPID %q", o, w.rpID)
		}
		if w.rpID == "" {
			if err := protocol.ValidateRPID(host); err != nil {
				return nil, fmt.Errorf("origin %q: its host cannot be a relying party id (set RPID): %w", o, err)
			}
		}
		if !slices.Contains(w.origins, n) {
			w.origins = append(w.origins, n)
		}
	}
	switch a := protocol.AuthenticatorAttachment(c.AuthenticatorAttachment); a {
	case "", protocol.Platform, protocol.CrossPlatform:
		w.attachment = a
	default:
		return nil, fmt.Errorf("AuthenticatorAttachment must be platform, cross-platform or empty, not %q", c.AuthenticatorAttachment)
	}
	for _, t := range c.PreferredTransports {
		switch tr := protocol.AuthenticatorTransport(t); tr {
		case protocol.USB, protocol.NFC, protocol.BLE, protocol.SmartCard, protocol.Hybrid, protocol.Internal:
			w.transports = append(w.transports, tr)
		default:
			return nil, fmt.Errorf("PreferredTransports: %q is not usb, nfc, ble, smart-card, hybrid or internal", t)
		}
	}
	switch uv := protocol.UserVerificationRequirement(c.UserVerification); uv {
	case "":
		w.uv = protocol.VerificationDiscouraged
	case protocol.VerificationDiscouraged, protocol.VerificationPreferred, protocol.VerificationRequired:
		w.uv = uv
	default:
		return nil, fmt.Errorf("UserVerification must be discouraged, preferred or required, not %q", c.UserVerification)
	}
	switch a := protocol.ConveyancePreference(c.Attestation); a {
	case "":
		w.attestation = protocol.PreferNoAttestation
	case protocol.PreferNoAttestation, protocol.PreferIndirectAttestation, protocol.PreferDirectAttestation:
		w.attestation = a
	case protocol.PreferEnterpriseAttestation:
		// Enterprise attestation identifies the individual authenticator
		// (and so the person); the seed refuses it at start-up, as we do.
		return nil, errors.New("enterprise attestation is not supported: use none, indirect or direct")
	default:
		return nil, fmt.Errorf("Attestation must be none, indirect or direct, not %q", c.Attestation)
	}
	if len(c.RootCerts) > 0 {
		w.roots = x509.NewCertPool()
		for i, cert := range c.RootCerts {
			if cert == nil {
				return nil, fmt.Errorf("RootCerts[%d] is nil", i)
			}
			w.roots.AddCert(cert)
		}
	}
	return w, nil
}

// normalizeOrigin checks that s is an http(s) origin and returns it in
// canonical form (lower-case scheme and host, port kept) with its host name.
func normalizeOrigin(s string) (origin, host string, err error) {
	if len(s) > 2048 {
		return "", "", errors.New("too long")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.Opaque != "" {
		return "", "", errors.New("not an origin such as https://example.com")
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host), strings.ToLower(u.Hostname()), nil
}

// withinRPID reports whether host is the RP id or a subdomain of it.
func withinRPID(host, rpID string) bool {
	return host == rpID || strings.HasSuffix(host, "."+rpID)
}

// webauthnScope is where one ceremony may be answered from.
type webauthnScope struct {
	rpID    string
	origins []string // acceptable origins
	bound   string   // the one origin the ceremony is bound to, or ""
}

// scope resolves the RP id and origins of a ceremony begun from origin (""
// when the request carried none). The rules are documented at
// WebAuthnConfig.
func (w *webauthnRP) scope(origin string) (webauthnScope, error) {
	var sc webauthnScope
	if origin == "" {
		if len(w.origins) == 0 {
			return sc, errValidation("origin", msgOriginNotAllowed)
		}
		sc.origins = w.origins
		sc.rpID = w.rpID
		if sc.rpID == "" {
			_, sc.rpID, _ = normalizeOrigin(w.origins[0])
		}
		return sc, nil
	}
	o, host, err := normalizeOrigin(origin)
	if err != nil {
		return sc, errValidation("origin", msgOriginNotAllowed)
	}
	if len(w.origins) > 0 && !slices.Contains(w.origins, o) {
		return sc, errValidation("origin", msgOriginNotAllowed)
	}
	sc.rpID = w.rpID
	if sc.rpID == "" {
		sc.rpID = host
	}
	if !withinRPID(host, sc.rpID) || protocol.ValidateRPID(sc.rpID) != nil {
		return sc, errValidation("origin", msgOriginNotAllowed)
	}
	sc.bound = o
	sc.origins = w.origins
	if len(sc.origins) == 0 {
		sc.origins = []string{o}
	}
	return sc, nil
}

// finishOrigins are the origins a response to the ceremony sd may come
// from: the configured ones, or the one the ceremony was bound to. (A
// bound ceremony narrows the configured set to its origin.)
func (w *webauthnRP) finishOrigins(sd *webauthn.SessionData) []string {
	if len(w.origins) > 0 {
		return w.origins
	}
	if sd.Origin != "" {
		return []string{sd.Origin}
	}
	return nil
}

// library returns the go-webauthn relying party for one ceremony.
func (w *webauthnRP) library(rpID string, origins []string) (*webauthn.WebAuthn, error) {
	if len(origins) == 0 {
		return nil, errors.New("webauthn: no origin for the ceremony")
	}
	timeouts := webauthn.TimeoutConfig{Timeout: WebAuthnCeremonyTTL, TimeoutUVD: WebAuthnCeremonyTTL}
	return webauthn.New(&webauthn.Config{
		RPID:                  rpID,
		RPDisplayName:         w.name,
		RPOrigins:             origins,
		AttestationPreference: w.attestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			AuthenticatorAttachment: w.attachment,
			RequireResidentKey:      protocol.ResidentKeyNotRequired(),
			ResidentKey:             protocol.ResidentKeyRequirementDiscouraged,
			UserVerification:        w.uv,
		},
		Timeouts: webauthn.TimeoutsConfig{Login: timeouts, Registration: timeouts},
	})
}

// webauthnUser is the user as the library sees it.
type webauthnUser struct {
	handle []byte
	name   string
	creds  []webauthn.Credential
}

func (u *webauthnUser) WebAuthnID() []byte                         { return u.handle }
func (u *webauthnUser) WebAuthnName() string                       { return u.name }
func (u *webauthnUser) WebAuthnDisplayName() string                { return u.name }
func (u *webauthnUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// webauthnUserHandle is the user handle given to authenticators: a hash of
// the user id, so that it is stable (it survives key rotation, which a
// keyed hash would not) and carries no personal information even when the
// application's user ids are email addresses.
func webauthnUserHandle(userID string) []byte {
	h := sha256.Sum256([]byte("twofactor webauthn user handle\x00" + userID))
	return h[:]
}

// webauthnData is Device.Data of a WebAuthn key.
type webauthnData struct {
	// RPID is the relying party id the key was registered under; it is
	// offered and accepted only in ceremonies with the same RP id.
	RPID string `json:"rp_id"`
	// Credential is the library's credential record, without the raw
	// attestation (kept out to keep device rows small).
	Credential webauthn.Credential `json:"credential"`
}

// webauthnKey is a registered key with its decoded data.
type webauthnKey struct {
	device *Device
	data   webauthnData
}

// webauthnKeys returns the user's confirmed WebAuthn keys, the primary
// first then by creation time. Keys whose data cannot be decoded are left
// out (they could not verify anything).
func (s *Service) webauthnKeys(ctx context.Context, userID string) ([]webauthnKey, error) {
	all, err := s.store.DevicesByUser(ctx, userID)
	if err != nil {
		return nil, internal("load devices", err)
	}
	var keys []webauthnKey
	for i := range all {
		d := &all[i]
		if d.Kind != KindWebAuthn || !d.Confirmed {
			continue
		}
		var data webauthnData
		if err := json.Unmarshal(d.Data, &data); err != nil {
			s.log.ErrorContext(ctx, "webauthn key with unreadable data", "device", d.ID, "err", err)
			continue
		}
		keys = append(keys, webauthnKey{device: d, data: data})
	}
	return keys, nil
}

// guard calls f, turning a panic of the library on hostile input into an
// error: no input may crash the service.
func guard[T any](f func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			var zero T
			v, err = zero, fmt.Errorf("webauthn: library panicked: %v", r)
		}
	}()
	return f()
}

// parseCreation parses a registration response (the JSON of the
// PublicKeyCredential, binary members in base64url).
func parseCreation(response []byte) (*protocol.ParsedCredentialCreationData, error) {
	if len(response) == 0 || len(response) > maxWebAuthnResponse {
		return nil, errors.New("webauthn: empty or oversized response")
	}
	return guard(func() (*protocol.ParsedCredentialCreationData, error) {
		return protocol.ParseCredentialCreationResponseBytes(response)
	})
}

// parseAssertion parses an assertion response (the JSON of the
// PublicKeyCredential, binary members in base64url).
func parseAssertion(response []byte) (*protocol.ParsedCredentialAssertionData, error) {
	if len(response) == 0 || len(response) > maxWebAuthnResponse {
		return nil, errors.New("webauthn: empty or oversized response")
	}
	return guard(func() (*protocol.ParsedCredentialAssertionData, error) {
		return protocol.ParseCredentialRequestResponseBytes(response)
	})
}

func errWebAuthnUnavailable() *Error {
	return &Error{Code: CodeValidationFailed, Message: msgMethodUnavailable, Field: "method"}
}

func errCeremonyExpired() *Error {
	return &Error{Code: CodeExpired, Message: msgCeremonyExpired, Reason: ReasonCeremony}
}

// ceremonyAAD binds sealed ceremony data to its row.
func ceremonyAAD(idHash []byte) secret.AAD {
	return secret.AAD{Table: "webauthn_ceremonies", Column: "session", Row: hex.EncodeToString(idHash)}
}

// saveCeremony stores the session data of a ceremony begun for userID and
// returns the ceremony token for the client.
func (s *Service) saveCeremony(ctx context.Context, userID, purpose string, binding []byte, sd *webauthn.SessionData) (string, error) {
	token, err := secret.Token(s.rand)
	if err != nil {
		return "", internal("new ceremony token", err)
	}
	plain, err := json.Marshal(sd)
	if err != nil {
		return "", internal("encode ceremony", err)
	}
	idHash := s.keys.Hash(hashPurposeCeremony, []byte(token))
	sealed, err := s.keys.Seal(plain, ceremonyAAD(idHash))
	if err != nil {
		return "", internal("seal ceremony", err)
	}
	now := s.clock.Now()
	c := &WebAuthnCeremony{IDHash: idHash, UserID: userID, Purpose: purpose, BindingHash: binding, Session: sealed,
		CreatedAt: now, ExpiresAt: now.Add(WebAuthnCeremonyTTL)}
	if err := s.store.CreateWebAuthnCeremony(ctx, c); err != nil {
		return "", internal("create ceremony", err)
	}
	return token, nil
}

// takeCeremony consumes the ceremony of token and returns its session data
// if it is unexpired and was begun for this purpose, user and binding. Any
// mismatch is reported as an expired ceremony; the ceremony is gone either
// way, so it can never be answered twice.
func (s *Service) takeCeremony(ctx context.Context, token, purpose, userID string, binding []byte) (*webauthn.SessionData, error) {
	if token == "" || len(token) > 256 {
		return nil, errCeremonyExpired()
	}
	c, err := s.store.TakeWebAuthnCeremony(ctx, s.keys.Hashes(hashPurposeCeremony, []byte(token)), s.clock.Now())
	if errors.Is(err, ErrNotFound) {
		return nil, errCeremonyExpired()
	}
	if err != nil {
		return nil, internal("take ceremony", err)
	}
	if c.Purpose != purpose || c.UserID != userID || !hmac.Equal(c.BindingHash, binding) {
		return nil, errCeremonyExpired()
	}
	plain, err := s.keys.Open(c.Session, ceremonyAAD(c.IDHash))
	if err != nil {
		return nil, internal("open ceremony", err)
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(plain, &sd); err != nil {
		return nil, internal("decode ceremony", err)
	}
	return &sd, nil
}

// BeginWebAuthnRegistration begins registering a security key for the
// actor's user. rpOrigin is the origin of the request (the browser's Origin
// header; "" when there is none), which decides the relying party id and
// the accepted origin as described at [WebAuthnConfig]. It returns the
// options for navigator.credentials.create — JSON of the form
// {"publicKey": {...}}, binary members in base64url (the WebAuthn Level 3
// JSON form, for PublicKeyCredential.parseCreationOptionsFromJSON) — and
// the ceremony token that FinishWebAuthnRegistration needs. The user's keys
// are excluded, so the browser refuses to register the same authenticator
// twice.
func (s *Service) BeginWebAuthnRegistration(ctx context.Context, a Actor, rpOrigin string) (options []byte, ceremony string, err error) {
	w := s.webauthn
	if w == nil {
		return nil, "", errWebAuthnUnavailable()
	}
	if err := s.requireStepUpToAdd(ctx, a); err != nil {
		return nil, "", err
	}
	sc, err := w.scope(rpOrigin)
	if err != nil {
		return nil, "", err
	}
	u, err := s.users.UserByID(ctx, a.UserID)
	if errors.Is(err, ErrNotFound) {
		return nil, "", errNotFound("user")
	}
	if err != nil {
		return nil, "", internal("load user", err)
	}
	keys, err := s.webauthnKeys(ctx, a.UserID)
	if err != nil {
		return nil, "", err
	}
	exclude := make([]protocol.CredentialDescriptor, 0, len(keys))
	for _, k := range keys {
		exclude = append(exclude, k.data.Credential.Descriptor())
	}
	lib, err := w.library(sc.rpID, sc.origins)
	if err != nil {
		return nil, "", internal("webauthn relying party", err)
	}
	opts := []webauthn.RegistrationOption{webauthn.WithExclusions(exclude)}
	if sc.bound != "" {
		opts = append(opts, webauthn.WithRegistrationOrigin(sc.bound))
	}
	user := &webauthnUser{handle: webauthnUserHandle(a.UserID), name: u.Username}
	creation, sd, err := lib.BeginRegistration(user, opts...)
	if err != nil {
		return nil, "", internal("begin webauthn registration", err)
	}
	options, err = json.Marshal(creation)
	if err != nil {
		return nil, "", internal("encode webauthn options", err)
	}
	ceremony, err = s.saveCeremony(ctx, a.UserID, CeremonyRegister, nil, sd)
	if err != nil {
		return nil, "", err
	}
	return options, ceremony, nil
}

// FinishWebAuthnRegistration completes a registration begun by
// BeginWebAuthnRegistration for the same user: response is the JSON of the
// PublicKeyCredential the browser created (binary members in base64url).
// The ceremony proves the key, so it is added confirmed, named name (""
// = "Security key"); the first confirmed device becomes the primary one,
// turning two-factor on, and then comes with a fresh set of backup codes.
//
// Errors: CodeExpired (Reason ReasonCeremony) for an unknown, expired or
// used ceremony; CodeInvalidCode for a response that does not parse
// (ReasonMalformed) or does not verify (ReasonWrong: another challenge,
// origin or RP id, a bad attestation); CodeValidationFailed for an
// attestation that does not lead to a configured root; CodeConflict for a
// key the user has registered already. The ceremony is used up by any
// attempt.
func (s *Service) FinishWebAuthnRegistration(ctx context.Context, a Actor, ceremony string, response []byte, name string) (*Confirmation, error) {
	w := s.webauthn
	if w == nil {
		return nil, errWebAuthnUnavailable()
	}
	if name == "" {
		name = defaultSecurityKeyName
	}
	if err := validateDeviceName(name); err != nil {
		return nil, err
	}
	sd, err := s.takeCeremony(ctx, ceremony, CeremonyRegister, a.UserID, nil)
	if err != nil {
		return nil, err
	}
	parsed, err := parseCreation(response)
	if err != nil {
		return nil, &Error{Code: CodeInvalidCode, Message: msgInvalidSecurityKey, Reason: ReasonMalformed, Err: err}
	}
	lib, err := w.library(sd.RelyingPartyID, w.finishOrigins(sd))
	if err != nil {
		return nil, internal("webauthn relying party", err)
	}
	user := &webauthnUser{handle: webauthnUserHandle(a.UserID)}
	cred, err := guard(func() (*webauthn.Credential, error) { return lib.CreateCredential(user, *sd, parsed) })
	if err != nil {
		return nil, &Error{Code: CodeInvalidCode, Message: msgInvalidSecurityKey, Reason: ReasonWrong, Err: err}
	}
	if err := w.checkRoots(parsed, s.clock.Now()); err != nil {
		return nil, &Error{Code: CodeValidationFailed, Message: msgUntrustedKey, Field: "token", Err: err}
	}
	credID := base64.RawURLEncoding.EncodeToString(cred.ID)
	keys, err := s.webauthnKeys(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.device.Destination == credID {
			return nil, &Error{Code: CodeConflict, Message: msgKeyRegistered, Field: "token"}
		}
	}
	wasEnabled, err := s.Enabled(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	cred.Attestation = webauthn.CredentialAttestation{}
	data, err := json.Marshal(webauthnData{RPID: sd.RelyingPartyID, Credential: *cred})
	if err != nil {
		return nil, internal("encode webauthn credential", err)
	}
	id, err := s.newID()
	if err != nil {
		return nil, internal("new device id", err)
	}
	d := &Device{ID: id, UserID: a.UserID, Kind: KindWebAuthn, Name: name, Confirmed: true, CreatedAt: s.clock.Now(),
		Counter: int64(cred.Authenticator.SignCount), Destination: credID, Data: data}
	if err := s.store.CreateDevice(ctx, d); err != nil {
		if errors.Is(err, ErrConflict) { // the same key registered concurrently
			return nil, &Error{Code: CodeConflict, Message: msgKeyRegistered, Field: "token"}
		}
		return nil, internal("create device", err)
	}
	s.emit(ctx, deviceEvent(EventDeviceAdded, d, OutcomeSuccess, a.reason()))
	c := &Confirmation{Device: d}
	if !wasEnabled && d.Primary {
		if c.BackupCodes, err = s.replaceBackupCodes(ctx, a); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// checkRoots enforces WebAuthnConfig.RootCerts on a verified registration.
func (w *webauthnRP) checkRoots(parsed *protocol.ParsedCredentialCreationData, now time.Time) error {
	if w.roots == nil {
		return nil
	}
	att := parsed.Response.AttestationObject
	switch protocol.AttestationFormat(att.Format) {
	case protocol.AttestationFormatPacked, protocol.AttestationFormatFIDOUniversalSecondFactor, protocol.AttestationFormatTPM:
	default:
		return nil
	}
	x5c, ok := att.AttStatement["x5c"].([]any)
	if !ok || len(x5c) == 0 {
		return nil // self attestation: no chain to check
	}
	var certs []*x509.Certificate
	for _, raw := range x5c {
		der, ok := raw.([]byte)
		if !ok {
			return errors.New("webauthn: attestation certificate is not bytes")
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return fmt.Errorf("webauthn: attestation certificate: %w", err)
		}
		certs = append(certs, c)
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: w.roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return fmt.Errorf("webauthn: attestation chain: %w", err)
	}
	return nil
}

// BeginWebAuthnLogin begins the security-key step of the login challenge
// identified by loginToken. rpOrigin is the origin of the request, as for
// BeginWebAuthnRegistration. It returns the options for
// navigator.credentials.get ({"publicKey": {...}}, binary members in
// base64url): allowCredentials lists the user's keys registered under the
// ceremony's RP id (with the preferred transports when configured). A user
// without such a key is CodeNoDevice.
func (s *Service) BeginWebAuthnLogin(ctx context.Context, loginToken, rpOrigin string) (options []byte, ceremony string, err error) {
	if s.webauthn == nil {
		return nil, "", errWebAuthnUnavailable()
	}
	if err := s.limitSignIn(ctx); err != nil {
		return nil, "", err
	}
	c, err := s.challenge(ctx, loginToken)
	if err != nil {
		return nil, "", err
	}
	return s.beginAssertion(ctx, c.UserID, CeremonyLogin, c.IDHash, rpOrigin)
}

// CompleteLoginWebAuthn finishes the login challenge loginToken with the
// assertion response (the JSON of the PublicKeyCredential the browser
// returned, binary members in base64url) to the ceremony begun by
// BeginWebAuthnLogin, under the same rules as CompleteLogin: on success the
// challenge is consumed and the result names the key that verified.
//
// The assertion is one verification of one key (throttled per key and per
// user, audited): the key it names, if that is one of the keys the ceremony
// allowed. A response that does not parse (ReasonMalformed), or that names
// a credential that is not one of those keys (ReasonWrong: an unknown key,
// another user's), is one failure counted against the user's default
// security key — the challenge's chosen device if it is a security key,
// else the primary device if it is one, else the oldest key — and against
// the user; it is reported as CodeInvalidCode.
func (s *Service) CompleteLoginWebAuthn(ctx context.Context, loginToken, ceremony string, response []byte) (*LoginResult, error) {
	if s.webauthn == nil {
		return nil, errWebAuthnUnavailable()
	}
	return s.completeLogin(ctx, loginToken, func(c *Challenge) (*Device, error) {
		sd, err := s.takeCeremony(ctx, ceremony, CeremonyLogin, c.UserID, c.IDHash)
		if err != nil {
			return nil, err
		}
		return s.verifyAssertion(ctx, c.UserID, c.DeviceID, sd, response)
	})
}

// BeginWebAuthnStepUp begins a security-key step-up in the session sess
// (see StepUpWebAuthn); origin is the origin of the request, as for
// BeginWebAuthnRegistration. The ceremony is bound to the session.
func (s *Service) BeginWebAuthnStepUp(ctx context.Context, sess *Session, origin string) (options []byte, ceremony string, err error) {
	if s.webauthn == nil {
		return nil, "", errWebAuthnUnavailable()
	}
	if sess == nil || sess.UserID == "" {
		return nil, "", errNotFound("session")
	}
	return s.beginAssertion(ctx, sess.UserID, CeremonyStepUp, sess.IDHash, origin)
}

// StepUpWebAuthn checks the assertion response to the ceremony begun by
// BeginWebAuthnStepUp in the same session, with every rule of
// CompleteLoginWebAuthn, and on success marks the session freshly verified
// by the key.
func (s *Service) StepUpWebAuthn(ctx context.Context, sess *Session, ceremony string, response []byte) (*Device, error) {
	if s.webauthn == nil {
		return nil, errWebAuthnUnavailable()
	}
	return s.stepUp(ctx, sess, func(userID string) (*Device, error) {
		sd, err := s.takeCeremony(ctx, ceremony, CeremonyStepUp, userID, sess.IDHash)
		if err != nil {
			return nil, err
		}
		return s.verifyAssertion(ctx, userID, "", sd, response)
	})
}

// beginAssertion begins an assertion ceremony for the user's keys
// registered under the ceremony's RP id.
func (s *Service) beginAssertion(ctx context.Context, userID, purpose string, binding []byte, origin string) ([]byte, string, error) {
	w := s.webauthn
	sc, err := w.scope(origin)
	if err != nil {
		return nil, "", err
	}
	keys, err := s.webauthnKeys(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	user := &webauthnUser{handle: webauthnUserHandle(userID)}
	var allow []protocol.CredentialDescriptor
	for _, k := range keys {
		if k.data.RPID != sc.rpID {
			continue
		}
		user.creds = append(user.creds, k.data.Credential)
		desc := k.data.Credential.Descriptor()
		if len(w.transports) > 0 {
			desc.Transport = w.transports
		}
		allow = append(allow, desc)
	}
	if len(allow) == 0 {
		return nil, "", &Error{Code: CodeNoDevice, Message: msgNoSecurityKey, Reason: "no security key"}
	}
	lib, err := w.library(sc.rpID, sc.origins)
	if err != nil {
		return nil, "", internal("webauthn relying party", err)
	}
	opts := []webauthn.LoginOption{webauthn.WithAllowedCredentials(allow), webauthn.WithUserVerification(w.uv)}
	if sc.bound != "" {
		opts = append(opts, webauthn.WithLoginOrigin(sc.bound))
	}
	assertion, sd, err := lib.BeginLogin(user, opts...)
	if err != nil {
		return nil, "", internal("begin webauthn assertion", err)
	}
	options, err := json.Marshal(assertion)
	if err != nil {
		return nil, "", internal("encode webauthn options", err)
	}
	token, err := s.saveCeremony(ctx, userID, purpose, binding, sd)
	if err != nil {
		return nil, "", err
	}
	return options, token, nil
}

// verifyAssertion verifies an assertion response to the ceremony sd for
// the user through the store (claim, check, consume, audit in one
// transaction) and returns the key that verified. chosenID is the device the
// sign-in chose ("" = none), used only to pick the key a response that
// names no key of the user counts against.
func (s *Service) verifyAssertion(ctx context.Context, userID, chosenID string, sd *webauthn.SessionData, response []byte) (*Device, error) {
	w := s.webauthn
	keys, err := s.webauthnKeys(ctx, userID)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 { // removed since the ceremony began
		return nil, &Error{Code: CodeNoDevice, Message: msgNoSecurityKey, Reason: "no security key"}
	}
	fail := func(reason string) (*Device, error) {
		target := defaultKey(keys, chosenID)
		return s.verify(ctx, target, func(*Device) Check { return Check{Reason: reason} })
	}
	parsed, err := parseAssertion(response)
	if err != nil {
		return fail(ReasonMalformed)
	}
	var key *Device
	if isAllowed(sd, parsed.RawID) {
		credID := base64.RawURLEncoding.EncodeToString(parsed.RawID)
		for _, k := range keys {
			if k.device.Destination == credID {
				key = k.device
				break
			}
		}
	}
	if key == nil {
		return fail(ReasonWrong) // not a key of this user allowed for the ceremony
	}
	lib, err := w.library(sd.RelyingPartyID, w.finishOrigins(sd))
	if err != nil {
		return nil, internal("webauthn relying party", err)
	}
	handle := webauthnUserHandle(userID)
	return s.verify(ctx, key, func(row *Device) Check {
		return checkAssertion(lib, handle, row, sd, parsed)
	})
}

// checkAssertion is the Check of an assertion: it verifies the response
// against the key as stored (and locked) in the verification transaction
// and applies the sign-count rule. Pure computation, no I/O.
func checkAssertion(lib *webauthn.WebAuthn, handle []byte, row *Device, sd *webauthn.SessionData, parsed *protocol.ParsedCredentialAssertionData) Check {
	var data webauthnData
	if err := json.Unmarshal(row.Data, &data); err != nil {
		return Check{Err: internal("decode webauthn credential", err)}
	}
	if data.RPID != sd.RelyingPartyID {
		return Check{Reason: ReasonWrong} // registered for another relying party
	}
	user := &webauthnUser{handle: handle, creds: []webauthn.Credential{data.Credential}}
	// The allowed list was checked by the caller against the user's keys;
	// the library would insist that this one-key user owns all of them.
	session := *sd
	session.AllowedCredentialIDs = nil
	if _, err := guard(func() (*webauthn.Credential, error) { return lib.ValidateLogin(user, session, parsed) }); err != nil {
		return Check{Reason: ReasonWrong}
	}
	// The sign-count rule (WebAuthn §7.2 step 21, as the seed applies it):
	// if either count is non-zero, the new one must be greater, or the key
	// may have been cloned. The store consumes it with the same condition
	// (counter < new), atomically.
	stored := max(row.Counter, 0)
	n := int64(parsed.Response.AuthenticatorData.Counter)
	if stored == 0 && n == 0 {
		// An authenticator without a counter: nothing to compare; the
		// single-use ceremony is what stops replay.
		return Check{Counter: 0, Drift: row.Drift, Unconditional: true}
	}
	if n <= stored {
		return Check{Reason: ReasonReplayed}
	}
	return Check{Counter: n, Drift: row.Drift}
}

// isAllowed reports whether the credential id was allowed in the ceremony.
func isAllowed(sd *webauthn.SessionData, id []byte) bool {
	if len(id) == 0 {
		return false
	}
	for _, a := range sd.AllowedCredentialIDs {
		if bytes.Equal(a, id) {
			return true
		}
	}
	return false
}

// defaultKey is the key a response that names no key of the user is
// counted against: the chosen device if it is a key, else the primary if it
// is one, else the first (keys come primary first, then oldest first).
func defaultKey(keys []webauthnKey, chosenID string) *Device {
	for _, k := range keys {
		if k.device.ID == chosenID {
			return k.device
		}
	}
	return keys[0].device
}
