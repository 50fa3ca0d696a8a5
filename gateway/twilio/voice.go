package twilio

import (
	"slices"
	"strings"

	"golang.org/x/text/language"
)

// voiceLanguages are the values of <Say language> this package uses: the
// seed's allow-list of languages Twilio's voices speak.
var voiceLanguages = []string{
	"en", "en-gb", "es", "fr", "it", "de",
	"da-DK", "de-DE", "en-AU", "en-CA", "en-GB", "en-IN", "en-US", "ca-ES", "es-ES", "es-MX",
	"fi-FI", "fr-CA", "fr-FR", "it-IT", "ja-JP", "ko-KR", "nb-NO", "nl-NL", "pl-PL", "pt-BR",
	"pt-PT", "ru-RU", "sv-SE", "zh-CN", "zh-HK", "zh-TW",
}

// byLower finds an allow-listed voice language by its lower-case form,
// preferring the spelling with an upper-case region ("en-gb" → "en-GB").
var byLower = func() map[string]string {
	m := map[string]string{}
	for _, l := range voiceLanguages {
		k := strings.ToLower(l)
		if prev, ok := m[k]; !ok || prev == k {
			m[k] = l
		}
	}
	return m
}()

// voiceByBase is the voice for a language given without a region (or with
// one Twilio has no voice for).
var voiceByBase = map[string]string{
	"en": "en",
	"ca": "ca-ES",
	"da": "da-DK",
	"de": "de-DE",
	"es": "es-ES",
	"fi": "fi-FI",
	"fr": "fr-FR",
	"it": "it-IT",
	"ja": "ja-JP",
	"ko": "ko-KR",
	"nb": "nb-NO",
	"nn": "nb-NO",
	"no": "nb-NO",
	"nl": "nl-NL",
	"pl": "pl-PL",
	"pt": "pt-BR",
	"ru": "ru-RU",
	"sv": "sv-SE",
	"zh": "zh-CN",
}

// VoiceLanguages returns the languages the voice may speak (the values
// VoiceLanguage returns).
func VoiceLanguages() []string { return slices.Clone(voiceLanguages) }

// VoiceLanguage maps a user's language (a BCP 47 tag such as "de",
// "en-GB", "pt-BR", "zh-Hans") onto a language Twilio's voices speak:
// the same language and region when Twilio has it ("en-gb" → "en-GB",
// "es-MX" → "es-MX"), else the language's main voice ("de" → "de-DE",
// "de-AT" → "de-DE", "zh-Hans" → "zh-CN", "zh-Hant" → "zh-TW",
// "nl" → "nl-NL"), else English ("en"). It never fails: a language Twilio
// cannot speak (ar, fa, he, tr, vi, fy-NL, …) or a malformed tag gets
// English.
func VoiceLanguage(lang string) string {
	if lang == "" || len(lang) > 64 {
		return "en"
	}
	tag, err := language.Parse(lang)
	if err != nil {
		return "en"
	}
	base, _ := tag.Base()
	b := base.String()
	if region, conf := tag.Region(); conf == language.Exact {
		if v, ok := byLower[strings.ToLower(b+"-"+region.String())]; ok {
			return v
		}
	}
	if b == "zh" {
		if script, conf := tag.Script(); conf == language.Exact && script.String() == "Hant" {
			return "zh-TW"
		}
	}
	if v, ok := voiceByBase[b]; ok {
		return v
	}
	return "en"
}
