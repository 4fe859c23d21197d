-- A migration that failed for good stops being worked on: copying to the destination of a number that is not
-- coming serves nobody. A failure may arrive before the eligible verdict, so it is kept apart from the row.
CREATE TABLE stopped (
    migration_id uuid PRIMARY KEY,
    reason_code  text NOT NULL,
    stopped_at   timestamptz NOT NULL
);
DROP INDEX migrations_to_work;
CREATE INDEX migrations_to_work ON migrations (not_before) WHERE phase NOT IN ('done', 'awaiting_signup', 'stopped');
