// Package deux serves the deux-compatible API (SPEC §7.2): the endpoints of
// deux, the multi-factor authentication add-on for Django REST framework,
// with its paths, request fields, JSON shapes, status codes and messages,
// so that a client written for deux works unchanged. Every rule behind the
// answers — throttling, replay protection, cooldowns, who owns what — is
// the core service's, the same as on the pages, /api/v1 and OAuth2.
//
//	GET    /mfa/                  {"enabled": bool[, "challenge_type": "sms"][, "phone_number": "…"]}
//	DELETE /mfa/                  turn two-factor off: 204
//	PUT    /mfa/sms/request/      {"phone_number": "15555550123"}: send a code to a new phone
//	PUT    /mfa/sms/verify/       {"mfa_code": "123456"}: confirm it, two-factor on
//	GET    /mfa/recovery/         {"backup_code": "F669CCF4BE53"}, a new one each call
//	POST   /mfa/authtoken/login/  username, password[, mfa_code | backup_code] → {"token": …}
//	POST   /mfa/oauth2/token/     the OAuth2 password grant in deux's dialect
//
// Each path also answers without its trailing slash and with a .json
// suffix (/mfa/sms/request.json), as deux's URL patterns did; PATCH is
// taken wherever PUT is. Bodies may be JSON, form-urlencoded or multipart,
// as Django REST framework parses them. Management endpoints take the
// token of /mfa/authtoken/login/ (any API token of the service, and OAuth2
// access tokens) as "Authorization: Token <token>" (or Bearer); without
// one they answer 401 {"detail": "Authentication credentials were not
// provided."} with WWW-Authenticate: Token.
//
// # Mapping onto the core's model
//
// deux gives a user one phone and a state, enabled or not. Here "enabled"
// is two-factor on with an sms device as the primary device; phone_number
// is that device's number, or, while not enabled, the number of the sms
// device whose setup is pending. deux takes numbers as 7 to 15 digits
// without "+" (country code first); they are stored and sent as E.164 by
// prefixing "+", and shown back without it. PUT sms/request adds an
// unconfirmed sms device (an earlier pending one for another number is
// abandoned) and sends it a code; PUT sms/verify confirms it, which makes
// it the primary device and turns two-factor on. DELETE /mfa/ removes every
// device, backup code and remembered browser, as deux's disable() cleared
// everything.
//
// The deux recovery code (GET /mfa/recovery/) is the user's one backup
// code: twelve upper-case hexadecimal characters, stored only as a keyed
// hash; getting one replaces the account's backup codes (and the previous
// recovery code). Signing in with it as backup_code turns two-factor off,
// as in deux.
//
// # Deliberate differences
//
// Where deux was insecure the core's rules apply, and the answers keep
// deux's shapes:
//   - Codes are throttled (after a failure, 429 {"detail": "Request was
//     throttled. Expected available in N seconds."} with Retry-After until
//     the backoff ends), single use, and a wrong backup_code counts as a
//     failed attempt.
//   - Signing in without a code sends the SMS once per cooldown
//     (phone.cooldown): inside it the answer is the same, and the code sent
//     before stays valid. The same holds for PUT sms/request to the same
//     number. Past the daily limit of sent codes the answer is 429.
//   - A sign-in with the recovery code is an audit event and, with email
//     configured, a notice to the user; it still turns two-factor off.
//   - GET /mfa/recovery/ needs a second factor verified within step_up_age
//     on the token (a sign-in with mfa_code, or the sms/verify that turned
//     two-factor on, both do): else 403 {"detail": …}. DELETE /mfa/ needs
//     no fresh verification, as in deux, but like every management
//     endpoint it refuses (403) a token that no second factor verified
//     while the user has two-factor on.
//   - Each sign-in issues a new token (deux reused one per user); tokens
//     expire and can be revoked (POST /api/v1/logout).
//   - A user whose primary device is not sms (set up on the pages or with
//     /api/v1) is "enabled": false here, and mfa_type at sign-in names the
//     primary's kind ("totp", …): mfa_code is checked against it.
package deux
