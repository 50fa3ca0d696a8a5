package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/config"
	"github.com/twofactor/twofactor/internal/smtptest"
	"github.com/twofactor/twofactor/internal/twiliotest"
)

// The phone number of the tests, E.164 and as the pages show it.
const (
	phoneNumber = "+31101234567"
	phoneMasked = "+31 ** *** **67"
)

// codeRE finds a six-digit code in a message.
var codeRE = regexp.MustCompile(`\b(\d{6})\b`)

// withTwilio configures text messages and calls through the Twilio
// gateway, its API at the local peer, and the site's own URL as the public
// URL the peer fetches the calls' scripts from.
func withTwilio(cfg *config.Config, peer *twiliotest.Server, url string) {
	cfg.SMS.Gateway, cfg.Call.Gateway = "twilio", "twilio"
	cfg.Twilio = config.Twilio{AccountSID: peer.AccountSID, AuthToken: peer.AuthToken,
		CallerID: twiliotest.CallerID, BaseURL: peer.URL}
	cfg.PublicURL = url
}

// smsCode returns the code of the last text message to number.
func smsCode(t *testing.T, peer *twiliotest.Server, number string) string {
	t.Helper()
	m, ok := peer.LastMessage(number)
	if !ok {
		t.Fatalf("no text message to %s", number)
	}
	c := codeRE.FindStringSubmatch(m.Body)
	if c == nil {
		t.Fatalf("no code in the text message %q", m.Body)
	}
	return c[1]
}

// mailCode returns the code of the last code email to addr (the notices
// the site also sends carry no code).
func mailCode(t *testing.T, mail *smtptest.Server, addr string) string {
	t.Helper()
	msgs := mail.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if len(m.To) != 1 || !strings.EqualFold(m.To[0], addr) || !strings.Contains(m.Subject, "verification code") {
			continue
		}
		if c := codeRE.FindStringSubmatch(m.Text); c != nil {
			return c[1]
		}
		t.Fatalf("no code in the email %q", m.Text)
	}
	t.Fatalf("no code email to %s among %d messages", addr, len(msgs))
	return ""
}

// TestSetupSMS sets up text messages from the wizard: the method chosen
// among those configured, the number typed as people do, the code read
// from the text message the Twilio peer received, the backup codes shown,
// and the profile naming the masked number.
func TestSetupSMS(t *testing.T) {
	t.Parallel()
	peer := twiliotest.New(t)
	s := newSiteAt(t, func(cfg *config.Config, url string) { withTwilio(cfg, peer, url) })
	ada := s.newAccount("ada", false)
	b := newBrowser(t, s)

	b.signIn(ada)
	b.at("/account/two_factor/")
	b.submit("main a.button.primary") // Enable Two-Factor Authentication
	b.submit("main form button.primary")
	b.at("/account/two_factor/setup/")
	for _, label := range []string{"Token generator", "Text message", "Phone call"} {
		b.mustShow("fieldset", label)
	}
	b.click("#id_method_sms")
	b.submit("main form button.primary")
	b.at("/account/two_factor/setup/")
	b.mustShow("main", "Please enter the phone number you wish to receive the text messages on.")

	// A number that is not one: refused on its field, nothing sent.
	b.typeInto("#id_phone_number", "123")
	b.submit("main form button.primary")
	b.mustShow("#phone-errors", "Please enter a valid phone number, including your country code starting with + or 00.")
	if len(peer.Messages()) != 0 {
		t.Fatal("a message was sent to an invalid number")
	}

	b.do("clear the number", chromedp.Clear(chromedp.CSS("#id_phone_number")))
	b.typeInto("#id_phone_number", "+31 10 123 4567")
	b.submit("main form button.primary")
	b.at("/account/two_factor/setup/")
	b.mustShow("main", "We sent you a text message, please enter the token we sent.")
	b.mustShow("main", "Sent to "+phoneMasked)
	msgs := peer.Messages()
	if len(msgs) != 1 || msgs[0].To != phoneNumber || msgs[0].From != twiliotest.CallerID {
		t.Fatalf("text messages %+v", msgs)
	}

	b.typeInto("#id_token", smsCode(t, peer, phoneNumber))
	b.submit("main form button.primary")
	b.mustShow("main", "Congratulations, you've successfully enabled two-factor authentication.")
	if codes := strings.Fields(b.text("ol.codes")); len(codes) != 10 {
		t.Fatalf("%d backup codes shown", len(codes))
	}
	if !ada.enabled() {
		t.Fatal("two-factor is not on after the setup")
	}
	b.submit("main a.button.primary") // Continue
	b.at("/account/two_factor/")
	b.mustShow("main", "Primary method: Send text message to "+phoneMasked)
}

