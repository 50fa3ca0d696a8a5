package twilio_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/twofactor/twofactor/gateway/twilio"
	"github.com/twofactor/twofactor/internal/twiliotest"
)

// callApp stands in for the web layer: it keeps the code of each call id
// and answers Twilio's callbacks with the scripts, after checking their
// signatures, as the real web layer must.
type callApp struct {
	*httptest.Server
	token  string
	script twilio.Script

	mu      sync.Mutex
	calls   map[string]callScript
	refused int
}

type callScript struct{ code, site, lang string }

func newCallApp(t *testing.T, token string, script twilio.Script) *callApp {
	t.Helper()
	a := &callApp{token: token, script: script, calls: map[string]callScript{}}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.Close)
	return a
}

func (a *callApp) add(id, code, site, lang string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls[id] = callScript{code, site, lang}
}

func (a *callApp) serve(w http.ResponseWriter, r *http.Request) {
	if !twilio.ValidateRequest(r, a.token, a.URL) {
		a.mu.Lock()
		a.refused++
		a.mu.Unlock()
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	id, ok := strings.CutPrefix(r.URL.Path, twilio.CallbackPath)
	id, ok2 := strings.CutSuffix(id, "/")
	a.mu.Lock()
	c, found := a.calls[id]
	a.mu.Unlock()
	if !ok || !ok2 || !found {
		http.NotFound(w, r)
		return
	}
	var doc []byte
	var err error
	switch r.Method {
	case http.MethodGet:
		doc, err = a.script.Greeting(c.site, c.lang, twilio.CallbackURL(a.URL, id))
	case http.MethodPost:
		if r.FormValue("Digits") == "" {
			http.Error(w, "no digits", http.StatusBadRequest)
			return
		}
		doc, err = a.script.Digits(c.code, c.lang)
	default:
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", twilio.ContentType)
	_, _ = w.Write(doc)
}

// setup starts a fake Twilio and a call app and returns a gateway between
// them.
func setup(t *testing.T, edit func(*twilio.Config), opts ...twiliotest.Option) (*twilio.Gateway, *twiliotest.Server, *callApp) {
	t.Helper()
	tw := twiliotest.New(t, opts...)
	cfg := twilio.Config{
		AccountSID: tw.AccountSID, AuthToken: tw.AuthToken,
		CallerID: twiliotest.CallerID, BaseURL: tw.URL,
	}
	if edit != nil {
		edit(&cfg)
	}
	app := newCallApp(t, cfg.AuthToken, twilio.Script{Translate: cfg.Translate})
	if cfg.PublicURL == "" {
		cfg.PublicURL = app.URL
	}
	g, err := twilio.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return g, tw, app
}
