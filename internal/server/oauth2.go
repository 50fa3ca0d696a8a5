package server

import (
	"net/http"

	"github.com/twofactor/twofactor/api/oauth2"
	"github.com/twofactor/twofactor/internal/app"
)

// mountOAuth2 registers the OAuth 2.0 endpoints (SPEC §7.1) of package
// api/oauth2: POST /oauth2/token, POST /oauth2/revoke and POST
// /oauth2/introspect, for the clients of `twofactor oauth2 client create`.
// Access tokens last an hour and refresh tokens 30 days (the package's
// defaults); bodies are limited to its DefaultMaxBodyBytes.
func mountOAuth2(mux *http.ServeMux, a *app.App) {
	o, err := oauth2.New(oauth2.Config{Service: a.Service, Logger: a.Log})
	if err != nil {
		// Only a bug gets here (the service is always set): say so and
		// answer 503 rather than serve half an endpoint.
		a.Log.Error("the OAuth2 endpoints are off", "err", err)
		unavailable := func(w http.ResponseWriter, r *http.Request) {
			plain(w, http.StatusServiceUnavailable, "OAuth2 is unavailable")
		}
		for _, p := range []string{"POST /oauth2/token", "POST /oauth2/revoke", "POST /oauth2/introspect"} {
			mux.HandleFunc(p, unavailable)
		}
		return
	}
	mux.HandleFunc("POST /oauth2/token", o.ServeToken)
	mux.HandleFunc("POST /oauth2/revoke", o.ServeRevoke)
	mux.HandleFunc("POST /oauth2/introspect", o.ServeIntrospect)
}
