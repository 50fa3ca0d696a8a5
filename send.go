package twofactor

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/twofactor/twofactor/phone"
	"github.com/twofactor/twofactor/secret"
)

// Hash purposes of sent codes and call ids.
const (
	hashPurposeSentCode = "sent-code"
	hashPurposeCall     = "call"
)

// phoneValiditySteps is how long a phone code is valid, in TOTP steps
// (SPEC §4.2: 3 steps, 90 s by default).
const phoneValiditySteps = 3

// Methods returns the device kinds a user can set up with this service's
// configuration: TOTP always, sms, call and email when their gateway is
// configured, yubikey when a validation service is, webauthn when
// Config.WebAuthn is set.
func (s *Service) Methods() []Kind {
	ks := []Kind{KindTOTP}
	if s.sms != nil {
		ks = append(ks, KindSMS)
	}
	if s.caller != nil {
		ks = append(ks, KindCall)
	}
	if s.mailer != nil {
		ks = append(ks, KindEmail)
	}
	if s.yubicloud != nil {
		ks = append(ks, KindYubiKey)
	}
	if s.webauthn != nil {
		ks = append(ks, KindWebAuthn)
	}
	return ks
}

// available reports whether codes of kind k can be sent.
func (s *Service) available(k Kind) bool {
	switch k {
	case KindSMS:
		return s.sms != nil
	case KindCall:
		return s.caller != nil
	case KindEmail:
		return s.mailer != nil
	}
	return false
}

// AddPhone adds an unconfirmed sms or call device for the actor's user and
// sends it a first code; ConfirmDevice then checks the code. If the code
// cannot be sent the device is removed again, so a failed gateway leaves no
// half-made device.
func (s *Service) AddPhone(ctx context.Context, a Actor, kind Kind, number, name string) (*Device, error) {
	if kind != KindSMS && kind != KindCall || !s.available(kind) {
		return nil, errValidation("method", "This method is not available.")
	}
	e164, err := phone.Parse(number, s.opts.PhoneRegion)
	if err != nil {
		return nil, errValidation("phone_number", msgInvalidPhone)
	}
	if name == "" {
		name = map[Kind]string{KindSMS: "Text message", KindCall: "Phone call"}[kind]
	}
	return s.addInteractive(ctx, a, kind, e164, name)
}

// AddEmail adds an unconfirmed email device for the actor's user — at
// address, or at the user's own address when address is "" — and sends it a
// first code. The user's account address is not changed: the device keeps
// its own, so nothing is written before the address is proven.
func (s *Service) AddEmail(ctx context.Context, a Actor, address, name string) (*Device, error) {
	if !s.available(KindEmail) {
		return nil, errValidation("method", "This method is not available.")
	}
	if address == "" {
		u, err := s.users.UserByID(ctx, a.UserID)
		if err != nil {
			return nil, internal("load user", err)
		}
		address = u.Email
	}
	address = strings.TrimSpace(address)
	if address == "" || validateEmail(address) != nil {
		return nil, errValidation("email", "Enter a valid email address.")
	}
	if name == "" {
		name = "Email"
	}
	return s.addInteractive(ctx, a, KindEmail, address, name)
}

func (s *Service) addInteractive(ctx context.Context, a Actor, kind Kind, dest, name string) (*Device, error) {
	if err := s.requireStepUpToAdd(ctx, a); err != nil {
		return nil, err
	}
	if err := validateDeviceName(name); err != nil {
		return nil, err
	}
	id, err := s.newID()
	if err != nil {
		return nil, internal("new device id", err)
	}
	d := &Device{ID: id, UserID: a.UserID, Kind: kind, Name: name, CreatedAt: s.clock.Now(),
		Digits: s.opts.TOTPDigits, Counter: -1, Destination: dest}
	if err := s.store.CreateDevice(ctx, d); err != nil {
		return nil, internal("create device", err)
	}
	if _, err := s.send(ctx, d); err != nil {
		if _, derr := s.store.DeleteDevice(ctx, a.UserID, d.ID); derr != nil {
			s.log.ErrorContext(ctx, "removing a device whose first code failed", "device", d.ID, "err", derr)
		}
		return nil, err
	}
	return d, nil
}

