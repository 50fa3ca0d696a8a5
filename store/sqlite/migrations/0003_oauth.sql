-- twofactor schema version 3 (SQLite): OAuth 2.0 clients and refresh tokens.
-- Access tokens are sessions of kind 'token' (twofactor_sessions).

-- Clients of the token endpoint. Only a keyed hash of the secret is stored.
CREATE TABLE twofactor_oauth_clients (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL,
    secret_hash BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

-- Refresh tokens, as keyed hashes. A token is used once: rotation marks it
-- used (used_at) and keeps it until it expires, so that a second use is
-- recognised as theft and revokes its family (every token rotated from the
-- same grant) with the access sessions issued with them (access_hash).
CREATE TABLE twofactor_oauth_refresh_tokens (
    id_hash     BLOB    PRIMARY KEY,
    family_id   TEXT    NOT NULL,
    client_id   TEXT    NOT NULL REFERENCES twofactor_oauth_clients (id) ON DELETE CASCADE,
    user_id     TEXT    NOT NULL,
    device_id   TEXT    NOT NULL DEFAULT '',
    verified_at INTEGER NOT NULL DEFAULT 0,
    scope       TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER NOT NULL DEFAULT 0,
    access_hash BLOB    NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX twofactor_oauth_refresh_family ON twofactor_oauth_refresh_tokens (family_id);
CREATE INDEX twofactor_oauth_refresh_client ON twofactor_oauth_refresh_tokens (client_id);
CREATE INDEX twofactor_oauth_refresh_user ON twofactor_oauth_refresh_tokens (user_id);
CREATE INDEX twofactor_oauth_refresh_access ON twofactor_oauth_refresh_tokens (access_hash);
CREATE INDEX twofactor_oauth_refresh_expires ON twofactor_oauth_refresh_tokens (expires_at);
