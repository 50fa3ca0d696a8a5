// Package twofactor is two-factor authentication for Go: the core service
// that every front end — web pages, the JSON API, the deux-compatible API,
// OAuth2, the CLI — calls for every two-factor decision.
//
// # A tour
//
// A [Service] is built from a [Store] (store/sqlite or store/postgres), a
// [secret.Keyring] that encrypts device keys and hashes codes, and
// [Options]:
//
//	svc, err := twofactor.New(twofactor.Config{Store: st, Keys: keys, Options: twofactor.DefaultOptions()})
//
// Users come from a [UserSource]: the standalone server keeps its own
// ([BuiltinUsers]); an application passes an adapter over its user table.
//
// Sign-in is two steps. [Service.Login] (or [Service.BeginLogin] when the
// application checked the password itself) returns a [LoginResult]; when a
// second factor is needed it carries a token for a persisted, expiring login
// challenge, which [Service.Challenge] describes and [Service.CompleteLogin]
// finishes with a code. Every front end uses the same challenge, so the same
// rules apply whichever door the user came through.
//
// Devices are enrolled with [Service.AddTOTP] and confirmed with
// [Service.ConfirmDevice]; the first confirmed device becomes the primary one
// (two-factor is then on) and comes with a set of backup codes. Codes are
// checked by [Service.Verify]: against exactly one device, throttled per
// device and per user, consumed atomically so that none verifies twice.
// Sensitive changes ([Service.SetPrimary], [Service.RemoveDevice],
// [Service.RegenerateBackupCodes], [Service.Disable]) take an [Actor] and
// need a recent second factor (step-up) unless an operator acts.
//
// Every refusal is an [*Error] with a stable [Code]; every security-relevant
// event goes to the audit trail and to the [Hook]s.
//
// # What this package never does
//
// It never stores a device key, backup code or token in usable form, never
// compares a secret with ==, never reads the clock or randomness except
// through [Clock] and Config.Rand, never tries a code against several
// devices, and never lets an adapter decide a security rule: adapters
// translate requests to Service calls and results to responses.
package twofactor
