package web

import (
	"context"
	"strings"
	"time"

	"github.com/twofactor/twofactor"
)

// SMSMethod is the setup method of codes sent by text message: the step
// asks for a phone number, sends a code to it and confirms the device
// with that code. It is offered when the Service has an SMS gateway.
func SMSMethod() Method {
	return Method{
		Code:        "sms",
		Label:       msg("Text message"),
		Kinds:       []twofactor.Kind{twofactor.KindSMS},
		Action:      msg("Send text message to %s"),
		Instruction: msg("We sent you a text message, please enter the token we sent."),
		Phone:       true,
		Setup:       sentSetup{kind: twofactor.KindSMS},
		requires:    twofactor.KindSMS,
	}
}

// CallMethod is the setup method of codes read out by a voice call: as
// SMSMethod, with a call. It is offered when the Service has a voice
// gateway.
func CallMethod() Method {
	return Method{
		Code:        "call",
		Label:       msg("Phone call"),
		Kinds:       []twofactor.Kind{twofactor.KindCall},
		Action:      msg("Call number %s"),
		Instruction: msg("We are calling your phone right now, please enter the digits you hear."),
		Phone:       true,
		Setup:       sentSetup{kind: twofactor.KindCall},
		requires:    twofactor.KindCall,
	}
}

// EmailMethod is the setup method of codes sent by email: to the
// account's address, or — when the account has none — to an address the
// step asks for. The address is the device's own: the account is not
// changed. It is offered when the Service has a mailer.
func EmailMethod() Method {
	return Method{
		Code:        "email",
		Label:       msg("Email"),
		Kinds:       []twofactor.Kind{twofactor.KindEmail},
		Action:      msg("Send email to %s"),
		Instruction: msg("We sent you an email, please enter the token we sent."),
		Setup:       sentSetup{kind: twofactor.KindEmail},
		requires:    twofactor.KindEmail,
	}
}

// sentSetup is the wizard step of the methods whose codes are sent: ask
// for the destination (a phone number; an email address only when the
// account has none), send the first code, confirm with it. The step also
// sends a new code on request, within the cooldown's limits.
type sentSetup struct{ kind twofactor.Kind }

// sentPage is the data of the step of a sent-code method.
type sentPage struct {
	// Step is the method's code (the forms' step field).
	Step string
	Kind string
	// Ask is the field the step asks for ("phone_number", "email"), ""
	// once the code was sent.
	Ask string
	// Instruction is what to do with the code (an English id), Destination
	// where it went, masked.
	Instruction string
	Destination string
	Digits      int
	// Cooldown is the least number of seconds between two codes.
	Cooldown int
}

// Begin sends the first code to the account's email address when the
// method is email and the account has one; every other case first asks
// for the destination.
func (m sentSetup) Begin(ctx context.Context, s *Setup) (string, error) {
	if m.kind != twofactor.KindEmail || strings.TrimSpace(s.User.Email) == "" {
		return "", nil
	}
	d, err := s.Service.AddEmail(ctx, s.Session.Actor(), "", "")
	if err != nil {
		return "", err
	}
	return d.ID, nil
}

// Page shows the destination form, or the code form once a code was sent.
func (m sentSetup) Page(ctx context.Context, s *Setup) (string, any, error) {
	data := sentPage{Step: s.Method, Kind: string(m.kind), Cooldown: cooldownSeconds(s.Service, m.kind)}
	if s.DeviceID == "" {
		data.Ask = "phone_number"
		if m.kind == twofactor.KindEmail {
			data.Ask = "email"
		}
		return "setup_sent.html", data, nil
	}
	d, err := s.Service.Device(ctx, s.User.ID, s.DeviceID)
	if err != nil {
		return "", nil, err
	}
	data.Instruction = instructionOf(m.kind)
	data.Destination = d.MaskedDestination()
	data.Digits = d.Digits
	return "setup_sent.html", data, nil
}

// Submit adds the device for the posted destination (sending its first
// code), sends a new code when asked to, or confirms the device with the
// posted code; the session is then verified by it.
func (m sentSetup) Submit(ctx context.Context, s *Setup) (*twofactor.Confirmation, error) {
	form := s.Request.PostForm
	field := "phone_number"
	if m.kind == twofactor.KindEmail {
		field = "email"
	}
	if _, asked := form[field]; asked || s.DeviceID == "" {
		return nil, m.add(ctx, s, field, form.Get(field))
	}
	if form.Get("resend") != "" {
		if _, err := s.Service.SendCode(ctx, s.User.ID, s.DeviceID); err != nil {
			return nil, err
		}
		s.Notice = msg("We sent you a new code.")
		return nil, nil
	}
	return s.Service.ConfirmInSession(ctx, s.Session, s.DeviceID, form.Get("token"))
}

