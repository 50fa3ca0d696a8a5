package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"go.yaml.in/yaml/v3"
)

// LoadOptions tells [Load] where to read the configuration from.
type LoadOptions struct {
	// File is the optional configuration file: TOML when the name ends in
	// .toml, YAML when it ends in .yaml or .yml. Empty means no file.
	File string
	// Env looks up an environment variable: os.LookupEnv in production, a
	// map in tests. Nil means no environment.
	Env func(name string) (value string, ok bool)
	// Flags maps key names (such as "addr" or "database_url") to the values
	// the user set explicitly on the command line. Flags left at their
	// defaults must not be in the map, or they would override the file and
	// the environment.
	Flags map[string]string
}

// Load returns the configuration made of the defaults, the file, the
// environment and the flags, each overriding the ones before (see the package
// documentation), once every value given and the combination of them are
// valid. On error it returns the zero Config and an error of one line naming
// the key, the reason and the source.
func Load(opts LoadOptions) (Config, error) {
	c := Default()
	c.sources = make(map[string]Source)

	if opts.File != "" {
		data, err := os.ReadFile(opts.File)
		if err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		entries, err := parseFile(opts.File, data)
		if err != nil {
			return Config{}, err
		}
		for _, e := range entries {
			k, ok := lookup(e.key)
			if !ok {
				return Config{}, fmt.Errorf("config: unknown key %q in %s%s", e.key, e.src, suggest(e.key))
			}
			if err := apply(&c, k, e.val, e.src); err != nil {
				return Config{}, err
			}
			c.sources[k.Name] = FromFile
		}
	}

	if opts.Env != nil {
		for _, k := range keys {
			v, ok := opts.Env(k.Env())
			if !ok {
				continue
			}
			if err := apply(&c, k, input{text: v}, k.Env()); err != nil {
				return Config{}, err
			}
			c.sources[k.Name] = FromEnv
		}
	}

	names := make([]string, 0, len(opts.Flags))
	for name := range opts.Flags {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		k, ok := lookup(name)
		if !ok {
			return Config{}, fmt.Errorf("config: unknown key %q on the command line%s", name, suggest(name))
		}
		if err := apply(&c, k, input{text: opts.Flags[name]}, "the command line"); err != nil {
			return Config{}, err
		}
		c.sources[k.Name] = FromFlag
	}

	if err := c.check(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// apply sets one key from one value, turning a failure into the error of one
// line the package promises. The value is quoted in the error unless the key
// is secret or a list (list reasons name the item themselves).
func apply(c *Config, k Key, v input, src string) error {
	err := k.codec.set(c, v)
	if err == nil {
		return nil
	}
	text := strings.TrimSpace(v.text)
	shown := ""
	switch {
	case k.List || v.isList || k.Secret:
	case text == "":
		shown = `""`
	case k.redact(text) != redactedText:
		shown = strconv.Quote(k.redact(text))
	}
	if shown == "" {
		return fmt.Errorf("config: %s: %v (from %s)", k.Name, err, src)
	}
	return fmt.Errorf("config: %s: %v (got %s from %s)", k.Name, err, shown, src)
}

// check validates what no single key can: keys that need one another.
func (c *Config) check() error {
	for _, g := range []struct {
		key, gateway string
	}{{"sms.gateway", c.SMS.Gateway}, {"call.gateway", c.Call.Gateway}} {
		if g.gateway != "twilio" {
			continue
		}
		if c.Twilio.AccountSID == "" {
			return fmt.Errorf(`config: twilio.account_sid: required when %s is "twilio"`, g.key)
		}
		if c.Twilio.AuthToken == "" {
			return fmt.Errorf(`config: twilio.auth_token: required when %s is "twilio"`, g.key)
		}
	}
	if c.Call.Gateway == "twilio" && c.Twilio.CallerID == "" {
		return errors.New(`config: twilio.caller_id: required when call.gateway is "twilio"`)
	}
	if c.SMS.Gateway == "twilio" && c.Twilio.CallerID == "" && c.Twilio.MessagingServiceSID == "" {
		return errors.New(`config: twilio.caller_id: required (or twilio.messaging_service_sid) when sms.gateway is "twilio"`)
	}
	if c.Email.SMTPURL != "" && c.Email.From == "" {
		// Without a sender the email method could not send anything.
		return errors.New("config: email.from: required when email.smtp_url is set")
	}
	if c.WebAuthn.RPName == "" {
		def := Default()
		for _, k := range keys {
			if strings.HasPrefix(k.Name, "webauthn.") && k.codec.get(c) != k.codec.get(&def) {
				return fmt.Errorf("config: webauthn.rp_name: required when %s is set (WebAuthn is enabled by webauthn.rp_name)", k.Name)
			}
		}
	}
	if c.Password.Argon2MemoryKiB < 8*uint32(c.Password.Argon2Threads) {
		return fmt.Errorf("config: password.argon2_memory_kib: must be at least 8 × password.argon2_threads (%d)", 8*uint32(c.Password.Argon2Threads))
	}
	return nil
}

// entry is one value found in a configuration file.
type entry struct {
	key string // flattened dotted key
	val input
	src string // file name, with ":LINE" when known
}

// Limits on what a configuration file may hold, far above any real file,
// so that a hostile file (such as YAML aliases expanding exponentially)
// cannot exhaust memory.
const (
	maxDepth   = 16
	maxEntries = 10_000
)

// parseFile reads a TOML or YAML file, by its name, into flattened entries.
func parseFile(name string, data []byte) ([]entry, error) {
	var (
		entries []entry
		err     error
	)
	switch strings.ToLower(filepath.Ext(name)) {
	case ".toml":
		entries, err = parseTOML(name, data)
	case ".yaml", ".yml":
		entries, err = parseYAML(name, data)
	default:
		return nil, fmt.Errorf("config: %s: unknown file type: the name must end in .toml, .yaml or .yml", name)
	}
	if err != nil {
		return nil, err
	}
	seen := make(map[string]string, len(entries))
	for _, e := range entries {
		if first, dup := seen[e.key]; dup {
			return nil, fmt.Errorf("config: %s: set twice (%s and %s)", e.key, first, e.src)
		}
		seen[e.key] = e.src
	}
	return entries, nil
}

// parseTOML flattens a TOML document.
func parseTOML(name string, data []byte) ([]entry, error) {
	var doc map[string]any
	if _, err := toml.Decode(string(data), &doc); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("config: %s: line %d: %s", name, pe.Position.Line, oneLine(pe.Message))
		}
		return nil, fmt.Errorf("config: %s: %s", name, oneLine(strings.TrimPrefix(err.Error(), "toml: ")))
	}
	var out []entry
	err := flattenTOML(name, "", doc, 0, &out)
	return out, err
}

