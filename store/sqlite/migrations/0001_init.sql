-- twofactor schema version 1 (SQLite). Times are Unix microseconds, 0 = never.
-- Secrets are never stored in usable form: device keys are AES-256-GCM
-- ciphertexts bound to their row; codes and tokens are keyed hashes.

CREATE TABLE twofactor_users (
    id                  TEXT    PRIMARY KEY,
    username            TEXT    NOT NULL UNIQUE,
    email               TEXT    NOT NULL DEFAULT '',
    password_hash       TEXT    NOT NULL DEFAULT '',
    password_changed_at INTEGER NOT NULL DEFAULT 0,
    staff               INTEGER NOT NULL DEFAULT 0,
    active              INTEGER NOT NULL DEFAULT 1,
    created_at          INTEGER NOT NULL
) STRICT;

-- user_id has no foreign key: users may live in the host application.
CREATE TABLE twofactor_devices (
    id           TEXT    PRIMARY KEY,
    user_id      TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    confirmed    INTEGER NOT NULL,
    is_primary   INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0,
    secret       BLOB,
    algorithm    TEXT    NOT NULL DEFAULT '',
    digits       INTEGER NOT NULL DEFAULT 0,
    step         INTEGER NOT NULL DEFAULT 0,
    t0           INTEGER NOT NULL DEFAULT 0,
    tolerance    INTEGER NOT NULL DEFAULT 0,
    drift        INTEGER NOT NULL DEFAULT 0,
    counter      INTEGER NOT NULL DEFAULT -1,
    destination  TEXT    NOT NULL DEFAULT '',
    data         BLOB,
    fail_count   INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX twofactor_devices_user ON twofactor_devices (user_id, created_at);
-- At most one primary device and one backup-code device per user.
CREATE UNIQUE INDEX twofactor_devices_one_primary ON twofactor_devices (user_id) WHERE is_primary = 1;
CREATE UNIQUE INDEX twofactor_devices_one_static ON twofactor_devices (user_id) WHERE kind = 'static';

CREATE TABLE twofactor_backup_codes (
    device_id TEXT NOT NULL REFERENCES twofactor_devices (id) ON DELETE CASCADE,
    code_hash BLOB NOT NULL,
    PRIMARY KEY (device_id, code_hash)
) STRICT, WITHOUT ROWID;

CREATE TABLE twofactor_user_throttles (
    user_id      TEXT    PRIMARY KEY,
    fail_count   INTEGER NOT NULL,
    locked_until INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE twofactor_challenges (
    id_hash    BLOB    PRIMARY KEY,
    user_id    TEXT    NOT NULL,
    device_id  TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;
CREATE INDEX twofactor_challenges_user ON twofactor_challenges (user_id);
CREATE INDEX twofactor_challenges_expires ON twofactor_challenges (expires_at);

CREATE TABLE twofactor_audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    user_id     TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    device_id   TEXT    NOT NULL DEFAULT '',
    device_kind TEXT    NOT NULL DEFAULT '',
    outcome     TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    address     TEXT    NOT NULL DEFAULT '',
    user_agent  TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX twofactor_audit_user ON twofactor_audit (user_id, id);
