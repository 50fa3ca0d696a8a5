// Package i18n is the message catalog of twofactor: every string a user
// reads — page texts, form messages, the core's public error messages —
// is looked up here by its English text, as with gettext.
//
// # Catalogs
//
// A catalog is a JSON file named after its BCP 47 tag ("de.json",
// "pt-BR.json", "zh-Hans.json") whose keys are the English message ids and
// whose values are the translations: a string, or for a message with a
// number an object of CLDR plural forms ("zero", "one", "two", "few",
// "many", "other", or "=N" for an exact value; "other" is required). The
// plural form is chosen by the first argument. Messages are printf format
// strings ("You have %d backup tokens remaining."); a translation uses the
// same verbs as its id (a plural form may leave the number out, as in
// "You have only one backup token remaining."). The English catalog
// (locales/en.json) lists every message id and is the template for
// translators: copy it, translate the values, drop the file next to it.
//
// A message missing from a language's catalog falls back to English, never
// to an empty string or an error. The seed's languages ([Seed]) have names
// and text directions already; a catalog file is all a language needs.
//
// # Why golang.org/x/text/message
//
// The English text is the message id and the fallback at once, and the
// messages stay printf format strings, which is how the core already writes
// its public error messages (the throttling message carries its count).
// Plural rules come from CLDR through golang.org/x/text/feature/plural, and
// the negotiation from Accept-Language through golang.org/x/text/language,
// one family of packages. github.com/nicksnyder/go-i18n would add a second
// template language inside messages ({{.Count}}) and needs the ids to be
// looked up with a separate default message.
//
// # What this package never does
//
// It never formats user data as a message id (ids are constants of the
// program), never returns an empty string for a missing translation, and
// never fails at request time: catalogs are checked when they are loaded
// (unknown plural forms, verbs that differ from the id's), so a bad
// translation stops start-up instead of garbling a page.
package i18n
