-- twofactor schema version 2 (SQLite): sessions, remembered browsers, policy.

-- Sessions of browsers (kind 'web') and API clients (kind 'token'). Only a
-- keyed hash of the session token is stored; data is sealed.
CREATE TABLE twofactor_sessions (
    id_hash      BLOB    PRIMARY KEY,
    kind         TEXT    NOT NULL,
    user_id      TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    device_id    TEXT    NOT NULL DEFAULT '',
    verified_at  INTEGER NOT NULL DEFAULT 0,
    data         BLOB
) STRICT, WITHOUT ROWID;
CREATE INDEX twofactor_sessions_user ON twofactor_sessions (user_id);
CREATE INDEX twofactor_sessions_device ON twofactor_sessions (device_id) WHERE device_id <> '';
CREATE INDEX twofactor_sessions_expires ON twofactor_sessions (expires_at);

-- Browsers allowed to skip the second step; the browser keeps the secret,
-- the server its keyed hash.
CREATE TABLE twofactor_browsers (
    id           TEXT    PRIMARY KEY,
    user_id      TEXT    NOT NULL,
    device_id    TEXT    NOT NULL,
    secret_hash  BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0,
    user_agent   TEXT    NOT NULL DEFAULT '',
    address      TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX twofactor_browsers_user ON twofactor_browsers (user_id);
CREATE INDEX twofactor_browsers_device ON twofactor_browsers (device_id);

-- When an enforcement policy first reached a user (for policy_grace).
CREATE TABLE twofactor_policy (
    user_id TEXT    PRIMARY KEY,
    since   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
