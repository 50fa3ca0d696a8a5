package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

//go:embed locales/*.json
var embedded embed.FS

// English is the language of the message ids and the fallback of every
// other language.
var English = language.English

// Seed lists the languages the seed (django-two-factor-auth) shipped, as
// BCP 47 tags. [Name] and [Dir] know them all; each becomes available as
// soon as its catalog file exists.
var Seed = []string{"ar", "ca", "cs", "da", "de", "es", "fa", "fi", "fr", "he", "hi", "hu", "it", "ja", "lt",
	"nb", "nl", "pl", "pt-BR", "ro", "ru", "sr", "sv", "tr", "vi", "zh-Hans"}

// names are the languages' own names, for the language switcher.
var names = map[string]string{
	"en": "English", "ar": "العربية", "ca": "català", "cs": "čeština", "da": "dansk", "de": "Deutsch",
	"es": "español", "fa": "فارسی", "fi": "suomi", "fr": "français", "he": "עברית", "hi": "हिन्दी",
	"hu": "magyar", "it": "italiano", "ja": "日本語", "lt": "lietuvių", "nb": "norsk bokmål", "nl": "Nederlands",
	"pl": "polski", "pt-BR": "português (Brasil)", "ro": "română", "ru": "русский", "sr": "српски",
	"sv": "svenska", "tr": "Türkçe", "vi": "Tiếng Việt", "zh-Hans": "简体中文",
}

// Name returns the language's name in that language ("Deutsch"), or its
// tag when it is not known.
func Name(tag language.Tag) string {
	if n, ok := names[tag.String()]; ok {
		return n
	}
	return tag.String()
}

// rtl are the base languages written right to left.
var rtl = map[string]bool{"ar": true, "fa": true, "he": true, "ur": true, "ps": true, "yi": true, "dv": true, "ckb": true}

// Dir returns the text direction of a language: "rtl" for Arabic, Persian,
// Hebrew (and the other right-to-left scripts), else "ltr".
func Dir(tag language.Tag) string {
	base, _ := tag.Base()
	if rtl[base.String()] {
		return "rtl"
	}
	return "ltr"
}

// Catalog holds the translations of every language. It is safe for
// concurrent use.
type Catalog struct {
	builder  *catalog.Builder
	tags     []language.Tag // English first
	has      map[language.Tag]map[string]bool
	matcher  language.Matcher
	printers map[language.Tag]*message.Printer
}

var (
	embeddedOnce sync.Once
	embeddedCat  *Catalog
	embeddedErr  error
)

// Embedded returns the catalog built into the program (locales/*.json),
// loaded once.
func Embedded() (*Catalog, error) {
	embeddedOnce.Do(func() {
		sub, err := fs.Sub(embedded, "locales")
		if err != nil {
			embeddedErr = fmt.Errorf("i18n: embedded catalogs: %w", err)
			return
		}
		embeddedCat, embeddedErr = Load(sub)
	})
	return embeddedCat, embeddedErr
}

// Load reads every "<tag>.json" file at the root of fsys. "en.json" is
// required. A file whose name is not a language tag, whose JSON is not a
// catalog, or with a translation that does not fit its id is an error
// naming the file and the message.
func Load(fsys fs.FS) (*Catalog, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("i18n: read catalogs: %w", err)
	}
	c := &Catalog{
		builder:  catalog.NewBuilder(catalog.Fallback(English)),
		has:      map[language.Tag]map[string]bool{},
		printers: map[language.Tag]*message.Printer{},
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || path.Ext(name) != ".json" {
			continue
		}
		tag, err := language.Parse(strings.TrimSuffix(name, ".json"))
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: the file name is not a language tag: %w", name, err)
		}
		if _, dup := c.has[tag]; dup {
			return nil, fmt.Errorf("i18n: %s: a second catalog for %s", name, tag)
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("i18n: read %s: %w", name, err)
		}
		if err := c.add(tag, data); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
	}
	if _, ok := c.has[English]; !ok {
		return nil, fmt.Errorf("i18n: no English catalog (en.json)")
	}
	c.tags = append(c.tags, English)
	var others []language.Tag
	for t := range c.has {
		if t != English {
			others = append(others, t)
		}
	}
	sort.Slice(others, func(i, j int) bool { return others[i].String() < others[j].String() })
	c.tags = append(c.tags, others...)
	c.matcher = language.NewMatcher(c.tags)
	for _, t := range c.tags {
		c.printers[t] = message.NewPrinter(t, message.Catalog(c.builder))
	}
	return c, nil
}

// pluralForms are the selectors a plural message may use, in the order
// they are tried (exact values come first).
var pluralForms = []string{"zero", "one", "two", "few", "many", "other"}