// flattenTOML appends the leaves of table m under prefix.
func flattenTOML(name, prefix string, m map[string]any, depth int, out *[]entry) error {
	if depth > maxDepth {
		return fmt.Errorf("config: %s: tables nested too deep", name)
	}
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	for _, k := range ks {
		key := join(prefix, k)
		switch v := m[k].(type) {
		case map[string]any:
			if err := flattenTOML(name, key, v, depth+1, out); err != nil {
				return err
			}
			continue
		case []any:
			items := make([]string, 0, len(v))
			for _, it := range v {
				s, err := tomlScalar(it)
				if err != nil {
					return fmt.Errorf("config: %s: list items %v (in %s)", key, err, name)
				}
				items = append(items, s)
			}
			*out = append(*out, entry{key: key, val: input{list: items, isList: true}, src: name})
		default:
			s, err := tomlScalar(v)
			if err != nil {
				if _, known := lookup(key); !known {
					return fmt.Errorf("config: unknown key %q in %s%s", key, name, suggest(key))
				}
				return fmt.Errorf("config: %s: %v (in %s)", key, err, name)
			}
			*out = append(*out, entry{key: key, val: input{text: s}, src: name})
		}
		if len(*out) > maxEntries {
			return fmt.Errorf("config: %s: too many keys", name)
		}
	}
	return nil
}

