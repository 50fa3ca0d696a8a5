// Package loadtest measures the standalone server under load (SPEC §11 rows
// 3–7): it enrols many users with distinct TOTP keys, makes one login
// challenge per request beforehand, then drives a real server over TCP with
// concurrent clients sending POST /api/v1/login/verify with fresh, valid
// codes, and reports throughput, latency percentiles, errors, the server's
// CPU time per verification and its peak resident memory. The same client
// code drives a plain net/http handler for comparison, and [Startup] times
// `twofactor serve` from exec to a 200 on /readyz.
//
// The password step is not part of the load: the challenges are made with
// Service.BeginLogin before the clock starts, because argon2id dominates a
// full sign-in by design and is measured on its own (package password).
//
// # Codes and replay protection
//
// A TOTP device accepts each time step once, in increasing order, and with
// tolerance 1 the steps T+d−1, T+d and T+d+1 at the server's time step T,
// where d is the device's drift (the offset of its last match, kept as
// django-otp keeps it). A user therefore gives three verifications in the
// first 30-second window (steps t−1, t, t+1), then one per window; the
// clients never send a step past T+1, the newest code an authenticator app
// shows. The clients take users round-robin from a queue, each user at most
// once at a time, and send the user's next unused step valid now; in the
// last second of a window, when the request may arrive in the next one,
// only a step valid in both. Every request is a fresh, valid code on a fresh
// challenge, so any answer other than 200 is counted as an error. Runs that
// reuse an enrolment (Options.State) read each active user's last step and
// drift from the database; a user used in one run has its three codes back
// 60–90 seconds later.
//
// # Enrolment
//
// Users are written straight into the store in large batches: one argon2id
// hash computed once and shared by every user (nobody signs in with a
// password here), and a TOTP device per user whose 20-byte key is derived
// from a per-run seed and the user's number, sealed with the keyring for
// that device's row as the core seals keys, confirmed and primary. A sample
// user is then verified through the core service, which proves the rows are
// what the core would have written. Enrolment through Service.ImportTOTP is
// available for comparison ([EnrolCore]).
//
// # Server process
//
// By default the server runs in its own process, started by the caller
// through Options.Command (package loadgen re-executes itself): the
// internal/server handler that `twofactor serve` runs, on 127.0.0.1 with a
// port of its own, so its peak RSS (VmHWM in /proc/PID/status) and CPU time
// (/proc/PID/stat) are the server's alone. Options.InProcess serves from
// this process instead (tests); the RSS reported then includes the clients
// and the enrolment.
//
// The server runs the default configuration except the per-address sign-in
// limit, which is off: every client of the run has the address 127.0.0.1.
package loadtest