// SendCode sends a fresh code to one of the user's sms, call or email
// devices. It is refused inside the device's cooldown and past the user's
// daily limit (CodeThrottled, with RetryAt), so a page reload or a script
// cannot make the service send message after message (SMS pumping). It
// returns when the code stops being valid.
func (s *Service) SendCode(ctx context.Context, userID, deviceID string) (time.Time, error) {
	d, err := s.Device(ctx, userID, deviceID)
	if err != nil {
		return time.Time{}, err
	}
	return s.send(ctx, d)
}

func (s *Service) send(ctx context.Context, d *Device) (time.Time, error) {
	if !d.Interactive() {
		return time.Time{}, &Error{Code: CodeValidationFailed, Message: "This device does not receive codes.", Field: "device"}
	}
	if !s.available(d.Kind) {
		return time.Time{}, &Error{Code: CodeGatewayFailed, Message: msgGatewayFailed, Reason: "not configured"}
	}
	code, err := secret.RandomString(s.rand, secret.DigitAlphabet, d.Digits)
	if err != nil {
		return time.Time{}, internal("new code", err)
	}
	now := s.clock.Now()
	validity, cooldown := time.Duration(phoneValiditySteps*s.opts.TOTPStep)*time.Second, s.opts.PhoneCooldown
	if d.Kind == KindEmail {
		validity, cooldown = s.opts.EmailValidity, s.opts.EmailCooldown
	}
	hash := s.keys.Hash(hashPurposeSentCode, sentCodeInput(d.ID, code))
	res, err := s.store.ReserveSend(ctx, Send{UserID: d.UserID, DeviceID: d.ID, CodeHash: hash, Now: now,
		ExpiresAt: now.Add(validity), Cooldown: cooldown, DailyLimit: s.opts.DailySendLimit})
	if err != nil {
		return time.Time{}, internal("reserve send", err)
	}
	if !res.Allowed {
		msg := msgSendCooldown
		if res.Reason == ReasonDailyLimit {
			msg = msgSendDailyLimit
		}
		s.emit(ctx, deviceEvent(EventThrottled, d, OutcomeRefused, res.Reason))
		return time.Time{}, &Error{Code: CodeThrottled, Message: msg, Reason: res.Reason, RetryAt: res.RetryAt}
	}
	if err := s.deliver(ctx, d, code, now.Add(validity)); err != nil {
		if cerr := s.store.CancelSend(ctx, d.ID, hash); cerr != nil {
			s.log.ErrorContext(ctx, "cancelling an undelivered code", "device", d.ID, "err", cerr)
		}
		return time.Time{}, err
	}
	s.emit(ctx, deviceEvent(EventCodeSent, d, OutcomeSuccess, ""))
	return now.Add(validity), nil
}

// sentCodeInput binds a sent code's hash to its device.
func sentCodeInput(deviceID, code string) []byte { return []byte(deviceID + ":" + code) }

// callScript is what a voice call's callback reads out.
type callScript struct {
	Code     string `json:"code"`
	Site     string `json:"site"`
	Language string `json:"language"`
}

// deliver hands the code to the device's gateway and maps its failure.
func (s *Service) deliver(ctx context.Context, d *Device, code string, expires time.Time) error {
	m := Message{To: d.Destination, Code: code, Site: s.opts.Site, Language: ClientFrom(ctx).Language}
	var err error
	switch d.Kind {
	case KindSMS:
		err = s.sms.SendSMS(ctx, m)
	case KindEmail:
		err = s.mailer.SendCode(ctx, m)
	case KindCall:
		err = s.call(ctx, d, m, expires)
	}
	var te *Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
		return te
	case errors.Is(err, ErrInvalidDestination):
		field := "phone_number"
		if d.Kind == KindEmail {
			field = "email"
		}
		msg := msgInvalidPhone
		if d.Kind == KindEmail {
			msg = "Enter a valid email address."
		}
		return &Error{Code: CodeValidationFailed, Message: msg, Field: field, Err: err}
	}
	return &Error{Code: CodeGatewayFailed, Message: msgGatewayFailed, Err: err}
}

