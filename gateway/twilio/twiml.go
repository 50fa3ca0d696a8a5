package twilio

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/twilio/twilio-go/twiml"

	"github.com/twofactor/twofactor/phone"
)

// ContentType is the content type of the TwiML documents.
const ContentType = "text/xml; charset=utf-8"

// The English wording of everything this package says, kept in one place.
// They are the message ids a Translator looks up (printf formats, as in
// the i18n catalogs); a translation must keep their verbs.
const (
	// MsgSMS is the text message: the site name and the code.
	MsgSMS = "Your %[1]s verification code is %[2]s"
	// MsgGreeting opens a call with the site name.
	MsgGreeting = "Hi, this is %s calling. Press any key to continue."
	// MsgNoKey ends a call in which no key was pressed.
	MsgNoKey = "You didn’t press any keys. Good bye."
	// MsgYourCode introduces the digits.
	MsgYourCode = "Your token is:"
	// MsgRepeat introduces the digits a second time.
	MsgRepeat = "Repeat:"
	// MsgGoodbye ends the call.
	MsgGoodbye = "Good bye."
)

// Messages lists the message ids, for catalogs and their tests.
func Messages() []string {
	return []string{MsgSMS, MsgGreeting, MsgNoKey, MsgYourCode, MsgRepeat, MsgGoodbye}
}

// Translator formats the message id in the language lang (a BCP 47 tag)
// with args, as fmt.Sprintf would for the English id. It returns the
// English text for a language it does not know. An i18n.Localizer's T
// method fits: func(lang, id string, args ...any) string { return
// catalog.Localizer(catalog.Match(lang)).T(id, args...) }.
type Translator func(lang, id string, args ...any) string

// Script builds the TwiML of a verification call in the wording of a
// Translator. The zero value speaks English.
type Script struct {
	// Translate words the scripts; nil means English.
	Translate Translator
}

// Greeting returns the TwiML that answers a call, worded in English (the
// voice may still be another language's): see Script.Greeting.
func Greeting(site, lang, gatherURL string) ([]byte, error) {
	return Script{}.Greeting(site, lang, gatherURL)
}

// Digits returns the TwiML that reads a code out, worded in English: see
// Script.Digits.
func Digits(code, lang string) ([]byte, error) {
	return Script{}.Digits(code, lang)
}

// Voice returns the language the script's voice speaks for a user of
// language lang: VoiceLanguage(lang) when the words are in that language,
// else English. Without a Translator, or when it has no translation of the
// greeting for that language, the words are English and so is the voice:
// a German voice reading English words would be unintelligible.
func (s Script) Voice(lang string) string {
	v := VoiceLanguage(lang)
	if strings.HasPrefix(v, "en") {
		return v
	}
	if s.Translate == nil {
		return "en"
	}
	const probe = "\x00"
	if t := s.Translate(v, MsgGreeting, probe); strings.TrimSpace(t) == "" || t == fmt.Sprintf(MsgGreeting, probe) {
		return "en"
	}
	return v
}

// text returns the message in the voice language; English for English or
// when there is no translator or it returns nothing.
func (s Script) text(voice, id string, args ...any) string {
	if s.Translate != nil && !strings.HasPrefix(voice, "en") {
		if t := s.Translate(voice, id, args...); strings.TrimSpace(t) != "" {
			return t
		}
	}
	return fmt.Sprintf(id, args...)
}

// SMS returns the body of the text message for the code, in the language
// lang. A translation that would lose the code is replaced by English.
func (s Script) SMS(site, code, lang string) string {
	site = cleanSite(site)
	if s.Translate != nil && lang != "" {
		if t := s.Translate(lang, MsgSMS, site, code); strings.Contains(t, code) {
			return t
		}
	}
	return fmt.Sprintf(MsgSMS, site, code)
}