// add compiles one catalog file.
func (c *Catalog) add(tag language.Tag, data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("not a JSON object of messages: %w", err)
	}
	ids := map[string]bool{}
	for id, v := range raw {
		if id == "" {
			return fmt.Errorf("an empty message id")
		}
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			if err := sameVerbs(id, s, true); err != nil {
				return fmt.Errorf("message %q: %w", id, err)
			}
			if err := c.builder.SetString(tag, id, s); err != nil {
				return fmt.Errorf("message %q: %w", id, err)
			}
			ids[id] = true
			continue
		}
		var forms map[string]string
		if err := json.Unmarshal(v, &forms); err != nil {
			return fmt.Errorf("message %q: the translation is neither a string nor an object of plural forms", id)
		}
		if _, ok := forms["other"]; !ok {
			return fmt.Errorf("message %q: the plural form \"other\" is missing", id)
		}
		var cases []any
		var exact []string
		for sel := range forms {
			if strings.HasPrefix(sel, "=") {
				exact = append(exact, sel)
			} else if !slices.Contains(pluralForms, sel) {
				return fmt.Errorf("message %q: unknown plural form %q", id, sel)
			}
		}
		sort.Strings(exact)
		for _, sel := range append(exact, pluralForms...) {
			s, ok := forms[sel]
			if !ok {
				continue
			}
			if err := sameVerbs(id, s, false); err != nil {
				return fmt.Errorf("message %q, form %q: %w", id, sel, err)
			}
			cases = append(cases, sel, s)
		}
		if err := c.builder.Set(tag, id, plural.Selectf(1, "%d", cases...)); err != nil {
			return fmt.Errorf("message %q: %w", id, err)
		}
		ids[id] = true
	}
	c.has[tag] = ids
	return nil
}

// verbRE matches a printf verb (or the %% escape).
var verbRE = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

// sameVerbs checks that a translation uses the verbs of its id: all of them
// when all is set, else a subset (a plural form may leave the number out).
func sameVerbs(id, tr string, all bool) error {
	want := verbs(id)
	got := verbs(tr)
	for _, v := range got {
		if !slices.Contains(want, v) {
			return fmt.Errorf("the translation has the verb %s, which the id does not", v)
		}
	}
	if all && len(got) != len(want) {
		return fmt.Errorf("the translation has %d verbs, the id %d", len(got), len(want))
	}
	return nil
}

func verbs(s string) []string {
	var out []string
	for _, v := range verbRE.FindAllString(s, -1) {
		if v != "%%" {
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

// Languages returns the languages with a catalog, English first.
func (c *Catalog) Languages() []language.Tag { return slices.Clone(c.tags) }

// Has reports whether id is in the English catalog, which lists every
// message of the program.
func (c *Catalog) Has(id string) bool { return c.has[English][id] }

// IDs returns every message id of the English catalog, sorted.
func (c *Catalog) IDs() []string {
	out := make([]string, 0, len(c.has[English]))
	for id := range c.has[English] {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Translated reports whether the language's own catalog has id (rather
// than falling back to English).
func (c *Catalog) Translated(tag language.Tag, id string) bool { return c.has[tag][id] }

// maxPref bounds the preference strings Match parses (an Accept-Language
// header may be long; only its start matters).
const maxPref = 1024

// Match returns the catalog language that best fits the preferences, tried
// in order: each is a language tag or an Accept-Language header value.
// Empty, malformed and unknown preferences are skipped; English is the
// answer when nothing fits.
func (c *Catalog) Match(prefs ...string) language.Tag {
	for _, p := range prefs {
		if p == "" {
			continue
		}
		if len(p) > maxPref {
			p = p[:maxPref]
			if i := strings.LastIndexByte(p, ','); i > 0 {
				p = p[:i]
			}
		}
		desired, _, err := language.ParseAcceptLanguage(p)
		if err != nil || len(desired) == 0 {
			continue
		}
		if _, i, conf := c.matcher.Match(desired...); conf != language.No && i >= 0 && i < len(c.tags) {
			return c.tags[i]
		}
	}
	return English
}

// Localizer returns the localizer of a language of the catalog; any other
// tag gets the closest catalog language (English when none is close).
func (c *Catalog) Localizer(tag language.Tag) *Localizer {
	if _, ok := c.printers[tag]; !ok {
		tag = c.Match(tag.String())
	}
	return &Localizer{c: c, tag: tag, p: c.printers[tag], en: c.printers[English]}
}

// Localizer translates messages into one language. It is safe for
// concurrent use.
type Localizer struct {
	c     *Catalog
	tag   language.Tag
	p, en *message.Printer
}

// T returns the translation of the message id formatted with args, as
// fmt.Sprintf would (numbers in the language's notation). A message the
// language lacks is the English one; an id that is in no catalog is
// formatted as it is.
func (l *Localizer) T(id string, args ...any) string {
	if l.c.has[l.tag][id] {
		return l.p.Sprintf(id, args...)
	}
	return l.en.Sprintf(id, args...)
}

// Tag returns the language.
func (l *Localizer) Tag() language.Tag { return l.tag }

// Lang returns the language as a BCP 47 tag, for the lang attribute.
func (l *Localizer) Lang() string { return l.tag.String() }

// Dir returns "rtl" or "ltr", for the dir attribute.
func (l *Localizer) Dir() string { return Dir(l.tag) }

// Name returns the language's own name.
func (l *Localizer) Name() string { return Name(l.tag) }
