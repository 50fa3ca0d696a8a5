// Package api is the JSON API of twofactor, /api/v1 (SPEC §6): sign-in with
// a second factor for clients that are not browsers (single-page apps,
// mobile apps, scripts), and the management of a user's devices, backup
// codes and remembered browsers with a bearer token.
//
// # Use
//
//	a, err := api.New(api.Config{Service: svc})
//	mux.Handle("/api/v1/", a.Handler())
//
// The handler serves paths that begin with /api/v1/. To mount it under a
// prefix, strip the prefix first:
//
//	mux.Handle("/auth/api/v1/", http.StripPrefix("/auth", a.Handler()))
//
// The API is described by an OpenAPI 3.1 document, served at
// GET /api/v1/openapi.json and returned by [OpenAPI]; docs/API.md is the
// readable guide.
//
// # Sign-in
//
// POST /api/v1/login takes a username and password. With two-factor off it
// answers a token; with it on it answers 401 with the problem code
// "mfa_required", an mfa_token and the user's methods, and the client
// finishes with POST /api/v1/login/verify. API tokens are core sessions of
// kind [twofactor.SessionToken]: opaque, random, stored only as keyed
// hashes, revoked by POST /api/v1/logout, and marked with the device that
// verified them.
//
// # Errors
//
// Every error is an RFC 9457 problem (application/problem+json) with a
// stable code member (the core's codes, [twofactor.Code], and the ones this
// package adds, such as [CodeInvalidToken]), a field member naming the request
// field at fault, and for throttling status 429 with Retry-After. Core
// errors are mapped to statuses in one function. docs/API.md lists them.
//
// # What this package must never do
//
// It translates requests into [twofactor.Service] calls and the results into
// responses, and nothing else. It never decides a security rule itself —
// throttling, replay protection, step-up, device ownership and the sign-in
// rate limit all live in the core — never tries a code against more than the
// one thing the core picks, never stores or logs a password, code, secret or
// token, never echoes a secret except the new TOTP key at enrolment and the
// new backup codes (each shown once), and never answers a 5xx for anything a
// client sent: bad input is a 4xx problem that names the field at fault.
//
// The client address recorded with events and used by the sign-in rate limit
// is the connection's (http.Request.RemoteAddr). Forwarding headers such as
// X-Forwarded-For are not trusted; behind a reverse proxy, rewrite
// RemoteAddr in front of this handler from a header the proxy controls.
package api
