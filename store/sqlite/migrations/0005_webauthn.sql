-- twofactor schema version 5 (SQLite): WebAuthn security keys.

-- Ceremonies in progress (a registration, or an assertion for a sign-in or
-- a step-up), kept server-side and used once: only a keyed hash of the
-- ceremony token is stored, the library's session data is sealed, and a
-- ceremony is consumed by one DELETE … RETURNING. binding_hash is the login
-- challenge's (sign-in) or the session's (step-up) hash, NULL for a
-- registration. Ceremonies live five minutes.
CREATE TABLE twofactor_webauthn_ceremonies (
    id_hash      BLOB    PRIMARY KEY,
    user_id      TEXT    NOT NULL,
    purpose      TEXT    NOT NULL,
    binding_hash BLOB,
    session      BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX twofactor_webauthn_ceremonies_expires ON twofactor_webauthn_ceremonies (expires_at);

-- A security key is registered at most once per user: its destination is
-- the credential id (base64url).
CREATE UNIQUE INDEX twofactor_devices_webauthn_credential ON twofactor_devices (user_id, destination) WHERE kind = 'webauthn';
