package twofactor

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/twofactor/twofactor/yubikey"
)

// YubiKeySpec describes a YubiKey (Yubico OTP) to add.
type YubiKeySpec struct {
	Name string
	// PublicID is the key's public id, in modhex (the first characters of
	// every OTP it types; usually 12).
	PublicID string
	// Remote keys are checked by the validation service (YubiCloud);
	// local keys here, with the private id and AES key programmed into the
	// key, which are stored sealed like every device key.
	Remote    bool
	PrivateID [6]byte
	AESKey    [16]byte
}

// yubikeyData is the non-secret data of a YubiKey device.
type yubikeyData struct {
	Remote bool `json:"remote"`
}

func (d *Device) yubikeyRemote() bool {
	var data yubikeyData
	_ = json.Unmarshal(d.Data, &data)
	return data.Remote
}

// AddYubiKey adds a confirmed YubiKey for an operator migrating keys
// (twofactor yubikey add). Users enrol with AddYubiKeyOTP.
func (s *Service) AddYubiKey(ctx context.Context, a Actor, spec YubiKeySpec) (*Device, error) {
	if !a.Operator {
		return nil, &Error{Code: CodeValidationFailed, Message: "Only an operator can import a confirmed device."}
	}
	pub := strings.ToLower(spec.PublicID)
	if pub == "" || len(pub) > 32 || !yubikey.IsModhex(pub) {
		return nil, errValidation("public_id", "The public id must be 2 to 32 modhex characters.")
	}
	if spec.Remote && s.yubicloud == nil {
		return nil, errValidation("remote", "No YubiKey validation service is configured.")
	}
	d, err := s.newYubiKey(ctx, a.UserID, pub, spec)
	if err != nil {
		return nil, err
	}
	s.emit(ctx, deviceEvent(EventDeviceAdded, d, OutcomeSuccess, a.reason()))
	return d, nil
}

func (s *Service) newYubiKey(ctx context.Context, userID, publicID string, spec YubiKeySpec) (*Device, error) {
	if spec.Name == "" {
		spec.Name = "YubiKey"
	}
	if err := validateDeviceName(spec.Name); err != nil {
		return nil, err
	}
	if d, _ := s.yubikeyDevice(ctx, userID, publicID); d != nil {
		return nil, &Error{Code: CodeConflict, Message: "This YubiKey is already registered.", Field: "token"}
	}
	id, err := s.newID()
	if err != nil {
		return nil, internal("new device id", err)
	}
	data, _ := json.Marshal(yubikeyData{Remote: spec.Remote})
	d := &Device{ID: id, UserID: userID, Kind: KindYubiKey, Name: spec.Name, Confirmed: true, CreatedAt: s.clock.Now(),
		Counter: -1, Destination: publicID, Data: data}
	if !spec.Remote {
		keys := append(spec.PrivateID[:], spec.AESKey[:]...)
		if d.Secret, err = s.keys.Seal(keys, deviceSecretAAD(id)); err != nil {
			return nil, internal("seal YubiKey keys", err)
		}
		clear(keys)
	}
	if err := s.store.CreateDevice(ctx, d); err != nil {
		return nil, internal("create device", err)
	}
	return d, nil
}

// AddYubiKeyOTP enrols the YubiKey that typed otp, for the actor's user,
// checking the OTP with the validation service (the setup wizard's YubiKey
// step). The OTP proves the key, so the device is confirmed at once; the
// first confirmed device turns two-factor on and comes with backup codes.
func (s *Service) AddYubiKeyOTP(ctx context.Context, a Actor, otp, name string) (*Confirmation, error) {
	if s.yubicloud == nil {
		return nil, errValidation("method", "This method is not available.")
	}
	if err := s.requireStepUpToAdd(ctx, a); err != nil {
		return nil, err
	}
	otp = strings.ToLower(strings.TrimSpace(otp))
	pub, ok := yubikey.PublicID(otp)
	if !ok || pub == "" {
		return nil, errValidation("token", "Entered token is not valid.")
	}
	wasEnabled, err := s.Enabled(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	if _, err := s.yubicloud.Verify(ctx, otp); err != nil {
		return nil, yubicloudError(err)
	}
	d, err := s.newYubiKey(ctx, a.UserID, pub, YubiKeySpec{Name: name, Remote: true})
	if err != nil {
		return nil, err
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

// yubicloudError maps a validation-service answer to an *Error.
func yubicloudError(err error) *Error {
	switch {
	case errors.Is(err, yubikey.ErrReplayed):
		return errInvalidCode(ReasonReplayed, err)
	case errors.Is(err, yubikey.ErrBadOTP), errors.Is(err, yubikey.ErrMalformed):
		return errInvalidCode(ReasonWrong, err)
	}
	return &Error{Code: CodeGatewayFailed, Message: msgYubiCloud, Err: err}
}

// yubikeyPublicID returns the public id of an OTP typed by a YubiKey (a
// public id and 32 modhex characters); ok is false for other input.
func yubikeyPublicID(input string) (string, bool) {
	return yubikey.PublicID(strings.ToLower(strings.TrimSpace(input)))
}

// yubikeyDevice returns the user's YubiKey with that public id, or nil.
func (s *Service) yubikeyDevice(ctx context.Context, userID, publicID string) (*Device, error) {
	all, err := s.store.DevicesByUser(ctx, userID)
	if err != nil {
		return nil, internal("load devices", err)
	}
	for i := range all {
		if all[i].Kind == KindYubiKey && all[i].Destination == publicID {
			return &all[i], nil
		}
	}
	return nil, nil
}

// verifyYubiKey checks a Yubico OTP against its key: a local key in the
// verification transaction (the session and use counter must go up: a
// replayed OTP never verifies), a remote one with the validation service
// after the attempt is claimed.
func (s *Service) verifyYubiKey(ctx context.Context, d *Device, input string) (*Device, error) {
	otp := strings.ToLower(strings.TrimSpace(input))
	if !d.yubikeyRemote() {
		return s.verify(ctx, d, func(d *Device) Check {
			keys, err := s.keys.Open(d.Secret, deviceSecretAAD(d.ID))
			if err != nil || len(keys) != 22 {
				return Check{Err: internal("open YubiKey keys", err)}
			}
			defer clear(keys)
			var priv [6]byte
			var aes [16]byte
			copy(priv[:], keys[:6])
			copy(aes[:], keys[6:])
			o, err := yubikey.Verify(otp, d.Destination, priv, aes, d.Counter)
			switch {
			case err == nil:
				return Check{Counter: o.Counter(), Drift: d.Drift}
			case errors.Is(err, yubikey.ErrReplayed):
				return Check{Reason: ReasonReplayed}
			case errors.Is(err, yubikey.ErrMalformed):
				return Check{Reason: ReasonMalformed}
			}
			return Check{Reason: ReasonWrong}
		})
	}
	if s.yubicloud == nil {
		return nil, &Error{Code: CodeGatewayFailed, Message: msgYubiCloud, Reason: "not configured"}
	}
	if err := s.claim(ctx, d, false); err != nil {
		return nil, err
	}
	if _, err := s.yubicloud.Verify(ctx, otp); err != nil {
		e := yubicloudError(err)
		if e.Code == CodeInvalidCode {
			s.emit(ctx, deviceEvent(EventVerificationFailed, d, OutcomeFailure, e.Reason))
		}
		return nil, e
	}
	if err := s.store.RecordSuccess(ctx, d.UserID, d.ID, s.clock.Now()); err != nil {
		return nil, internal("record success", err)
	}
	s.emit(ctx, deviceEvent(EventUserVerified, d, OutcomeSuccess, ""))
	return d, nil
}
