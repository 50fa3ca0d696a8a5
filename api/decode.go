package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// DefaultMaxBodyBytes is the default limit of a request body.
const DefaultMaxBodyBytes = 64 << 10

// fieldsOf returns the JSON member names of a request type (its json tags),
// computed once per type.
func fieldsOf(v request) map[string]bool {
	t := reflect.TypeOf(v).Elem()
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]bool)
	}
	names := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("json")
		if name, _, _ := strings.Cut(tag, ","); name != "" && name != "-" {
			names[name] = true
		}
	}
	fieldCache.Store(t, names)
	return names
}

var fieldCache sync.Map // reflect.Type → map[string]bool

// readBody reads the request body, at most limit bytes, checking its media
// type when it is not empty (or always, when the endpoint takes a body).
func readBody(w http.ResponseWriter, r *http.Request, limit int64, takesBody bool) ([]byte, error) {
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, newProblem(http.StatusRequestEntityTooLarge, CodeTooLarge,
				fmt.Sprintf("The request body is larger than %d bytes.", limit))
		}
		if err != nil {
			return nil, badRequest("The request body could not be read.")
		}
	}
	if takesBody || len(body) > 0 {
		if err := checkMediaType(r.Header.Get("Content-Type")); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// checkMediaType accepts application/json, with no parameter but an
// optional charset=utf-8.
func checkMediaType(ct string) error {
	unsupported := func(detail string) error {
		return newProblem(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, detail)
	}
	if ct == "" {
		return unsupported("The request body must be JSON, sent with Content-Type: application/json.")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return unsupported("The request body must be JSON, sent with Content-Type: application/json, not " + strconv.Quote(truncate(ct, 100)) + ".")
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return unsupported("The only parameter application/json accepts is charset=utf-8.")
		}
	}
	return nil
}

// decodeJSON decodes body into dst, a pointer to a request type, strictly:
// one JSON object whose members are exactly named fields of dst (case
// matters), each at most once, with values of the right types; then the
// request's own shape checks. An empty body is an empty object. Every
// failure is a 400 problem naming the position or the field.
func decodeJSON(body []byte, dst request) error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if !json.Valid(body) {
		// Unmarshal checks the whole text first, with the offset of the
		// error from the start of the body (a json.Decoder's is not).
		err := json.Unmarshal(body, new(json.RawMessage))
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off := se.Offset // bytes read, the bad one included
			if !strings.HasPrefix(se.Error(), "unexpected end") {
				off--
			}
			return badRequest(fmt.Sprintf("The request body is not valid JSON: %s at %s.", se.Error(), position(body, off)))
		}
		return badRequest(fmt.Sprintf("The request body is not valid JSON: it ends too early, at %s.", position(body, int64(len(body)))))
	}
	if err := checkMembers(body, fieldsOf(dst)); err != nil {
		return err
	}
	if err := json.Unmarshal(body, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return invalid(fieldError{te.Field, "Must be " + jsonType(te.Type) + ", not " + te.Value + "."})
		}
		return badRequest("The request body is not a valid JSON object: " + err.Error() + ".")
	}
	if errs := dst.validate(); len(errs) > 0 {
		return invalid(errs...)
	}
	return nil
}

// checkMembers walks valid JSON text: it must be an object, and its members
// must be in allowed, none twice. encoding/json alone
// would match member names case-insensitively and let a repeated member
// silently win, so two readers of one body could disagree on its meaning.
func checkMembers(body []byte, allowed map[string]bool) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return syntaxProblem(body, dec, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return badRequest("The request body must be a JSON object.")
	}
	seen := map[string]bool{}
	var errs []fieldError
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return syntaxProblem(body, dec, err)
		}
		name, _ := tok.(string)
		switch {
		case !allowed[name]:
			errs = append(errs, fieldError{fieldName(name), "Unknown field."})
		case seen[name]:
			errs = append(errs, fieldError{name, "Given more than once."})
		}
		seen[name] = true
		if err := skipValue(dec); err != nil {
			return syntaxProblem(body, dec, err)
		}
	}
	if len(errs) > 0 {
		return invalid(errs...)
	}
	return nil
}

// skipValue reads one complete JSON value.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
			default:
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// syntaxProblem describes an error walking JSON text that json.Valid
// accepted, which does not happen; it is reported as malformed all the
// same rather than trusted.
func syntaxProblem(body []byte, dec *json.Decoder, err error) error {
	return badRequest(fmt.Sprintf("The request body is not valid JSON: %s at %s.", err.Error(), position(body, dec.InputOffset())))
}

// position names a byte offset of body as line, column and offset.
func position(body []byte, off int64) string {
	off = max(0, min(off, int64(len(body))))
	before := body[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return fmt.Sprintf("line %d, column %d (byte %d)", line, col, off)
}

// fieldName quotes an unknown member name for a message when it is not a
// plain identifier, and shortens it.
func fieldName(name string) string {
	for _, r := range name {
		if !(r == '_' || r == '-' || r == '.' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')) {
			return strconv.QuoteToASCII(truncate(name, 64))
		}
	}
	if name == "" {
		return `""`
	}
	return truncate(name, 64)
}

// jsonType names the JSON type of a Go type.
func jsonType(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer in range"
	case reflect.Bool:
		return "true or false"
	}
	return "a " + t.Kind().String()
}

// truncate shortens s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
