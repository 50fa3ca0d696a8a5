-- twofactor schema version 6 (PostgreSQL): indexes for the periodic cleanup.
--
-- Every statement of Service.Cleanup finds its rows through an index. The
-- removal of stale setups scanned the whole device table: with a million
-- enrolled users that took 0.4 s on the writer, stalling every request
-- waiting for it, at every start and every cleanup round.

CREATE INDEX twofactor_devices_unconfirmed ON twofactor_devices (created_at) WHERE confirmed = FALSE;
CREATE INDEX twofactor_codes_expires ON twofactor_codes (expires_at);
CREATE INDEX twofactor_send_quota_day ON twofactor_send_quota (day);
