-- twofactor schema version 1 (PostgreSQL). Times are Unix microseconds, 0 = never.
-- Secrets are never stored in usable form: device keys are AES-256-GCM
-- ciphertexts bound to their row; codes and tokens are keyed hashes.

CREATE TABLE twofactor_users (
    id                  TEXT    PRIMARY KEY,
    username            TEXT    NOT NULL UNIQUE,
    email               TEXT    NOT NULL DEFAULT '',
    password_hash       TEXT    NOT NULL DEFAULT '',
    password_changed_at BIGINT  NOT NULL DEFAULT 0,
    staff               BOOLEAN NOT NULL DEFAULT FALSE,
    active              BOOLEAN NOT NULL DEFAULT TRUE,
    created_at          BIGINT  NOT NULL
);

-- user_id has no foreign key: users may live in the host application.
CREATE TABLE twofactor_devices (
    id           TEXT    PRIMARY KEY,
    user_id      TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    confirmed    BOOLEAN NOT NULL,
    is_primary   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   BIGINT  NOT NULL,
    last_used_at BIGINT  NOT NULL DEFAULT 0,
    secret       BYTEA,
    algorithm    TEXT    NOT NULL DEFAULT '',
    digits       INTEGER NOT NULL DEFAULT 0,
    step         INTEGER NOT NULL DEFAULT 0,
    t0           BIGINT  NOT NULL DEFAULT 0,
    tolerance    INTEGER NOT NULL DEFAULT 0,
    drift        BIGINT  NOT NULL DEFAULT 0,
    counter      BIGINT  NOT NULL DEFAULT -1,
    destination  TEXT    NOT NULL DEFAULT '',
    data         BYTEA,
    fail_count   INTEGER NOT NULL DEFAULT 0,
    locked_until BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX twofactor_devices_user ON twofactor_devices (user_id, created_at);
-- At most one primary device and one backup-code device per user.
CREATE UNIQUE INDEX twofactor_devices_one_primary ON twofactor_devices (user_id) WHERE is_primary;
CREATE UNIQUE INDEX twofactor_devices_one_static ON twofactor_devices (user_id) WHERE kind = 'static';

CREATE TABLE twofactor_backup_codes (
    device_id TEXT NOT NULL REFERENCES twofactor_devices (id) ON DELETE CASCADE,
    code_hash BYTEA NOT NULL,
    PRIMARY KEY (device_id, code_hash)
);

CREATE TABLE twofactor_user_throttles (
    user_id      TEXT    PRIMARY KEY,
    fail_count   INTEGER NOT NULL,
    locked_until BIGINT  NOT NULL
);

CREATE TABLE twofactor_challenges (
    id_hash    BYTEA    PRIMARY KEY,
    user_id    TEXT    NOT NULL,
    device_id  TEXT    NOT NULL DEFAULT '',
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX twofactor_challenges_user ON twofactor_challenges (user_id);
CREATE INDEX twofactor_challenges_expires ON twofactor_challenges (expires_at);

CREATE TABLE twofactor_audit (
    id          BIGINT  PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    at          BIGINT  NOT NULL,
    user_id     TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    device_id   TEXT    NOT NULL DEFAULT '',
    device_kind TEXT    NOT NULL DEFAULT '',
    outcome     TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    address     TEXT    NOT NULL DEFAULT '',
    user_agent  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX twofactor_audit_user ON twofactor_audit (user_id, id);
