// Package config loads, validates and describes the configuration of the
// twofactor server.
//
// # Precedence
//
// Every key has a built-in default. [Load] starts from the defaults and then
// applies, in this order, each later layer overriding the earlier ones:
//
//  1. the optional configuration file (LoadOptions.File): TOML when its name
//     ends in .toml, YAML when it ends in .yaml or .yml;
//  2. the environment: the variable of a key is TWOFACTOR_ followed by the key
//     upper-cased with dots as underscores (totp.digits → TWOFACTOR_TOTP_DIGITS);
//  3. the command-line flags the user set explicitly (LoadOptions.Flags).
//
// So flags > environment > file > defaults. A variable that is set but empty
// sets the key to the empty value; it does not fall back to a lower layer.
// Every value that a layer provides is validated, even one that a higher layer
// overrides, so a broken file is reported rather than silently masked. An
// unknown key in the file or in the flags is an error; [UnknownEnv] lists
// TWOFACTOR_ variables that match no key, which Load cannot see.
//
// # Values
//
// Durations accept Go duration strings ("90s", "1h30m") and plain integers,
// read as seconds ("600"); a number in a file is seconds too. Booleans accept
// true/false, 1/0, yes/no and on/off. List keys take a comma-separated value in
// the environment and in flags, and a native list (or a comma-separated
// string) in files. The sign-in rate is COUNT/DURATION ("30/1m") or "off".
//
// # Errors
//
// Invalid configuration is reported as an error of one line that names the key,
// the reason and where the value came from, for example
//
//	config: totp.digits: must be 6 or 8 (got "7" from TWOFACTOR_TOTP_DIGITS)
//
// Values of secret keys (secret_key, secret_keys_old, twilio.auth_token,
// yubikey.api_key) never appear in errors or in the output of
// [Config.Redacted], [Config.String] and [Config.LogValue]; passwords inside
// database_url and email.smtp_url are masked.
//
// # Descriptions
//
// One table of key descriptors owns every key's name, default, environment
// variable, description, the seed setting it replaces and its parser. [Keys]
// returns it; [Usage] prints it for `twofactor serve --help` and [Markdown]
// renders the configuration reference.
package config
