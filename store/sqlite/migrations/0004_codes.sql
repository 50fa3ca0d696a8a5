-- twofactor schema version 4 (SQLite): codes sent by SMS, voice call and email.

-- The one pending code of an sms, call or email device: a keyed hash, when
-- it was sent (for the cooldown) and until when it is valid.
CREATE TABLE twofactor_codes (
    device_id  TEXT    PRIMARY KEY REFERENCES twofactor_devices (id) ON DELETE CASCADE,
    code_hash  BLOB    NOT NULL,
    sent_at    INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Codes sent per user and UTC day (day = Unix day number), for the daily cap
-- that stops SMS pumping.
CREATE TABLE twofactor_send_quota (
    user_id TEXT    NOT NULL,
    day     INTEGER NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (user_id, day)
) STRICT, WITHOUT ROWID;

-- Voice-call scripts, fetched by the voice provider's callback with the
-- opaque call id (only its keyed hash is stored; the script is sealed).
CREATE TABLE twofactor_calls (
    id_hash    BLOB    PRIMARY KEY,
    device_id  TEXT    NOT NULL,
    script     BLOB    NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX twofactor_calls_expires ON twofactor_calls (expires_at);
