package twilio

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/twilio/twilio-go/client"
)

// SignatureHeader is the header in which Twilio signs its webhook requests.
const SignatureHeader = "X-Twilio-Signature"

// maxWebhookBody bounds the body ValidateRequest reads; Twilio's voice
// webhooks are a few hundred bytes.
const maxWebhookBody = 64 << 10

// ValidateRequest reports whether r carries a valid X-Twilio-Signature for
// the auth token: the base64 HMAC-SHA1, keyed with the token, of the full
// URL Twilio requested followed, for a form POST, by every parameter name
// and value sorted by name (twilio-go's client.RequestValidator, which
// compares in constant time). A request without a signature, with a forged
// one, or signed for another URL is refused; so is every request when
// authToken is empty.
//
// The URL is publicURL's scheme and host followed by the request URI as
// the server received it (r.RequestURI, else r.URL); when publicURL has a
// path that the request URI lacks (a proxy stripped it), the path is put
// back in front. For a POST the body is read (up to 64 KiB) and put back so
// the handler can still parse the form; if the form was parsed already,
// r.PostForm is used.
func ValidateRequest(r *http.Request, authToken, publicURL string) bool {
	if r == nil || r.URL == nil || authToken == "" {
		return false
	}
	sig := r.Header.Get(SignatureHeader)
	if sig == "" {
		return false
	}
	full, ok := signedURL(r, publicURL)
	if !ok {
		return false
	}
	v := client.NewRequestValidator(authToken)
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return v.Validate(full, nil, sig)
	case http.MethodPost:
	default:
		return false
	}
	if r.PostForm != nil {
		params := make(map[string]string, len(r.PostForm))
		for k, vs := range r.PostForm {
			if len(vs) > 0 {
				params[k] = vs[0]
			}
		}
		return v.Validate(full, params, sig)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/x-www-form-urlencoded" && mt != "application/json") {
			return false
		}
	}
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err != nil || len(body) > maxWebhookBody {
			return false
		}
	}
	return v.ValidateBody(full, body, sig)
}

// signedURL rebuilds the URL Twilio signed.
func signedURL(r *http.Request, publicURL string) (string, bool) {
	pub, err := parseHTTPURL(strings.TrimRight(publicURL, "/"))
	if err != nil {
		return "", false
	}
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	if !strings.HasPrefix(uri, "/") {
		return "", false
	}
	if prefix := pub.EscapedPath(); prefix != "" && uri != prefix && !strings.HasPrefix(uri, prefix+"/") && !strings.HasPrefix(uri, prefix+"?") {
		uri = prefix + uri
	}
	return pub.Scheme + "://" + pub.Host + uri, true
}
