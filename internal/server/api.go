package server

import (
	"net/http"

	"github.com/twofactor/twofactor/api"
	"github.com/twofactor/twofactor/internal/app"
)

// mountAPI registers the JSON API (SPEC §6, package api) under /api/v1/,
// with its OpenAPI document at GET /api/v1/openapi.json. The issuer shown
// in authenticator apps is the configured one (the service's), else the
// request's host name. The client address is the connection's: behind a
// reverse proxy, every client has the proxy's address for the sign-in rate
// limit (see the package doc of api).
func mountAPI(mux *http.ServeMux, a *app.App) {
	h, err := api.New(api.Config{Service: a.Service, Logger: a.Log})
	if err != nil {
		// Only a bug gets here (the service is always set): say so and
		// answer 503 rather than serve half an API.
		a.Log.Error("the JSON API is off", "err", err)
		mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
			plain(w, http.StatusServiceUnavailable, "the API is unavailable")
		})
		return
	}
	mux.Handle("/api/v1/", h.Handler())
}
