package deux

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/twofactor/twofactor"
)

// valueKind is what a request member holds, as Django REST framework's
// CharField sees it.
type valueKind int

const (
	// stringValue: a string, or a JSON number (taken as its text).
	stringValue valueKind = iota
	// nullValue: JSON null.
	nullValue
	// otherValue: a JSON boolean, array or object, or an uploaded file.
	otherValue
)

// value is one request member.
type value struct {
	kind valueKind
	s    string
}

// values are the members of a request body; a member given twice in a
// form keeps its last value, as Django's QueryDict.get does.
type values map[string]value

// parseBody reads the body as Django REST framework's JSON, form and
// multipart parsers do, up to maxBody bytes. An empty body is no members,
// whatever its Content-Type. A body that is not a JSON object is refused
// here with the serializer's message.
func parseBody(r *http.Request, maxBody int64) (values, error) {
	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	data, err := io.ReadAll(io.LimitReader(body, maxBody+1))
	if err != nil {
		return nil, badRequest("The request body could not be read.")
	}
	if int64(len(data)) > maxBody {
		return nil, &failure{status: http.StatusRequestEntityTooLarge, body: detail{fmt.Sprintf("The request body exceeds %d bytes.", maxBody)}}
	}
	if len(data) == 0 {
		return values{}, nil
	}
	ct := r.Header.Get("Content-Type")
	unsupported := &failure{status: http.StatusUnsupportedMediaType, body: detail{fmt.Sprintf("Unsupported media type %q in request.", ct)}}
	if ct == "" {
		return nil, unsupported
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, unsupported
	}
	switch mt {
	case "application/json":
		return parseJSON(data)
	case "application/x-www-form-urlencoded":
		// Like Django's QueryDict, keep what parses and skip the rest.
		q, _ := url.ParseQuery(string(data))
		vals := values{}
		for k, vs := range q {
			vals[k] = value{s: vs[len(vs)-1]}
		}
		return vals, nil
	case "multipart/form-data":
		return parseMultipart(data, params["boundary"], maxBody)
	}
	return nil, unsupported
}

// parseJSON reads one JSON object.
func parseJSON(data []byte) (values, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, badRequest("JSON parse error - " + jsonMessage(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badRequest("JSON parse error - Extra data after the JSON value")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		if v == nil {
			return nil, nonField(msgNoData)
		}
		return nil, nonField("Invalid data. Expected a dictionary, but got " + pythonType(v) + ".")
	}
	vals := make(values, len(obj))
	for k, m := range obj {
		switch m := m.(type) {
		case string:
			vals[k] = value{s: m}
		case json.Number:
			vals[k] = value{s: m.String()}
		case nil:
			vals[k] = value{kind: nullValue}
		default:
			vals[k] = value{kind: otherValue}
		}
	}
	return vals, nil
}

// jsonMessage describes a JSON syntax error with its position.
func jsonMessage(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (char %d)", se.Error(), se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "unexpected end of JSON input"
	}
	return "malformed JSON"
}

// pythonType names a decoded JSON value's type as Python would.
func pythonType(v any) string {
	switch v := v.(type) {
	case []any:
		return "list"
	case string:
		return "str"
	case bool:
		return "bool"
	case json.Number:
		if strings.ContainsAny(v.String(), ".eE") {
			return "float"
		}
		return "int"
	}
	return "dict"
}

// parseMultipart reads the fields of a multipart body; a file part is a
// member that is not a string.
func parseMultipart(data []byte, boundary string, maxBody int64) (values, error) {
	if boundary == "" {
		return nil, badRequest("Multipart form parse error - Invalid boundary in multipart: None")
	}
	mr := multipart.NewReader(bytes.NewReader(data), boundary)
	vals := values{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return vals, nil
		}
		if err != nil {
			return nil, badRequest("Multipart form parse error - " + err.Error())
		}
		name := p.FormName()
		b, err := io.ReadAll(io.LimitReader(p, maxBody))
		if err != nil {
			return nil, badRequest("Multipart form parse error - " + err.Error())
		}
		if name == "" {
			continue
		}
		if p.FileName() != "" {
			vals[name] = value{kind: otherValue}
			continue
		}
		vals[name] = value{s: string(b)}
	}
}

// field is a request field as a Django REST framework CharField checks it.
type field struct {
	name     string
	required bool
	// trim drops surrounding white space first (trim_whitespace).
	trim bool
	// blank, when set, is the message for a blank value instead of "This
	// field may not be blank."
	blank string
	// maxLength bounds the length in characters (0: none).
	maxLength int
	// check returns the messages of the field's own validators.
	check func(string) []string
}

// clean returns the field's value, or its messages.
func (f field) clean(vals values) (string, []string) {
	v, present := vals[f.name]
	if !present {
		if f.required {
			return "", []string{msgRequired}
		}
		return "", nil
	}
	switch v.kind {
	case nullValue:
		return "", []string{msgNull}
	case otherValue:
		return "", []string{msgNotString}
	}
	s := v.s
	if f.trim {
		s = strings.TrimSpace(s)
	}
	if s == "" {
		if f.blank != "" {
			return "", []string{f.blank}
		}
		return "", []string{msgBlank}
	}
	var msgs []string
	if f.check != nil {
		msgs = append(msgs, f.check(s)...)
	}
	if f.maxLength > 0 && utf8.RuneCountInString(s) > f.maxLength {
		msgs = append(msgs, fmt.Sprintf("Ensure this field has no more than %d characters.", f.maxLength))
	}
	if strings.ContainsRune(s, 0) {
		msgs = append(msgs, msgNullChars)
	}
	return s, msgs
}

// cleanAll cleans every field; the errors are in the fields' order.
func cleanAll(fields []field, vals values) (map[string]string, error) {
	out := make(map[string]string, len(fields))
	var fe fieldErrors
	for _, f := range fields {
		s, msgs := f.clean(vals)
		if len(msgs) > 0 {
			fe = fe.add(f.name, msgs...)
			continue
		}
		out[f.name] = s
	}
	if len(fe) > 0 {
		return nil, invalid(fe)
	}
	return out, nil
}

// The fields of each view.
var (
	smsRequestFields = []field{{name: "phone_number", required: true, trim: true, blank: msgInvalidPhone, maxLength: 15,
		check: func(s string) []string {
			if !twofactor.ValidDeuxPhoneNumber(s) {
				return []string{msgInvalidPhone}
			}
			return nil
		}}}
	smsVerifyFields = []field{{name: "mfa_code", required: true, trim: true}}
	loginFields     = []field{
		{name: "username", required: true, trim: true},
		{name: "password", required: true},
		{name: "mfa_code", trim: true},
		{name: "backup_code", trim: true},
	}
)
