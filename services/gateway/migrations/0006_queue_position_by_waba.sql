-- A batch's queue positions count the earlier unfinished migrations of the same partner and destination WABA. Through
-- migrations_by_partner that read walked every migration the partner ever started (a batch of 500 after 1,000 others:
-- 0.4 ms of PostgreSQL per row); by WABA it reads that WABA's own few.
CREATE INDEX migrations_by_destination ON migrations (partner_id, destination_waba_id, created_at, id);