// Greeting returns the TwiML that answers the call: it says who is calling
// and waits up to 15 seconds for one key, whose press Twilio posts to
// gatherURL (the current URL when gatherURL is empty); without a key it
// says good bye. The voice speaks s.Voice(lang).
//
//	<Response>
//	  <Gather action="…" finishOnKey="" method="POST" numDigits="1" timeout="15">
//	    <Say language="L">Hi, this is {site} calling. Press any key to continue.</Say>
//	  </Gather>
//	  <Say language="L">You didn’t press any keys. Good bye.</Say>
//	</Response>
func (s Script) Greeting(site, lang, gatherURL string) ([]byte, error) {
	if strings.ContainsAny(gatherURL, "\x00\r\n") {
		return nil, errors.New("twilio: the gather URL contains a control character")
	}
	voice := s.Voice(lang)
	return render(
		twiml.VoiceGather{
			Action:    gatherURL,
			Method:    "POST",
			Timeout:   "15",
			NumDigits: "1",
			// Any key continues, # included: finishOnKey is set and empty.
			OptionalAttributes: map[string]string{"finishOnKey": ""},
			InnerElements: []twiml.Element{
				twiml.VoiceSay{Message: s.text(voice, MsgGreeting, cleanSite(site)), Language: voice},
			},
		},
		twiml.VoiceSay{Message: s.text(voice, MsgNoKey), Language: voice},
	)
}

// Digits returns the TwiML that reads the code out after the key press:
// "Your token is:", each digit on its own (leading zeros included), then
// "Repeat:" and the digits again, then "Good bye.", with pauses between.
// The code must be 1 to 16 ASCII digits.
func (s Script) Digits(code, lang string) ([]byte, error) {
	if !isCode(code) {
		return nil, errors.New("twilio: the code must be 1 to 16 ASCII digits")
	}
	voice := s.Voice(lang)
	say := func(msg string) twiml.Element { return twiml.VoiceSay{Message: msg, Language: voice} }
	digits := phone.Digits(code)
	verbs := []twiml.Element{say(s.text(voice, MsgYourCode)), twiml.VoicePause{}}
	for _, d := range digits {
		verbs = append(verbs, say(d), twiml.VoicePause{})
	}
	verbs = append(verbs, say(s.text(voice, MsgRepeat)), twiml.VoicePause{})
	for _, d := range digits {
		verbs = append(verbs, say(d), twiml.VoicePause{})
	}
	verbs = append(verbs, say(s.text(voice, MsgGoodbye)))
	return render(verbs...)
}

// cleanSite keeps a site name to one line of printable characters, at most
// 100 of them, spaces collapsed.
func cleanSite(site string) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.TrimSpace(site) {
		if n == 100 {
			break
		}
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// render writes a TwiML document from twilio-go's verb types. twilio-go's
// own twiml.Voice writes attributes in map order (different on every run)
// and drops empty ones, so finishOnKey="" could not be said; this writer
// sorts the attributes, keeps an empty value given in OptionalAttributes,
// and closes empty elements with />.
func render(verbs ...twiml.Element) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	b.WriteString("<Response>")
	for _, v := range verbs {
		if err := writeElement(&b, v, 0); err != nil {
			return nil, err
		}
	}
	b.WriteString("</Response>")
	return b.Bytes(), nil
}

func writeElement(b *bytes.Buffer, e twiml.Element, depth int) error {
	if depth > 8 {
		return errors.New("twilio: TwiML nested too deep")
	}
	name := e.GetName()
	optional, params := e.GetAttr()
	attrs := map[string]string{}
	for k, v := range params {
		if v != "" {
			attrs[lowerFirst(k)] = v
		}
	}
	for k, v := range optional {
		attrs[lowerFirst(k)] = v
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b.WriteByte('<')
	b.WriteString(name)
	for _, k := range keys {
		b.WriteByte(' ')
		b.WriteString(k)
		b.WriteString(`="`)
		if err := xml.EscapeText(b, []byte(attrs[k])); err != nil {
			return err
		}
		b.WriteByte('"')
	}
	text, inner := e.GetText(), e.GetInnerElements()
	if text == "" && len(inner) == 0 {
		b.WriteString("/>")
		return nil
	}
	b.WriteByte('>')
	if err := xml.EscapeText(b, []byte(text)); err != nil {
		return err
	}
	for _, c := range inner {
		if err := writeElement(b, c, depth+1); err != nil {
			return err
		}
	}
	b.WriteString("</")
	b.WriteString(name)
	b.WriteByte('>')
	return nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
