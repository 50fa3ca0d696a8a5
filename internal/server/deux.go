package server

import (
	"net/http"

	"github.com/twofactor/twofactor/api/deux"
	"github.com/twofactor/twofactor/api/oauth2"
	"github.com/twofactor/twofactor/internal/app"
)

// mountDeux registers the deux-compatible API (SPEC §7.2, package
// api/deux) under /mfa/ — /mfa, /mfa.json and every path below /mfa/ —
// with its OAuth2 token endpoint at /mfa/oauth2/token/ for the clients of
// `twofactor oauth2 client create`, with the same lifetimes as
// /oauth2/token.
func mountDeux(mux *http.ServeMux, a *app.App) {
	o, err := oauth2.New(oauth2.Config{Service: a.Service, Logger: a.Log})
	var d *deux.API
	if err == nil {
		d, err = deux.New(deux.Config{Service: a.Service, OAuth2: o, Logger: a.Log})
	}
	if err != nil {
		// Only a bug gets here (the service is always set): say so and
		// answer 503 rather than serve half an API.
		a.Log.Error("the deux-compatible API is off", "err", err)
		unavailable := func(w http.ResponseWriter, r *http.Request) {
			plain(w, http.StatusServiceUnavailable, "the deux API is unavailable")
		}
		for _, p := range []string{deux.Prefix, deux.Prefix + ".json", deux.Prefix + "/"} {
			mux.HandleFunc(p, unavailable)
		}
		return
	}
	d.Register(mux)
}