// call stores the call's script under an opaque id and places the call. The
// voice provider fetches the script by that id: the code never travels in a
// URL (seed weakness: it did, and lost its leading zero on the way).
func (s *Service) call(ctx context.Context, d *Device, m Message, expires time.Time) error {
	id, err := secret.Token(s.rand)
	if err != nil {
		return internal("new call id", err)
	}
	m.CallID = id
	script, err := json.Marshal(callScript{Code: m.Code, Site: m.Site, Language: m.Language})
	if err != nil {
		return internal("call script", err)
	}
	idHash := s.keys.Hash(hashPurposeCall, []byte(id))
	sealed, err := s.keys.Seal(script, callScriptAAD(idHash))
	if err != nil {
		return internal("seal call script", err)
	}
	if err := s.store.CreateCall(ctx, &CallScript{IDHash: idHash, DeviceID: d.ID, Script: sealed, ExpiresAt: expires}); err != nil {
		return internal("store call script", err)
	}
	return s.caller.Call(ctx, m)
}

func callScriptAAD(idHash []byte) secret.AAD {
	return secret.AAD{Table: "calls", Column: "script", Row: hex.EncodeToString(idHash)}
}

// Call is what a voice call reads out.
type Call struct {
	Code     string // digits, leading zeros kept
	Site     string
	Language string
}

// CallScript returns the script of a voice call for the provider's callback,
// by the opaque call id of the callback URL. An unknown or expired id is
// CodeNotFound. The callback must be authenticated by the adapter (Twilio's
// request signature) before it asks.
func (s *Service) CallScript(ctx context.Context, callID string) (*Call, error) {
	if callID == "" || len(callID) > 128 {
		return nil, errNotFound("call")
	}
	c, err := s.store.CallByHash(ctx, s.keys.Hashes(hashPurposeCall, []byte(callID)), s.clock.Now())
	if errors.Is(err, ErrNotFound) {
		return nil, errNotFound("call")
	}
	if err != nil {
		return nil, internal("load call", err)
	}
	plain, err := s.keys.Open(c.Script, callScriptAAD(c.IDHash))
	if err != nil {
		return nil, internal("open call script", err)
	}
	var cs callScript
	if err := json.Unmarshal(plain, &cs); err != nil {
		return nil, internal("read call script", err)
	}
	return &Call{Code: cs.Code, Site: cs.Site, Language: cs.Language}, nil
}

// checkSentCode checks a code typed for an sms, call or email device.
func (s *Service) checkSentCode(d *Device, input string) Check {
	code, err := parseSentCode(input, d.Digits)
	if err != nil {
		return Check{Reason: ReasonMalformed}
	}
	return Check{CodeHashes: s.keys.Hashes(hashPurposeSentCode, sentCodeInput(d.ID, code))}
}

// parseSentCode accepts the code's digits, spaces between groups allowed.
func parseSentCode(input string, digits int) (string, error) {
	n := strings.ReplaceAll(strings.TrimSpace(input), " ", "")
	if len(n) != digits {
		return "", errors.New("wrong length")
	}
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return "", errors.New("not a digit")
		}
	}
	return n, nil
}

// MaskedDestination is where the device's codes go, masked for display:
// "+31 ** *** **67" for a phone, "b***e@example.com" for an email address,
// "" for other kinds.
func (d *Device) MaskedDestination() string {
	switch d.Kind {
	case KindSMS, KindCall:
		return phone.Mask(d.Destination)
	case KindEmail:
		return phone.MaskEmail(d.Destination)
	}
	return ""
}
