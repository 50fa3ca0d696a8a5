// Package yubikey verifies Yubico OTPs, the 32-character-plus-public-id
// strings a YubiKey types when its button is touched, in the two ways a
// server can check them:
//
//   - locally, for a device whose AES-128 key and private id the server
//     holds: [ParseToken] splits the token, [Decrypt] opens the block and
//     checks its CRC, and [Verify] does the whole check — public id, CRC,
//     private id and the replay rule — in one call;
//   - remotely, through a validation service speaking Yubico's validation
//     protocol 2.0 (YubiCloud by default): [Client.Verify] sends a signed
//     request with a crypto-random nonce and accepts only a response whose
//     signature, nonce and OTP echo all check out and whose status is OK.
//
// # Tokens
//
// A token is modhex text (see [EncodeModhex]): an optional public id of 0 to
// 32 modhex characters (12 on devices as shipped), which names the device,
// followed by 32 modhex characters that carry one AES-128 block. The
// decrypted block holds the device's private id, its counters, a timestamp,
// random bytes and a CRC-16; see [OTP].
//
// # Replay
//
// Every OTP carries a monotonic counter, [OTP.Counter]. A store must accept an
// OTP only when its counter is strictly greater than the last one accepted for
// the device, and must record the new value with one atomic conditional
// update (for example "UPDATE … SET counter = ? WHERE id = ? AND counter < ?")
// so that two concurrent requests carrying the same token cannot both win.
// [Verify] applies the rule to the value the caller read; the conditional
// write is what makes it hold under concurrency.
//
// # What this package must never do
//
//   - accept a token twice: local verification enforces the counter rule
//     above, and remote verification reports the service's REPLAYED_OTP as
//     [ErrReplayed];
//   - compare a secret, an id, a signature, a nonce or an echoed OTP with ==:
//     every such comparison uses crypto/subtle or crypto/hmac;
//   - use math/rand: nonces come from crypto/rand (or the io.Reader the
//     caller supplies, for tests);
//   - log or put into an error message an AES key, an API key, a private id
//     or a token: errors name what was wrong, never the secret values;
//   - trust an unsigned validation response by default: django-otp-yubikey
//     accepted unsigned responses when no API key was configured, so anyone
//     on the network path could answer "status=OK"; here a [Client] without
//     an API key refuses to run unless AllowUnsigned is set explicitly;
//   - panic, whatever the input.
//
// The package is self-contained (standard library only), stores nothing and
// reads no clock.
package yubikey
