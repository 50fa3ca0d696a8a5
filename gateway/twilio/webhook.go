package twilio

import (
	"context"
	"net/http"
	"strings"

	"github.com/twofactor/twofactor"
)

// CallScripts finds what a verification call reads out by the call's
// opaque id. *twofactor.Service implements it (Service.CallScript): an
// unknown or expired id is a *twofactor.Error with CodeNotFound.
type CallScripts interface {
	CallScript(ctx context.Context, callID string) (*twofactor.Call, error)
}

// Webhook returns the handler of the URL Twilio fetches when a call of
// this gateway is answered (see NewWebhook), checking Twilio's signatures
// with the gateway's auth token and public URL.
func (g *Gateway) Webhook(calls CallScripts) http.Handler {
	return NewWebhook(calls, g.token, g.public, g.script)
}

// NewWebhook returns the handler of Twilio's voice callback for calls
// placed with CallbackURL(publicURL, id): mount it at CallbackPath +
// "{id}/" (with http.ServeMux: mux.Handle(twilio.CallbackPath+"{id}/{$}",
// h)), under publicURL's path when it has one.
//
// Every request must carry a valid X-Twilio-Signature for authToken and
// the URL under publicURL (ValidateRequest); anything else — unsigned,
// forged, signed for another URL or with another token — is answered 403
// and never learns whether the call exists. A signed request for an
// unknown or expired call id is answered 404, a failure to read the call
// 503. Otherwise GET (and HEAD) answers with the greeting, whose Gather
// posts the key press back to the same URL, and POST with the code read
// digit by digit (leading zeros included) — both TwiML, in the wording of
// script and the call's language. Other methods get 405.
func NewWebhook(calls CallScripts, authToken, publicURL string, script Script) http.Handler {
	return &webhook{calls: calls, token: authToken, public: strings.TrimRight(publicURL, "/"), script: script}
}

type webhook struct {
	calls  CallScripts
	token  string
	public string
	script Script
}

// ServeHTTP answers one callback.
func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		plainAnswer(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	if h.calls == nil || !ValidateRequest(r, h.token, h.public) {
		plainAnswer(w, http.StatusForbidden, "forbidden")
		return
	}
	id, ok := callIDOf(r.URL.Path)
	if !ok {
		plainAnswer(w, http.StatusNotFound, "not found")
		return
	}
	call, err := h.calls.CallScript(r.Context(), id)
	switch {
	case twofactor.CodeOf(err) == twofactor.CodeNotFound:
		plainAnswer(w, http.StatusNotFound, "not found")
		return
	case err != nil || call == nil:
		plainAnswer(w, http.StatusServiceUnavailable, "unavailable")
		return
	}
	var doc []byte
	if r.Method == http.MethodPost {
		doc, err = h.script.Digits(call.Code, call.Language)
	} else {
		doc, err = h.script.Greeting(call.Site, call.Language, CallbackURL(h.public, id))
	}
	if err != nil {
		plainAnswer(w, http.StatusServiceUnavailable, "unavailable")
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", ContentType)
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(doc)
	}
}

// callIDOf returns the call id of a callback path: the segment after the
// last CallbackPath, followed by a slash and nothing else.
func callIDOf(path string) (string, bool) {
	i := strings.LastIndex(path, CallbackPath)
	if i < 0 {
		return "", false
	}
	rest := path[i+len(CallbackPath):]
	id, ok := strings.CutSuffix(rest, "/")
	if !ok || !callIDRE.MatchString(id) {
		return "", false
	}
	return id, true
}

// plainAnswer writes a short text answer that no cache keeps.
func plainAnswer(w http.ResponseWriter, status int, text string) {
	hd := w.Header()
	hd.Set("Content-Type", "text/plain; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(text + "\n"))
}
