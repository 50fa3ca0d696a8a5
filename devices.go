package twofactor

import (
	"context"
	"encoding/base32"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/twofactor/twofactor/otp"
	"github.com/twofactor/twofactor/secret"
)

// TOTPSpec describes a TOTP device to add.
type TOTPSpec struct {
	Name      string        // label shown to the user; "" = "Authenticator app"
	Key       []byte        // nil = 20 new random bytes; else an imported key (10–64 bytes)
	Digits    int           // 0 = Options.TOTPDigits
	Step      int64         // 0 = Options.TOTPStep
	Algorithm otp.Algorithm // SHA1 unless importing
	// Issuer names the site in the authenticator app; "" = Options.Issuer.
	Issuer string
}

// Enrollment is a newly added TOTP device with what the user needs to set up
// the app. This is the only time the key leaves the service in usable form.
type Enrollment struct {
	Device *Device
	Key    []byte     // the raw key
	URI    otp.KeyURI // for the QR code and the otpauth:// link
}

// Secret returns the key in base32, as typed into an app by hand.
func (e *Enrollment) Secret() string {
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(e.Key)
}

// AddTOTP adds an unconfirmed TOTP device for the actor's user. It does not
// sign anybody in until ConfirmDevice accepts a code from it.
func (s *Service) AddTOTP(ctx context.Context, a Actor, spec TOTPSpec, account string) (*Enrollment, error) {
	if err := s.requireStepUpToAdd(ctx, a); err != nil {
		return nil, err
	}
	return s.addTOTP(ctx, a, spec, account, false)
}

// ImportTOTP adds a TOTP device that is confirmed at once, for an operator
// migrating existing keys (twofactor totp add). Users must use AddTOTP.
func (s *Service) ImportTOTP(ctx context.Context, a Actor, spec TOTPSpec, account string) (*Enrollment, error) {
	if !a.Operator {
		return nil, &Error{Code: CodeValidationFailed, Message: "Only an operator can import a confirmed device."}
	}
	e, err := s.addTOTP(ctx, a, spec, account, true)
	if err != nil {
		return nil, err
	}
	s.emit(ctx, deviceEvent(EventDeviceAdded, e.Device, OutcomeSuccess, a.reason()))
	return e, nil
}

func (s *Service) addTOTP(ctx context.Context, a Actor, spec TOTPSpec, account string, confirmed bool) (*Enrollment, error) {
	if spec.Name == "" {
		spec.Name = "Authenticator app"
	}
	if err := validateDeviceName(spec.Name); err != nil {
		return nil, err
	}
	if spec.Digits == 0 {
		spec.Digits = s.opts.TOTPDigits
	}
	if spec.Step == 0 {
		spec.Step = s.opts.TOTPStep
	}
	switch {
	case spec.Digits != 6 && spec.Digits != 8:
		return nil, errValidation("digits", "Digits must be 6 or 8.")
	case spec.Step < 1 || spec.Step > 3600:
		return nil, errValidation("step", "The time step must be between 1 and 3600 seconds.")
	case spec.Key != nil && (len(spec.Key) < 10 || len(spec.Key) > 64):
		return nil, errValidation("key", "The key must be 10 to 64 bytes long.")
	}
	key := spec.Key
	if key == nil {
		var err error
		if key, err = secret.RandomBytes(s.rand, 20); err != nil {
			return nil, internal("new TOTP key", err)
		}
	}
	id, err := s.newID()
	if err != nil {
		return nil, internal("new device id", err)
	}
	sealed, err := s.keys.Seal(key, deviceSecretAAD(id))
	if err != nil {
		return nil, internal("seal TOTP key", err)
	}
	d := &Device{
		ID: id, UserID: a.UserID, Kind: KindTOTP, Name: spec.Name, Confirmed: confirmed,
		CreatedAt: s.clock.Now(), Secret: sealed, Algorithm: spec.Algorithm.String(),
		Digits: spec.Digits, Step: spec.Step, Tolerance: s.opts.TOTPTolerance, Counter: -1,
	}
	if err := s.store.CreateDevice(ctx, d); err != nil {
		return nil, internal("create device", err)
	}
	issuer := spec.Issuer
	if issuer == "" {
		issuer = s.opts.Issuer
	}
	uri := otp.KeyURI{Type: "totp", Issuer: issuer, Account: account, Secret: key,
		Algorithm: spec.Algorithm, Digits: spec.Digits, Period: spec.Step}
	return &Enrollment{Device: d, Key: key, URI: uri}, nil
}

// Confirmation is the result of confirming a device.
type Confirmation struct {
	Device *Device
	// BackupCodes are new backup codes when this confirmation turned
	// two-factor on; shown to the user once.
	BackupCodes []string
}

