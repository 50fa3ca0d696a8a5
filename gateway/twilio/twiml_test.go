package twilio_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/twilio/twilio-go/twiml"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/gateway/twilio"
)

const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>`

// The seed's script (test_gateways.py), with the Gather's action and
// method now explicit and the region of en-gb upper-cased.
func TestGreetingTwiML(t *testing.T) {
	got, err := twilio.Greeting("example.com", "en-gb", "https://example.com/twilio/inbound/two_factor/abc/")
	if err != nil {
		t.Fatal(err)
	}
	want := xmlHeader + `<Response>` +
		`<Gather action="https://example.com/twilio/inbound/two_factor/abc/" finishOnKey="" method="POST" numDigits="1" timeout="15">` +
		`<Say language="en-GB">Hi, this is example.com calling. Press any key to continue.</Say>` +
		`</Gather>` +
		`<Say language="en-GB">You didn’t press any keys. Good bye.</Say>` +
		`</Response>`
	if string(got) != want {
		t.Fatalf("Greeting:\n got %s\nwant %s", got, want)
	}
}

func TestGreetingWithoutAction(t *testing.T) {
	got, err := twilio.Greeting("example.com", "en", "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(got), "action=") {
		t.Fatalf("an empty gather URL gave an action: %s", got)
	}
	if _, err := twilio.Greeting("x", "en", "https://x/\r\n"); err == nil {
		t.Error("a gather URL with a line break was accepted")
	}
}

func TestDigitsTwiML(t *testing.T) {
	got, err := twilio.Digits("123456", "en")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(xmlHeader + `<Response><Say language="en">Your token is:</Say><Pause/>`)
	for _, d := range "123456" {
		fmt.Fprintf(&b, `<Say language="en">%c</Say><Pause/>`, d)
	}
	b.WriteString(`<Say language="en">Repeat:</Say><Pause/>`)
	for _, d := range "123456" {
		fmt.Fprintf(&b, `<Say language="en">%c</Say><Pause/>`, d)
	}
	b.WriteString(`<Say language="en">Good bye.</Say></Response>`)
	if string(got) != b.String() {
		t.Fatalf("Digits:\n got %s\nwant %s", got, b.String())
	}
}

// Leading zeros are read out (the seed dropped them: "054321" was read as
// 5 4 3 2 1).
func TestDigitsKeepLeadingZeros(t *testing.T) {
	for _, code := range seedCodes {
		doc, err := twilio.Digits(code, "en-US")
		if err != nil {
			t.Fatal(err)
		}
		var said []string
		for _, e := range parse(t, doc).Children {
			if e.Name == "Say" && len(e.Text) == 1 {
				said = append(said, e.Text)
			}
		}
		if got := strings.Join(said, ""); got != code+code {
			t.Errorf("Digits(%q) reads %q, want the code twice", code, got)
		}
	}
	for _, bad := range []string{"", "12a", "1 2", strings.Repeat("9", 17), "١٢٣"} {
		if _, err := twilio.Digits(bad, "en"); err == nil {
			t.Errorf("Digits(%q) succeeded", bad)
		}
	}
}

// Site names are escaped, not interpreted.
func TestTwiMLEscapes(t *testing.T) {
	doc, err := twilio.Greeting(`<Play>evil</Play> & "co"`, "en", `https://x.example/a?b=1&c="2"`)
	if err != nil {
		t.Fatal(err)
	}
	root := parse(t, doc)
	g := root.Children[0]
	if g.Attr["action"] != `https://x.example/a?b=1&c="2"` {
		t.Errorf("action = %q", g.Attr["action"])
	}
	if want := `Hi, this is <Play>evil</Play> & "co" calling. Press any key to continue.`; g.Children[0].Text != want {
		t.Errorf("said %q", g.Children[0].Text)
	}
	if len(root.Children) != 2 || len(g.Children) != 1 {
		t.Errorf("the site name added elements: %s", doc)
	}
}

// Our writer says what twilio-go's own twiml.Voice says, in a fixed
// attribute order and with finishOnKey="" kept.
func TestTwiMLMatchesTwilioGo(t *testing.T) {
	ours, err := twilio.Greeting("example.com", "de", "https://x.example/g")
	if err != nil {
		t.Fatal(err)
	}
	lib, err := twiml.Voice([]twiml.Element{
		twiml.VoiceGather{Action: "https://x.example/g", Method: "POST", Timeout: "15", NumDigits: "1",
			InnerElements: []twiml.Element{twiml.VoiceSay{Message: "Hi, this is example.com calling. Press any key to continue.", Language: "en"}}},
		twiml.VoiceSay{Message: "You didn’t press any keys. Good bye.", Language: "en"},
	})
	if err != nil {
		t.Fatal(err)
	}
	a, b := parse(t, ours), parse(t, []byte(lib))
	if a.Children[0].Attr["finishOnKey"] != "" {
		t.Fatal("finishOnKey is not empty")
	}
	delete(a.Children[0].Attr, "finishOnKey")
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("ours %s\n lib %s", ours, lib)
	}
	for range 20 {
		again, _ := twilio.Greeting("example.com", "de", "https://x.example/g")
		if string(again) != string(ours) {
			t.Fatal("the output changes between runs")
		}
	}
}

