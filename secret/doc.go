// Package secret is the only place where twofactor handles secrets in usable
// form: the keys of authenticator devices, backup codes, remember-browser
// secrets, API tokens and the server's own secret key.
//
// It provides
//
//   - a [Keyring] built from the configured secret_key (and the older keys
//     listed in secret_keys_old) that encrypts values for storage with
//     AES-256-GCM ([Keyring.Seal], [Keyring.Open]), binding each ciphertext to
//     the table, column and row it belongs to ([AAD]) and naming the key that
//     sealed it, so keys can be rotated ([Keyring.NeedsRotation],
//     [Keyring.Reseal]);
//   - keyed hashes ([Keyring.Hash], [Keyring.Hashes]) for values the server
//     only ever compares and never needs back: backup codes, remember-browser
//     secrets, API tokens, login challenge ids;
//   - constant-time comparison ([Equal], [EqualString]);
//   - crypto-random generation ([RandomBytes], [RandomString], [Token],
//     [GenerateKey]);
//   - parsing and first-run creation of the secret key ([ParseKey],
//     [LoadOrCreateKeyFile]).
//
// Other packages hold ciphertext and hashes, and call this package for
// everything else. A copy of the database alone then reveals no usable secret.
//
// What this package must never do, and why:
//
//   - log, print or put a secret or key into an error message: logs and error
//     reports travel much further than the database does;
//   - return plaintext to a caller that did not ask for it: only [Keyring.Open]
//     returns plaintext, and only for the exact table, column and row it was
//     sealed for;
//   - use math/rand, or any source other than crypto/rand unless a caller
//     injects a reader (tests do, to be deterministic): predictable codes and
//     tokens can be guessed;
//   - compare secrets with == or bytes.Equal, whose running time reveals how
//     many leading bytes matched (timing attacks);
//   - panic on input read from storage or from users: a corrupted or hostile
//     value is an error, never a crash.
package secret
