package oauth2

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

	"github.com/twofactor/twofactor"
)

// Request parameters this package reads. Each may appear once; others are
// ignored (RFC 6749 §3.1).
var knownParams = []string{"grant_type", "username", "password", "scope", "refresh_token", "client_id", "client_secret",
	"mfa_code", "backup_code", "token", "token_type_hint"}

// maxParamBytes bounds one parameter value: nothing legitimate is longer.
const maxParamBytes = 4096

// readParams reads the parameters of a POST body: form-urlencoded (RFC
// 6749), JSON or multipart, up to maxBody bytes. The query string is not
// read.
func readParams(r *http.Request, maxBody int64) (url.Values, *Error) {
	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	data, err := io.ReadAll(io.LimitReader(body, maxBody+1))
	if err != nil {
		return nil, newError(http.StatusBadRequest, CodeInvalidRequest, "The request body could not be read.")
	}
	if int64(len(data)) > maxBody {
		return nil, newError(http.StatusRequestEntityTooLarge, CodeInvalidRequest,
			fmt.Sprintf("The request body exceeds %d bytes.", maxBody))
	}
	ct := r.Header.Get("Content-Type")
	mt, mparams := "", map[string]string(nil)
	if ct != "" {
		if mt, mparams, err = mime.ParseMediaType(ct); err != nil {
			return nil, unsupportedMedia()
		}
	}
	var vals url.Values
	switch {
	case mt == "" && len(bytes.TrimSpace(data)) == 0:
		vals = url.Values{}
	case mt == "application/x-www-form-urlencoded":
		if vals, err = url.ParseQuery(string(data)); err != nil {
			return nil, newError(http.StatusBadRequest, CodeInvalidRequest, "The form-urlencoded body is malformed.")
		}
	case mt == "application/json":
		if vals, err = parseJSON(data); err != nil {
			return nil, newError(http.StatusBadRequest, CodeInvalidRequest, "The JSON body is malformed: "+err.Error())
		}
	case mt == "multipart/form-data":
		if vals, err = parseMultipart(data, mparams["boundary"], maxBody); err != nil {
			return nil, newError(http.StatusBadRequest, CodeInvalidRequest, "The multipart body is malformed.")
		}
	default:
		return nil, unsupportedMedia()
	}
	for _, k := range knownParams {
		if v := vals[k]; len(v) > 1 {
			return nil, paramError(http.StatusBadRequest, CodeInvalidRequest, k, "The parameter "+k+" is given more than once.")
		} else if len(v) == 1 && len(v[0]) > maxParamBytes {
			return nil, paramError(http.StatusBadRequest, CodeInvalidRequest, k, "The parameter "+k+" is too long.")
		}
	}
	return vals, nil
}

func unsupportedMedia() *Error {
	return newError(http.StatusUnsupportedMediaType, CodeInvalidRequest,
		"Send the parameters as application/x-www-form-urlencoded, application/json or multipart/form-data.")
}

// parseJSON reads one JSON object whose members are strings, numbers
// (taken as their text) or null (absent). A member given twice counts as a
// parameter given twice.
func parseJSON(data []byte) (url.Values, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, errors.New("expected an object")
	}
	vals := url.Values{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("expected a member name")
		}
		name, _ := tok.(string)
		tok, err = dec.Token()
		if err != nil {
			return nil, fmt.Errorf("member %q has no valid value", name)
		}
		switch v := tok.(type) {
		case string:
			vals.Add(name, v)
		case json.Number:
			vals.Add(name, v.String())
		case nil:
		default:
			return nil, fmt.Errorf("member %q must be a string", name)
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, errors.New("the object is not closed")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the object")
	}
	return vals, nil
}

// parseMultipart reads the fields of a multipart/form-data body; file parts
// are ignored.
func parseMultipart(data []byte, boundary string, maxBody int64) (url.Values, error) {
	if boundary == "" {
		return nil, errors.New("no boundary")
	}
	form, err := multipart.NewReader(bytes.NewReader(data), boundary).ReadForm(maxBody)
	if err != nil {
		return nil, err
	}
	defer form.RemoveAll()
	return url.Values(form.Value), nil
}

// authenticateClient authenticates the client of a request: HTTP Basic
// (RFC 6749 §2.3.1, id and secret form-urlencoded) or client_id and
// client_secret in the body, not both.
func (s *Server) authenticateClient(r *http.Request, vals url.Values) (*twofactor.OAuthClient, string, *Error) {
	var id, sec string
	auth := r.Header.Get("Authorization")
	formSecret, hasFormSecret := vals["client_secret"]
	switch {
	case auth != "":
		if len(auth) < 6 || !strings.EqualFold(auth[:6], "basic ") {
			return nil, "", invalidClient()
		}
		u, p, ok := r.BasicAuth()
		if !ok {
			return nil, "", invalidClient()
		}
		var err1, err2 error
		id, err1 = url.QueryUnescape(u)
		sec, err2 = url.QueryUnescape(p)
		if err1 != nil || err2 != nil {
			return nil, "", invalidClient()
		}
		if hasFormSecret {
			return nil, "", newError(http.StatusBadRequest, CodeInvalidRequest, "Authenticate the client one way: HTTP Basic or the body, not both.")
		}
		if formID := vals.Get("client_id"); formID != "" && formID != id {
			return nil, "", invalidClient()
		}
	case vals.Get("client_id") != "":
		id = vals.Get("client_id")
		if hasFormSecret {
			sec = formSecret[0]
		}
	default:
		return nil, "", invalidClient()
	}
	c, err := s.svc.AuthenticateOAuthClient(r.Context(), id, sec)
	if twofactor.CodeOf(err) == twofactor.CodeInvalidCredentials {
		return nil, "", invalidClient()
	}
	if err != nil {
		return nil, "", s.classify(r.Context(), err)
	}
	return c, sec, nil
}

func invalidClient() *Error {
	return newError(http.StatusUnauthorized, CodeInvalidClient, "Client authentication failed.")
}