func TestVoiceLanguage(t *testing.T) {
	tests := map[string]string{
		// The seed's cases: en-gb is spoken, fy-nl and ar fall back (the
		// seed failed with an error for ar).
		"en-gb": "en-GB",
		"fy-nl": "en",
		"ar":    "en",

		"":                       "en",
		"en":                     "en",
		"en-US":                  "en-US",
		"en-us":                  "en-US",
		"en_GB":                  "en-GB",
		"en-AU":                  "en-AU",
		"en-NZ":                  "en",
		"de":                     "de-DE",
		"de-CH":                  "de-DE",
		"nl":                     "nl-NL",
		"nl-BE":                  "nl-NL",
		"pt-BR":                  "pt-BR",
		"pt-PT":                  "pt-PT",
		"pt":                     "pt-BR",
		"zh-Hans":                "zh-CN",
		"zh-Hant":                "zh-TW",
		"zh-Hant-HK":             "zh-HK",
		"zh-TW":                  "zh-TW",
		"zh":                     "zh-CN",
		"ja":                     "ja-JP",
		"nb":                     "nb-NO",
		"no":                     "nb-NO",
		"sv":                     "sv-SE",
		"fr":                     "fr-FR",
		"fr-CA":                  "fr-CA",
		"fr-BE":                  "fr-FR",
		"es":                     "es-ES",
		"es-MX":                  "es-MX",
		"it":                     "it-IT",
		"da":                     "da-DK",
		"fi":                     "fi-FI",
		"pl":                     "pl-PL",
		"ru":                     "ru-RU",
		"ca":                     "ca-ES",
		"ko":                     "ko-KR",
		"fa":                     "en",
		"he":                     "en",
		"tr":                     "en",
		"vi":                     "en",
		"cs":                     "en",
		"sr-Latn":                "en",
		"not a tag":              "en",
		"x":                      "en",
		strings.Repeat("a", 100): "en",
	}
	allowed := twilio.VoiceLanguages()
	for in, want := range tests {
		got := twilio.VoiceLanguage(in)
		if got != want {
			t.Errorf("VoiceLanguage(%q) = %q, want %q", in, got, want)
		}
		if !slices.Contains(allowed, got) {
			t.Errorf("VoiceLanguage(%q) = %q is not allowed", in, got)
		}
	}
	// Every language of the seed's catalogs gets a voice (never an error).
	for _, lang := range []string{"ar", "ca", "cs", "da", "de", "es", "fa", "fi", "fr", "he", "hi", "hu", "it", "ja", "lt",
		"nb", "nl", "pl", "pt-BR", "ro", "ru", "sr", "sv", "tr", "vi", "zh-Hans"} {
		if v := twilio.VoiceLanguage(lang); !slices.Contains(allowed, v) {
			t.Errorf("%s → %q", lang, v)
		}
	}
}

// german is a stand-in catalog with some of the messages translated.
func german(lang, id string, args ...any) string {
	if !strings.HasPrefix(lang, "de") {
		return fmt.Sprintf(id, args...)
	}
	de := map[string]string{
		twilio.MsgSMS:      "Ihr Bestätigungscode für %[1]s ist %[2]s",
		twilio.MsgGreeting: "Hallo, hier ist %s. Drücken Sie eine Taste.",
		twilio.MsgNoKey:    "Sie haben keine Taste gedrückt. Auf Wiederhören.",
		twilio.MsgYourCode: "Ihr Code lautet:",
		twilio.MsgRepeat:   "Noch einmal:",
		twilio.MsgGoodbye:  "Auf Wiederhören.",
	}
	if t, ok := de[id]; ok {
		return fmt.Sprintf(t, args...)
	}
	return fmt.Sprintf(id, args...)
}

