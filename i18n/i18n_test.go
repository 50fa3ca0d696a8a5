package i18n

import (
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"golang.org/x/text/language"
)

// testCatalog is English plus a partial German and an Arabic catalog.
func testCatalog(t *testing.T) *Catalog {
	t.Helper()
	c, err := Load(fstest.MapFS{
		"en.json": {Data: []byte(`{
			"Sign in": "Sign in",
			"Cancel": "Cancel",
			"You have %d backup tokens remaining.": {"one": "You have only one backup token remaining.", "other": "You have %d backup tokens remaining."},
			"Hello %s": "Hello %s"
		}`)},
		"de.json": {Data: []byte(`{
			"Sign in": "Anmelden",
			"You have %d backup tokens remaining.": {"one": "Sie haben nur noch einen Backup-Code.", "other": "Sie haben noch %d Backup-Codes."}
		}`)},
		"ar.json":    {Data: []byte(`{"Sign in": "تسجيل الدخول"}`)},
		"README.txt": {Data: []byte("not a catalog")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTranslate(t *testing.T) {
	c := testCatalog(t)
	de := c.Localizer(language.German)
	en := c.Localizer(English)
	tests := []struct {
		l    *Localizer
		id   string
		args []any
		want string
	}{
		{en, "Sign in", nil, "Sign in"},
		{de, "Sign in", nil, "Anmelden"},
		// Missing in German: English, never empty.
		{de, "Cancel", nil, "Cancel"},
		{de, "Hello %s", []any{"Bob"}, "Hello Bob"},
		// CLDR plurals, in German and in English.
		{de, "You have %d backup tokens remaining.", []any{1}, "Sie haben nur noch einen Backup-Code."},
		{de, "You have %d backup tokens remaining.", []any{3}, "Sie haben noch 3 Backup-Codes."},
		{en, "You have %d backup tokens remaining.", []any{1}, "You have only one backup token remaining."},
		{en, "You have %d backup tokens remaining.", []any{0}, "You have 0 backup tokens remaining."},
		{en, "You have %d backup tokens remaining.", []any{7}, "You have 7 backup tokens remaining."},
		// An id in no catalog is formatted as it is.
		{de, "Not in any catalog %d", []any{5}, "Not in any catalog 5"},
		{en, "Plain", nil, "Plain"},
	}
	for _, tt := range tests {
		if got := tt.l.T(tt.id, tt.args...); got != tt.want {
			t.Errorf("%s: T(%q, %v) = %q, want %q", tt.l.Lang(), tt.id, tt.args, got, tt.want)
		}
	}
	if !c.Translated(language.German, "Sign in") || c.Translated(language.German, "Cancel") {
		t.Error("Translated is wrong")
	}
	if got := c.Localizer(language.Arabic).T("Cancel"); got != "Cancel" {
		t.Errorf("Arabic fallback = %q", got)
	}
}

func TestMissingTranslationFallsBackToEnglish(t *testing.T) {
	c := testCatalog(t)
	for _, tag := range c.Languages() {
		l := c.Localizer(tag)
		for _, id := range c.IDs() {
			var arg any = 2
			if strings.Contains(id, "%s") {
				arg = "x"
			}
			got := l.T(id, arg)
			if got == "" || strings.Contains(got, "%!") {
				t.Errorf("%s: T(%q) = %q", tag, id, got)
			}
			if !c.Translated(tag, id) && got != c.Localizer(English).T(id, arg) {
				t.Errorf("%s: untranslated %q = %q, want the English text", tag, id, got)
			}
		}
	}
}

func TestMatch(t *testing.T) {
	c := testCatalog(t)
	tests := []struct {
		prefs []string
		want  string
	}{
		{[]string{"de-DE,de;q=0.9,en;q=0.8"}, "de"},
		{[]string{"de-AT"}, "de"},
		{[]string{"fr-FR,fr;q=0.9"}, "en"},
		{[]string{"fr, de;q=0.5"}, "de"},
		{[]string{"ar-EG"}, "ar"},
		{[]string{"", "de"}, "de"},
		{[]string{"!!!garbage", "ar"}, "ar"},
		{[]string{strings.Repeat("x", 5000)}, "en"},
		{[]string{strings.Repeat("de,", 2000)}, "de"},
		{nil, "en"},
		{[]string{"*"}, "en"},
	}
	for _, tt := range tests {
		if got := c.Match(tt.prefs...).String(); got != tt.want {
			t.Errorf("Match(%q) = %s, want %s", tt.prefs, got, tt.want)
		}
	}
	if got := c.Localizer(language.MustParse("de-CH")).Lang(); got != "de" {
		t.Errorf("Localizer(de-CH) = %s", got)
	}
	if got := c.Localizer(language.Japanese).Lang(); got != "en" {
		t.Errorf("Localizer(ja) = %s", got)
	}
	if l := c.Languages(); len(l) != 3 || l[0] != English {
		t.Errorf("Languages = %v, want English first", l)
	}
}

func TestDir(t *testing.T) {
	for _, s := range Seed {
		tag := language.MustParse(s)
		want := "ltr"
		if s == "ar" || s == "fa" || s == "he" {
			want = "rtl"
		}
		if got := Dir(tag); got != want {
			t.Errorf("Dir(%s) = %s, want %s", s, got, want)
		}
		if Name(tag) == s {
			t.Errorf("Name(%s) is not known", s)
		}
	}
	if Dir(language.MustParse("he-IL")) != "rtl" || Dir(English) != "ltr" {
		t.Error("Dir with regions")
	}
	if c := testCatalog(t); c.Localizer(language.Arabic).Dir() != "rtl" {
		t.Error("Arabic localizer is not rtl")
	}
}

func TestLoadErrors(t *testing.T) {
	en := &fstest.MapFile{Data: []byte(`{"Hello %s": "Hello %s"}`)}
	tests := []struct {
		name string
		fs   fstest.MapFS
		want string
	}{
		{"no English", fstest.MapFS{"de.json": {Data: []byte(`{}`)}}, "no English catalog"},
		{"bad name", fstest.MapFS{"en.json": en, "xx_not!a-tag.json": {Data: []byte(`{}`)}}, "not a language tag"},
		{"not JSON", fstest.MapFS{"en.json": {Data: []byte(`[1,2]`)}}, "not a JSON object"},
		{"wrong type", fstest.MapFS{"en.json": {Data: []byte(`{"a": 5}`)}}, "neither a string"},
		{"verb lost", fstest.MapFS{"en.json": en, "de.json": {Data: []byte(`{"Hello %s": "Hallo"}`)}}, "verbs"},
		{"verb changed", fstest.MapFS{"en.json": en, "de.json": {Data: []byte(`{"Hello %s": "Hallo %d"}`)}}, "verb %d"},
		{"no other", fstest.MapFS{"en.json": {Data: []byte(`{"%d x": {"one": "one x"}}`)}}, `"other" is missing`},
		{"bad form", fstest.MapFS{"en.json": {Data: []byte(`{"%d x": {"several": "x", "other": "%d x"}}`)}}, "unknown plural form"},
		{"form not in language", fstest.MapFS{"en.json": en, "ja.json": {Data: []byte(`{"%d x": {"one": "x", "other": "%d x"}}`)}}, "not supported"},
		{"empty id", fstest.MapFS{"en.json": {Data: []byte(`{"": "x"}`)}}, "empty message id"},
	}
	for _, tt := range tests {
		_, err := Load(tt.fs)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Load = %v, want an error with %q", tt.name, err, tt.want)
		}
	}
	// Exact-value forms and %% are fine.
	if _, err := Load(fstest.MapFS{"en.json": {Data: []byte(`{"%d%% done": {"=0": "not started", "one": "%d%% done", "other": "%d%% done"}}`)}}); err != nil {
		t.Errorf("valid catalog refused: %v", err)
	}
}

func TestEmbedded(t *testing.T) {
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if c.Languages()[0] != English || len(c.IDs()) < 100 {
		t.Fatalf("embedded catalog: %v, %d ids", c.Languages(), len(c.IDs()))
	}
	l := c.Localizer(English)
	if got := l.T("Verification temporarily disabled because of %d failed attempts, please try again soon.", 1); got !=
		"Verification temporarily disabled because of 1 failed attempt, please try again soon." {
		t.Errorf("throttle message for 1: %q", got)
	}
	for _, n := range []int{3, 5} {
		if got := l.T("Don't ask again on this device for %d days", n); got != "Don't ask again on this device for "+string(rune('0'+n))+" days" {
			t.Errorf("remember label: %q", got)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	c := testCatalog(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := c.Localizer(c.Languages()[i%3])
			for n := range 200 {
				if l.T("You have %d backup tokens remaining.", n) == "" {
					t.Error("empty translation")
				}
			}
		}()
	}
	wg.Wait()
}
