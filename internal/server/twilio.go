package server

import (
	"net/http"

	"github.com/twofactor/twofactor/gateway/twilio"
	"github.com/twofactor/twofactor/internal/app"
)

// mountTwilio serves the URL Twilio fetches when a verification call is
// answered (twilio.CallbackPath + call id + "/"), when the Twilio gateway
// is configured. Every request must be signed by Twilio for the auth
// token and public_url (else 403); the script comes from the service by
// the call's opaque id (an unknown or expired one: 404).
func mountTwilio(mux *http.ServeMux, a *app.App) {
	if a.Gateways.Twilio == nil {
		return
	}
	mux.Handle(twilio.CallbackPath+"{id}/{$}", a.Gateways.Twilio.Webhook(a.Service))
}