func TestTranslation(t *testing.T) {
	s := twilio.Script{Translate: german}
	if got, want := s.SMS("example.com", "012345", "de-AT"), "Ihr Bestätigungscode für example.com ist 012345"; got != want {
		t.Errorf("SMS = %q, want %q", got, want)
	}
	if got := s.SMS("example.com", "012345", "fr"); got != "Your example.com verification code is 012345" {
		t.Errorf("SMS(fr) = %q", got)
	}
	doc, _ := s.Greeting("example.com", "de", "")
	root := parse(t, doc)
	if say := root.Children[0].Children[0]; say.Text != "Hallo, hier ist example.com. Drücken Sie eine Taste." || say.Attr["language"] != "de-DE" {
		t.Errorf("greeting %s", doc)
	}
	doc, _ = s.Digits("42", "de")
	if root := parse(t, doc); root.Children[0].Text != "Ihr Code lautet:" || root.Children[0].Attr["language"] != "de-DE" {
		t.Errorf("digits %s", doc)
	}
	// Without a translation the words are English, and so is the voice.
	for _, lang := range []string{"fr", "ar"} {
		doc, _ = s.Greeting("example.com", lang, "")
		if say := parse(t, doc).Children[0].Children[0]; !strings.HasPrefix(say.Text, "Hi, this is") || say.Attr["language"] != "en" {
			t.Errorf("%s: %s", lang, doc)
		}
	}
	doc, _ = twilio.Greeting("example.com", "de", "")
	if say := parse(t, doc).Children[0].Children[0]; say.Attr["language"] != "en" {
		t.Errorf("English words with a %q voice: %s", say.Attr["language"], doc)
	}
}

// A translation that loses the code, or says nothing, is not used.
func TestBrokenTranslation(t *testing.T) {
	s := twilio.Script{Translate: func(lang, id string, args ...any) string {
		if id == twilio.MsgSMS {
			return "Ihr Code"
		}
		return " "
	}}
	if got := s.SMS("example.com", "123456", "de"); got != "Your example.com verification code is 123456" {
		t.Errorf("SMS = %q", got)
	}
	doc, _ := s.Greeting("example.com", "de", "")
	if say := parse(t, doc).Children[0].Children[0]; !strings.HasPrefix(say.Text, "Hi") || say.Attr["language"] != "en" {
		t.Errorf("greeting %s", doc)
	}
}

func TestGatewayTranslates(t *testing.T) {
	g, tw, app := setup(t, func(c *twilio.Config) { c.Translate = german })
	if err := g.SendSMS(context.Background(), twofactor.Message{To: alice, Code: "000123", Site: site, Language: "de"}); err != nil {
		t.Fatal(err)
	}
	if m, _ := tw.LastMessage(alice); m.Body != "Ihr Bestätigungscode für example.com ist 000123" {
		t.Errorf("Body = %q", m.Body)
	}
	app.add("de1", "000123", site, "de")
	if err := g.Call(context.Background(), twofactor.Message{To: bob, Code: "000123", Site: site, Language: "de", CallID: "de1"}); err != nil {
		t.Fatal(err)
	}
	tr, err := tw.Transcript(bob)
	if err != nil || tr.Err != nil {
		t.Fatal(err, tr.Err)
	}
	if d, _ := tr.Digits(); d != "000123" {
		t.Errorf("digits %q", d)
	}
	if tr.Said[0].Language != "de-DE" || !strings.HasPrefix(tr.Said[0].Text, "Hallo") {
		t.Errorf("said %+v", tr.Said[0])
	}
	if g.Script().Translate == nil {
		t.Error("Script() lost the translator")
	}
}

func TestMessages(t *testing.T) {
	ids := twilio.Messages()
	if len(ids) != 6 || ids[0] != twilio.MsgSMS {
		t.Fatalf("Messages() = %q", ids)
	}
}

// element is a parsed TwiML element.
type element struct {
	Name     string
	Attr     map[string]string
	Text     string
	Children []*element
}

func parse(t *testing.T, doc []byte) *element {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(string(doc)))
	var stack []*element
	var root *element
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("TwiML does not parse: %v\n%s", err, doc)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			e := &element{Name: tk.Name.Local, Attr: map[string]string{}}
			for _, a := range tk.Attr {
				e.Attr[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, e)
			} else {
				root = e
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(tk)
			}
		}
	}
	if root == nil || root.Name != "Response" {
		t.Fatalf("no <Response>: %s", doc)
	}
	return root
}

func FuzzScripts(f *testing.F) {
	f.Add("example.com", "en-gb", "https://example.com/g", "054321")
	f.Add("<a>&", "zh-Hant-HK", "", "0")
	f.Add("\x00\xff", "\xff", "https://x/\"", "12345678")
	f.Fuzz(func(t *testing.T, site, lang, gather, code string) {
		v := twilio.VoiceLanguage(lang)
		if !slices.Contains(twilio.VoiceLanguages(), v) {
			t.Fatalf("VoiceLanguage(%q) = %q", lang, v)
		}
		if doc, err := twilio.Greeting(site, lang, gather); err == nil {
			if err := xml.Unmarshal(doc, new(struct{})); err != nil {
				t.Fatalf("Greeting is not XML: %v\n%s", err, doc)
			}
		}
		doc, err := twilio.Digits(code, lang)
		if err != nil {
			return
		}
		if err := xml.Unmarshal(doc, new(struct{})); err != nil {
			t.Fatalf("Digits is not XML: %v", err)
		}
		if n := strings.Count(string(doc), "<Say"); n != 2*len(code)+3 {
			t.Fatalf("Digits(%q) has %d Says", code, n)
		}
	})
}