// TestSignInWithVoiceCall signs in with a phone call: the password step
// makes the site call; the Twilio peer fetches the call's script from the
// site over HTTP with Twilio's signatures, presses a key, hears the
// digits — which the test types in the browser.
func TestSignInWithVoiceCall(t *testing.T) {
	t.Parallel()
	peer := twiliotest.New(t)
	s := newSiteAt(t, func(cfg *config.Config, url string) {
		withTwilio(cfg, peer, url)
		cfg.Phone.Cooldown = 0 // the set-up call is moments before the sign-in's
	})
	grace := s.newAccount("grace", false)
	// A phone set up before, as the wizard does: a first call, its digits.
	ctx := context.Background()
	op := twofactor.OperatorActor(grace.user.ID)
	d, err := s.app.Service.AddPhone(ctx, op, twofactor.KindCall, phoneNumber, "")
	if err != nil {
		t.Fatal(err)
	}
	digits, err := peer.CallDigits(phoneNumber)
	if err != nil {
		t.Fatalf("the set-up call: %v", err)
	}
	if _, err := s.app.Service.ConfirmDevice(ctx, op, d.ID, digits); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, s)

	b.signIn(grace)
	b.at("/account/login/")
	b.mustShow("main", "We are calling your phone right now, please enter the digits you hear.")
	b.mustShow("main", "Sent to "+phoneMasked)
	if n := len(peer.Calls()); n != 2 {
		t.Fatalf("%d calls, want the set-up call and the sign-in's", n)
	}
	heard, err := peer.CallDigits(phoneNumber)
	if err != nil {
		t.Fatalf("the sign-in call: %v", err)
	}
	tr, _ := peer.Transcript(phoneNumber)
	if len(tr.Fetches) != 2 || tr.Fetches[0].Status != 200 || tr.Fetches[1].Status != 200 ||
		!strings.HasPrefix(tr.Fetches[0].URL, s.URL("/twilio/inbound/two_factor/")) {
		t.Fatalf("the peer's fetches %+v", tr.Fetches)
	}
	for _, f := range tr.Fetches {
		if strings.Contains(f.URL, heard) {
			t.Fatalf("the code is in the call's URL %s", f.URL)
		}
	}
	b.enterCode(heard, false)
	b.at("/account/two_factor/")
	b.mustShow("header", "Signed in as grace")
	b.mustShow("main", "Primary method: Call number "+phoneMasked)
}

// TestSignInWithEmail signs in with a code sent by email: the account's
// email device is offered at the code step, choosing it mails a code,
// which the test reads from the SMTP peer and types.
func TestSignInWithEmail(t *testing.T) {
	t.Parallel()
	mail := smtptest.New(t)
	s := newSite(t, func(cfg *config.Config) {
		cfg.Email.SMTPURL = mail.URL()
		cfg.Email.From = "twofactor@example.com"
		cfg.Email.Cooldown = 0 // the set-up mail is moments before the sign-in's
	})
	ctx := context.Background()
	u, err := s.app.Service.Builtin().Create(ctx, twofactor.NewUser{Username: "bouke", Password: password, Email: "bouke@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	bouke := (&account{s: s, user: u, name: "bouke"}).withTOTP()
	op := twofactor.OperatorActor(u.ID)
	d, err := s.app.Service.AddEmail(ctx, op, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.Service.ConfirmDevice(ctx, op, d.ID, mailCode(t, mail, "bouke@example.com")); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, s)

	b.signIn(bouke)
	b.at("/account/login/")
	b.mustShow("main", "Please enter the token generated by your token generator.")
	b.mustShow(".others", "Send email to b***e@example.com")
	sent := len(mail.Messages())
	b.submit(".others button")
	b.at("/account/login/")
	b.mustShow("main", "We sent you an email, please enter the token we sent.")
	b.mustShow("main", "Sent to b***e@example.com")
	if len(mail.Messages()) != sent+1 {
		t.Fatalf("%d emails sent on choosing the device, want 1", len(mail.Messages())-sent)
	}
	b.enterCode(mailCode(t, mail, "bouke@example.com"), false)
	b.at("/account/two_factor/")
	b.mustShow("header", "Signed in as bouke")
	if sess := bouke.events(); len(sess) == 0 || !bouke.hasEvent(twofactor.EventUserVerified, "") {
		t.Fatalf("no user_verified event: %+v", sess)
	}
}
