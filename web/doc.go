// Package web is the browser side of twofactor: the middleware that tells
// every request of an application who is signed in and whether a second
// factor verified the session, the [RequireVerified] guard for the
// application's own pages, and the pages of the sign-in and account
// security flows (django-two-factor-auth's, kept at the same paths with the
// same field names and texts, and fixed where the seed was weak).
//
// # Use
//
//	h, err := web.New(web.Config{Service: svc})
//	mux := http.NewServeMux()
//	h.Register(mux)                      // /account/login/, /account/two_factor/, …
//	mux.Handle("GET /secret/", web.RequireVerified(web.RequireOptions{})(secret))
//	http.ListenAndServe(addr, h.Middleware(mux))
//
// With the service's built-in users, Register also mounts the staff console
// at /admin/ (SPEC §8.1): the users and their two-factor state, adoption
// figures, a user's devices and audit events, and disabling a user's
// two-factor. Only active staff may use it, by default only from a session
// verified by a second factor (Config.AdminRequireVerified).
//
// The setup wizard offers the methods of Config.Methods — by default
// [StandardMethods]: an authenticator app, and text messages, phone calls,
// email, YubiKeys and security keys (WebAuthn) when the Service has their
// gateway or relying party. Codes sent to a
// phone or an address go out once per cooldown (a reload never sends
// again), with a "Send a new code" button that says how long to wait;
// backup phones are added at /account/two_factor/phone/register/ and
// removed at /account/two_factor/phone/unregister/{id}/.
//
// In a handler, [State] returns the request's state: the user id, the
// session, whether it is verified, and the user (loaded only when asked).
//
// Every page is server-rendered with html/template from embedded templates
// that Config.Templates may override one file at a time, styled by one CSS
// file, and translated through package i18n. No page needs JavaScript,
// except to use a security key: its ceremonies run in the browser, through
// the one small script of the pages (served from /account/static/, no
// inline script, allowed by the pages' Content-Security-Policy). A
// security key registers in the setup wizard, answers the sign-in's code
// step (as the expected device, or chosen with "Use a security key"), and
// confirms sensitive changes (step-up), where a user whose primary device
// receives its codes may also ask for a code to be sent.
//
// # What this package never does
//
// It never decides a security rule: throttling, replay protection, step-up,
// ownership of devices, the login timeout and the remember-browser checks
// are the core's ([twofactor.Service]); a page translates a request into
// Service calls and a [*twofactor.Error] into a form message (in one place,
// errors.go). It never keeps a password or a device key in the session
// (the session holds a login challenge token, the id of a device being set
// up and a local "next" path, sealed by the core), never echoes a password
// into a page, never redirects to a "next" that is not a local path, never
// answers a state-changing cross-origin request, and never panics on any
// input: a malformed form, cookie or header is a 4xx page or a form
// message.
package web
