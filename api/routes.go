package api

// endpoint is one route of the API: the one table that New registers and
// the tests check against the OpenAPI document, both ways.
type endpoint struct {
	method string
	path   string // a net/http.ServeMux path pattern, as in the OpenAPI paths
	access access
	action action
}

// action is what an endpoint does with its decoded body.
type action struct {
	// input returns a new request value to decode the body into; nil when
	// the endpoint takes no body (an empty one, or {}, is still accepted).
	input func() request
	serve func(a *API, c *call, req request) error
}

// withBody makes the action of an endpoint that takes a JSON body of type
// *T.
func withBody[T any, P interface {
	*T
	request
}](serve func(a *API, c *call, req P) error) action {
	return action{
		input: func() request { return P(new(T)) },
		serve: func(a *API, c *call, req request) error { return serve(a, c, req.(P)) },
	}
}

// noBody makes the action of an endpoint that takes no body.
func noBody(serve func(a *API, c *call) error) action {
	return action{serve: func(a *API, c *call, _ request) error { return serve(a, c) }}
}

// endpoints lists every route of /api/v1 (SPEC §6). The kinds of
// POST /api/v1/mfa/devices are in deviceFields; security keys have their
// ceremony endpoints (webauthn.go), and POST /api/v1/step-up takes a key's
// credential too.
var endpoints = []endpoint{
	{"GET", "/api/v1/openapi.json", public, noBody((*API).openapi)},

	// Sign-in.
	{"POST", "/api/v1/login", public, withBody((*API).login)},
	{"POST", "/api/v1/login/challenge", public, withBody((*API).loginChallenge)},
	{"POST", "/api/v1/login/verify", public, withBody((*API).loginVerify)},
	{"POST", "/api/v1/logout", signedIn, noBody((*API).logout)},
	{"POST", "/api/v1/step-up", signedIn, withBody((*API).stepUp)},

	// Security keys (WebAuthn): options begin a ceremony, the other step
	// finishes it.
	{"POST", "/api/v1/login/webauthn/options", public, withBody((*API).loginWebAuthnOptions)},
	{"POST", "/api/v1/login/webauthn/verify", public, withBody((*API).loginWebAuthnVerify)},
	{"POST", "/api/v1/step-up/webauthn/options", signedIn, noBody((*API).stepUpWebAuthnOptions)},
	{"POST", "/api/v1/mfa/webauthn/options", verified, noBody((*API).webauthnRegisterOptions)},
	{"POST", "/api/v1/mfa/webauthn/register", verified, withBody((*API).webauthnRegister)},

	// Management.
	{"GET", "/api/v1/mfa", verified, noBody((*API).status)},
	{"DELETE", "/api/v1/mfa", verified, noBody((*API).disable)},
	{"POST", "/api/v1/mfa/devices", verified, withBody((*API).addDevice)},
	{"POST", "/api/v1/mfa/devices/{id}/confirm", verified, withBody((*API).confirmDevice)},
	{"POST", "/api/v1/mfa/devices/{id}/challenge", verified, noBody((*API).challengeDevice)},
	{"POST", "/api/v1/mfa/devices/{id}/primary", verified, noBody((*API).setPrimary)},
	{"PATCH", "/api/v1/mfa/devices/{id}", verified, withBody((*API).renameDevice)},
	{"DELETE", "/api/v1/mfa/devices/{id}", verified, noBody((*API).removeDevice)},
	{"POST", "/api/v1/mfa/backup-codes", verified, noBody((*API).regenerateBackupCodes)},
	{"GET", "/api/v1/mfa/browsers", verified, noBody((*API).browsers)},
	{"DELETE", "/api/v1/mfa/browsers/{id}", verified, noBody((*API).revokeBrowser)},
}