// tomlScalar turns a decoded TOML value into text.
func tomlScalar(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(v), nil
	case time.Time:
		return "", errors.New("must not be a date or time (write durations as \"90s\" or a number of seconds)")
	case map[string]any, []map[string]any:
		return "", errors.New("must be a value, not a table")
	case []any:
		return "", errors.New("must be values, not lists")
	}
	return "", fmt.Errorf("has an unsupported type %T", v)
}

// parseYAML flattens a YAML document, keeping the line of each value.
func parseYAML(name string, data []byte) ([]entry, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("config: %s: %s", name, oneLine(strings.TrimPrefix(err.Error(), "yaml: ")))
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil // empty file
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil // a file holding only comments or "~"
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("config: %s:%d: the file must be a mapping of keys to values", name, root.Line)
	}
	w := yamlWalker{name: name}
	err := w.walk("", root, 0)
	return w.out, err
}

// yamlWalker flattens YAML mappings into entries.
type yamlWalker struct {
	name   string
	out    []entry
	visits int // nodes visited; aliases can make this far more than the file's size
}

// walk appends the leaves of mapping node n under prefix.
func (w *yamlWalker) walk(prefix string, n *yaml.Node, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("config: %s:%d: mappings nested too deep", w.name, n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if w.visits++; w.visits > maxEntries {
			return fmt.Errorf("config: %s: too many keys", w.name)
		}
		kn, vn := resolve(n.Content[i]), resolve(n.Content[i+1])
		if kn.Kind != yaml.ScalarNode || kn.Value == "" {
			return fmt.Errorf("config: %s:%d: keys must be non-empty names", w.name, kn.Line)
		}
		key := join(prefix, kn.Value)
		src := w.name + ":" + strconv.Itoa(vn.Line)
		switch vn.Kind {
		case yaml.MappingNode:
			if err := w.walk(key, vn, depth+1); err != nil {
				return err
			}
		case yaml.SequenceNode:
			items := make([]string, 0, len(vn.Content))
			for _, it := range vn.Content {
				it = resolve(it)
				if it.Kind != yaml.ScalarNode {
					return fmt.Errorf("config: %s: list items must be values, not lists or mappings (in %s:%d)", key, w.name, it.Line)
				}
				items = append(items, yamlScalar(it))
			}
			w.out = append(w.out, entry{key: key, val: input{list: items, isList: true}, src: src})
		case yaml.ScalarNode:
			w.out = append(w.out, entry{key: key, val: input{text: yamlScalar(vn)}, src: src})
		default:
			return fmt.Errorf("config: %s:%d: unsupported value for %q", w.name, vn.Line, key)
		}
	}
	return nil
}

// resolve follows YAML aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < maxDepth; i++ {
		n = n.Alias
	}
	return n
}

// yamlScalar returns the text of a scalar node; null is the empty value.
func yamlScalar(n *yaml.Node) string {
	if n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

// join appends a key to a dotted prefix.
func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// oneLine keeps the first line of a library's message, so that every error
// stays one line.
func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

// suggest returns ` (did you mean "KEY"?)` for the known key nearest to an
// unknown one, or "" when none is near.
func suggest(name string) string {
	best, bestDist := "", 3
	lower := strings.ToLower(name)
	for _, k := range keys {
		if d := distance(lower, k.Name); d < bestDist {
			best, bestDist = k.Name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein distance between a and b, counted in bytes
// (key names are ASCII); long inputs are not compared.
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// envPrefix starts the environment variable of every key.
const envPrefix = "TWOFACTOR_"

// UnknownEnv returns the names of the variables in environ (as from
// os.Environ) that start with TWOFACTOR_ but belong to no key, sorted, so
// that the caller can warn about a misspelt variable that [Load] would
// otherwise never read. Variables the caller uses for other purposes should
// be filtered out by the caller.
func UnknownEnv(environ []string) []string {
	known := make(map[string]bool, len(keys))
	for _, k := range keys {
		known[k.Env()] = true
	}
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, envPrefix) && !known[name] {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