// ConfirmDevice checks a code from the actor's unconfirmed device and, if it
// is right, confirms the device. The first confirmed device becomes the
// primary one, turning two-factor on; the user then also gets a fresh set of
// backup codes.
func (s *Service) ConfirmDevice(ctx context.Context, a Actor, deviceID, input string) (*Confirmation, error) {
	d, err := s.Device(ctx, a.UserID, deviceID)
	if err != nil {
		return nil, err
	}
	if d.Confirmed {
		return nil, &Error{Code: CodeConflict, Message: "This device is already confirmed."}
	}
	if strings.TrimSpace(input) == "" {
		return nil, errValidation("code", "This field is required.")
	}
	check := s.checker(d.Kind, input)
	if check == nil {
		return nil, &Error{Code: CodeValidationFailed, Message: "This device is not confirmed with a code.", Field: "device"}
	}
	wasEnabled, err := s.Enabled(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	// The confirmation is claimed, checked and applied in one transaction;
	// it is throttled per device and does not count against the user's
	// sign-in throttle, since the session already proved who the user is.
	res, err := s.runVerification(ctx, d, check, true)
	if err != nil {
		return nil, err
	}
	c := &Confirmation{Device: res.Device}
	if !wasEnabled && res.Device.Primary {
		if c.BackupCodes, err = s.replaceBackupCodes(ctx, a); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// RenameDevice renames one of the actor's devices.
func (s *Service) RenameDevice(ctx context.Context, a Actor, deviceID, name string) error {
	if err := validateDeviceName(name); err != nil {
		return err
	}
	if _, err := s.Device(ctx, a.UserID, deviceID); err != nil {
		return err
	}
	if err := s.store.RenameDevice(ctx, a.UserID, deviceID, name); err != nil {
		return internal("rename device", err)
	}
	return nil
}

// SetPrimary makes one of the actor's confirmed devices the primary one.
// It needs step-up.
func (s *Service) SetPrimary(ctx context.Context, a Actor, deviceID string) error {
	d, err := s.Device(ctx, a.UserID, deviceID)
	if err != nil {
		return err
	}
	if d.Kind == KindStatic || !d.Confirmed {
		return errValidation("device", "Only a confirmed device can be the primary one.")
	}
	if d.Primary {
		return nil
	}
	if err := s.requireStepUp(ctx, a); err != nil {
		return err
	}
	if err := s.store.SetPrimary(ctx, a.UserID, deviceID); err != nil {
		return internal("set primary device", err)
	}
	s.emit(ctx, deviceEvent(EventPrimaryChanged, d, OutcomeSuccess, a.reason()))
	return nil
}

// RemoveDevice removes one of the actor's devices; it needs step-up. When
// the primary device goes, the next confirmed device is promoted; when none
// is left, two-factor is off and the backup codes are removed too.
func (s *Service) RemoveDevice(ctx context.Context, a Actor, deviceID string) error {
	d, err := s.Device(ctx, a.UserID, deviceID)
	if err != nil {
		return err
	}
	if d.Confirmed { // abandoning an unfinished setup needs no proof
		if err := s.requireStepUp(ctx, a); err != nil {
			return err
		}
	}
	promoted, err := s.store.DeleteDevice(ctx, a.UserID, deviceID)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return errNotFound("device")
		}
		return internal("remove device", err)
	}
	s.emit(ctx, deviceEvent(EventDeviceRemoved, d, OutcomeSuccess, a.reason()))
	switch {
	case promoted != nil:
		s.emit(ctx, deviceEvent(EventPrimaryChanged, promoted, OutcomeSuccess, a.reason()))
	case d.Primary:
		// No confirmed device is left: two-factor is off, and what remains
		// (backup codes, challenges) goes with it.
		if _, err := s.store.DisableUser(ctx, a.UserID); err != nil {
			return internal("disable two-factor", err)
		}
		s.emit(ctx, Event{Kind: EventTwoFactorDisabled, UserID: a.UserID, Outcome: OutcomeSuccess, Reason: a.reason()})
	}
	return nil
}

// Disable turns two-factor off for the actor's user: every device, backup
// code, pending login and remembered browser is removed. It needs step-up.
func (s *Service) Disable(ctx context.Context, a Actor) error {
	if err := s.requireStepUp(ctx, a); err != nil {
		return err
	}
	if _, err := s.store.DisableUser(ctx, a.UserID); err != nil {
		return internal("disable two-factor", err)
	}
	s.emit(ctx, Event{Kind: EventTwoFactorDisabled, UserID: a.UserID, Outcome: OutcomeSuccess, Reason: a.reason()})
	return nil
}

func validateDeviceName(name string) error {
	if strings.TrimSpace(name) == "" {
		return errValidation("name", "This field is required.")
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > 64 {
		return errValidation("name", "Ensure this value has at most 64 characters.")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return errValidation("name", "The name must not contain control characters.")
		}
	}
	return nil
}

// EnrollmentURI returns the key URI of one of the actor's TOTP devices whose
// setup is still in progress (unconfirmed), to draw its QR code again. A
// confirmed device's key is never shown again.
func (s *Service) EnrollmentURI(ctx context.Context, a Actor, deviceID, account string) (otp.KeyURI, error) {
	d, err := s.Device(ctx, a.UserID, deviceID)
	if err != nil {
		return otp.KeyURI{}, err
	}
	if d.Confirmed || d.Kind != KindTOTP {
		return otp.KeyURI{}, errNotFound("setup")
	}
	alg, err := otp.ParseAlgorithm(d.Algorithm)
	if err != nil {
		return otp.KeyURI{}, internal("device algorithm", err)
	}
	key, err := s.keys.Open(d.Secret, deviceSecretAAD(d.ID))
	if err != nil {
		return otp.KeyURI{}, internal("open device key", err)
	}
	return otp.KeyURI{Type: "totp", Issuer: s.opts.Issuer, Account: account, Secret: key,
		Algorithm: alg, Digits: d.Digits, Period: d.Step}, nil
}
