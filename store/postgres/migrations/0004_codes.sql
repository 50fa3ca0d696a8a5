-- twofactor schema version 4 (PostgreSQL): codes sent by SMS, voice call and email.

-- The one pending code of an sms, call or email device: a keyed hash, when
-- it was sent (for the cooldown) and until when it is valid.
CREATE TABLE twofactor_codes (
    device_id  TEXT    PRIMARY KEY REFERENCES twofactor_devices (id) ON DELETE CASCADE,
    code_hash  BYTEA    NOT NULL,
    sent_at    BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);

-- Codes sent per user and UTC day (day = Unix day number), for the daily cap
-- that stops SMS pumping.
CREATE TABLE twofactor_send_quota (
    user_id TEXT    NOT NULL,
    day     BIGINT  NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (user_id, day)
);

-- Voice-call scripts, fetched by the voice provider's callback with the
-- opaque call id (only its keyed hash is stored; the script is sealed).
CREATE TABLE twofactor_calls (
    id_hash    BYTEA    PRIMARY KEY,
    device_id  TEXT    NOT NULL,
    script     BYTEA    NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX twofactor_calls_expires ON twofactor_calls (expires_at);
