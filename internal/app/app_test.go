package app

import (
	"fmt"
	"testing"

	"github.com/twofactor/twofactor/gateway/smtp"
	"github.com/twofactor/twofactor/gateway/twilio"
	"github.com/twofactor/twofactor/i18n"
)

// TestGatewayMessagesInCatalog: every sentence the gateways say — text
// messages, voice calls, emails — is in the catalog, so translators see
// it and the gateways can speak the user's language.
func TestGatewayMessagesInCatalog(t *testing.T) {
	cat, err := i18n.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range append(twilio.Messages(), smtp.Messages()...) {
		if !cat.Has(id) {
			t.Errorf("%q is not in i18n/locales/en.json", id)
		}
	}
}

// TestTranslator: the gateways' translator formats from the catalog, and
// falls back to English for an unknown or malformed language.
func TestTranslator(t *testing.T) {
	tr, err := Translator()
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(twilio.MsgSMS, "example.com", "012345")
	for _, lang := range []string{"", "en", "de", "xx-garbage!", "ar"} {
		if got := tr(lang, twilio.MsgSMS, "example.com", "012345"); got != want {
			t.Errorf("%q: %q, want %q", lang, got, want)
		}
	}
	if got := tr("en", smtp.MsgCodeSubject, "example.com"); got != "example.com verification code" {
		t.Errorf("subject %q", got)
	}
}
