-- One precheck report per migration request: the audit trail of every check and its outcome.
CREATE TABLE reports (
    migration_id uuid PRIMARY KEY,
    phone_number text NOT NULL,
    partner_id   text NOT NULL,
    outcome      text NOT NULL,
    report       jsonb NOT NULL,
    decided_at   timestamptz NOT NULL
);
CREATE INDEX reports_phone ON reports (phone_number);
