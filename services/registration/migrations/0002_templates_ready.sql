-- When the templates service reported a migration's templates on the destination. Not tied to a saga row: its
-- event may arrive before the eligible verdict that creates the saga.
CREATE TABLE templates_ready (
    migration_id uuid PRIMARY KEY,
    ready_at     timestamptz NOT NULL
);
