// Package oauth2 is the OAuth 2.0 side of twofactor (SPEC §7.1): the token
// endpoint (RFC 6749) with the password grant extended by a second factor
// — deux's mfa_code and backup_code — and the refresh_token grant, token
// revocation (RFC 7009) and token introspection (RFC 7662), for clients
// registered with `twofactor oauth2 client create`.
//
// # Use
//
//	o, err := oauth2.New(oauth2.Config{Service: svc})
//	mux.Handle("/oauth2/", o.Handler())
//
// serves POST /oauth2/token, POST /oauth2/revoke and POST /oauth2/introspect.
//
// # Protocol
//
// The token endpoint is github.com/go-oauth2/oauth2/v4 (its server and
// manage packages): this package plugs the core into it — a ClientStore
// over the registered clients, a TokenStore and an access-token generator
// over the core's tokens — and maps its outcomes to responses. Access tokens
// are core sessions of kind twofactor.SessionToken, so /api/v1 accepts them
// as bearer tokens unchanged; they last Config.AccessTTL (one hour by
// default). Refresh tokens last Config.RefreshTTL (30 days by default) and
// are used once: each refresh returns a new refresh token and a new access
// token and ends the old access token. A refresh token presented a second
// time is taken for a stolen one (RFC 6749 §10.4): it is refused and every
// token of its grant is revoked. The library covers no revocation or
// introspection endpoint; those two are thin handlers over the core's
// RevokeOAuthToken and IntrospectOAuthToken.
//
// Clients authenticate with HTTP Basic (client_id:client_secret, each
// form-urlencoded first, RFC 6749 §2.3.1) or with client_id and
// client_secret in the body; using both at once is refused. Request bodies
// may be application/x-www-form-urlencoded (the RFC's), application/json
// (an object of strings; numbers are taken as their text) or
// multipart/form-data, as deux accepted, up to Config.MaxBodyBytes;
// parameters in the query string are ignored, and a known parameter given
// twice is refused.
//
// The password grant (grant_type=password, username, password, optional
// scope) answers the token JSON when two-factor is off for the user. When it
// is on, the request carries mfa_code (a code of the user's primary device)
// or backup_code (one of the user's backup codes), not both; without either
// the answer is 400 {"error":"mfa_required","mfa_token":…,"methods":[…]},
// and the mfa_token is the core's login challenge, which
// /api/v1/login/challenge and /api/v1/login/verify accept. Unlike deux, a
// backup code does not turn two-factor off. Errors are RFC 6749 §5.2
// objects: invalid_request (400), invalid_client (401 with WWW-Authenticate:
// Basic), invalid_grant (400: wrong username or password, wrong code,
// unusable refresh token), unsupported_grant_type, invalid_scope; throttling
// (the per-address sign-in limit, the per-device and per-user backoff) is
// 429 {"error":"throttled"} with Retry-After, and a failing database 503
// temporarily_unavailable. Scopes are checked for syntax, recorded and
// echoed; a refresh may narrow them but not widen them; /api/v1 does not
// enforce them.
//
// [Server.Exchange] runs the token endpoint without writing a response, so
// another dialect (deux's /mfa/oauth2/token/) can answer the same outcome in
// its own shapes; [WriteOutcome] writes the RFC 6749 one.
//
// # What this package must never do
//
// It translates requests into twofactor.Service calls and the results into
// responses. It never decides a security rule itself — client secrets,
// codes, throttling, rotation and theft detection are the core's — never
// stores or logs a password, code, client secret or token, never returns a
// token to a client that did not authenticate, never checks a password or a
// code before the client has authenticated, and never answers a 5xx for
// anything a client sent.
//
// The client address used by the sign-in rate limit and recorded with
// events is the connection's (http.Request.RemoteAddr); forwarding headers
// are not trusted, as in package api.
package oauth2