// add adds the device for a destination, replacing the unconfirmed one of
// this setup (a number typed again, or corrected).
func (m sentSetup) add(ctx context.Context, s *Setup, field, value string) error {
	value = strings.TrimSpace(value)
	if value == "" {
		return &twofactor.Error{Code: twofactor.CodeValidationFailed, Field: field, Message: msg("This field is required.")}
	}
	if !validText(value, 256) {
		if m.kind == twofactor.KindEmail {
			return &twofactor.Error{Code: twofactor.CodeValidationFailed, Field: field, Message: msg("Enter a valid email address.")}
		}
		return &twofactor.Error{Code: twofactor.CodeValidationFailed, Field: field,
			Message: msg("Please enter a valid phone number, including your country code starting with + or 00.")}
	}
	if s.DeviceID != "" {
		if err := removeUnconfirmed(ctx, s.Service, s.Session.Actor(), s.DeviceID); err != nil {
			return err
		}
		s.DeviceID = ""
	}
	var d *twofactor.Device
	var err error
	if m.kind == twofactor.KindEmail {
		d, err = s.Service.AddEmail(ctx, s.Session.Actor(), value, "")
	} else {
		d, err = s.Service.AddPhone(ctx, s.Session.Actor(), m.kind, value, "")
	}
	if err != nil {
		return err
	}
	s.DeviceID = d.ID
	return nil
}

// removeUnconfirmed removes a device of the actor whose setup is
// abandoned; a device that is gone or was confirmed meanwhile is left.
func removeUnconfirmed(ctx context.Context, svc *twofactor.Service, a twofactor.Actor, id string) error {
	d, err := svc.Device(ctx, a.UserID, id)
	switch {
	case twofactor.CodeOf(err) == twofactor.CodeNotFound:
		return nil
	case err != nil:
		return err
	case d.Confirmed:
		return nil
	}
	if err := svc.RemoveDevice(ctx, a, id); err != nil && twofactor.CodeOf(err) != twofactor.CodeNotFound {
		return err
	}
	return nil
}

// cooldownSeconds is the least time between two codes sent to a device of
// kind k, in seconds.
func cooldownSeconds(svc *twofactor.Service, k twofactor.Kind) int {
	o := svc.Options()
	c := o.PhoneCooldown
	if k == twofactor.KindEmail {
		c = o.EmailCooldown
	}
	return int((c + time.Second - 1) / time.Second)
}

// instructionOf is the built-in instruction of a kind of device (the
// setup steps use the built-in wording whatever Config.Methods says).
func instructionOf(k twofactor.Kind) string {
	for _, m := range StandardMethods() {
		if len(m.Kinds) > 0 && m.Kinds[0] == k {
			return m.Instruction
		}
	}
	return msg("Please enter the code from your authentication device.")
}

// YubiKeyMethod is the setup method of a YubiKey checked by the validation
// service (YubiCloud): the step takes one OTP, which proves the key and
// confirms it at once. It is offered when the Service has a validation
// service.
func YubiKeyMethod() Method {
	return Method{
		Code:        "yubikey",
		Label:       msg("YubiKey"),
		Kinds:       []twofactor.Kind{twofactor.KindYubiKey},
		Action:      msg("Use your Yubikey device"),
		Instruction: msg("Please use your Yubikey device."),
		Setup:       yubikeySetup{},
		requires:    twofactor.KindYubiKey,
	}
}

// yubikeySetup is the YubiKey method's step of the wizard.
type yubikeySetup struct{}

// yubikeyPage is the data of the YubiKey step.
type yubikeyPage struct {
	Step string
}

// Begin adds nothing: the key is added with its first OTP.
func (yubikeySetup) Begin(ctx context.Context, s *Setup) (string, error) { return "", nil }

// Page shows the OTP field.
func (yubikeySetup) Page(ctx context.Context, s *Setup) (string, any, error) {
	return "setup_yubikey.html", yubikeyPage{Step: s.Method}, nil
}

// Submit enrols the key that typed the posted OTP, checked by the
// validation service, and verifies the session by it.
func (yubikeySetup) Submit(ctx context.Context, s *Setup) (*twofactor.Confirmation, error) {
	otp := strings.TrimSpace(s.Request.PostForm.Get("token"))
	if otp == "" {
		return nil, &twofactor.Error{Code: twofactor.CodeValidationFailed, Field: "token", Message: msg("This field is required.")}
	}
	if !validText(otp, 128) {
		return nil, &twofactor.Error{Code: twofactor.CodeValidationFailed, Field: "token", Message: msg("Entered token is not valid.")}
	}
	return s.Service.AddYubiKeyOTPInSession(ctx, s.Session, otp, "")
}
