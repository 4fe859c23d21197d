-- Template duplication: one row per migration, its templates and their outcomes, the migration calls of each round
-- with their attempts, manual retries, and the registration instant downtime is measured from.
CREATE TABLE migrations (
    migration_id        uuid PRIMARY KEY,
    correlation_id      uuid NOT NULL,
    phone_number        text NOT NULL,
    source_waba_id      text,
    destination_waba_id text,
    round               int NOT NULL DEFAULT 0,
    phase               text NOT NULL,          -- awaiting_signup | plan | copy | verify | done
    template_limit      int,
    problem             text,
    failures            int NOT NULL DEFAULT 0,
    not_before          timestamptz NOT NULL,   -- no work before: a backoff, or an outcome window to wait out
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX migrations_to_work ON migrations (not_before) WHERE phase NOT IN ('done', 'awaiting_signup');
CREATE INDEX migrations_by_destination ON migrations (destination_waba_id);

CREATE TABLE templates (
    migration_id          uuid NOT NULL REFERENCES migrations (migration_id),
    name                  text NOT NULL,
    language              text NOT NULL,        -- en_US spelling, whatever Meta's webhooks write
    source_id             text NOT NULL,
    category              text,
    outcome               text NOT NULL,        -- migrate (this round) | migrated | already_present | skipped | ...
    reason_code           text,
    reason                text,
    meta_reason           text,                 -- what Meta's answer said about it this round
    template_id           text,                 -- the copy on the destination
    status                text,                 -- the copy's status, as Meta last told
    quality               text,
    usable_at             timestamptz,
    rating_window_ends_at timestamptz,
    PRIMARY KEY (migration_id, name, language)
);
CREATE INDEX templates_by_name ON templates (name, language);

CREATE TABLE calls (
    migration_id  uuid NOT NULL REFERENCES migrations (migration_id),
    round         int NOT NULL,
    number        int NOT NULL,
    generation    int NOT NULL DEFAULT 0,       -- 0: planned; n: sent again by id after n unanswered calls
    page_number   int,
    count         int NOT NULL,
    template_ids  text[] NOT NULL DEFAULT '{}',
    state         text NOT NULL DEFAULT 'open', -- open | answered | unknown (never answered, settled by a read)
    error         text,
    PRIMARY KEY (migration_id, round, number)
);

CREATE TABLE step_attempts (
    migration_id uuid NOT NULL,
    step         text NOT NULL,
    attempt      int NOT NULL,
    sent_at      timestamptz NOT NULL,
    settled_at   timestamptz,
    outcome      text,
    PRIMARY KEY (migration_id, step, attempt)
);

CREATE TABLE retry_requests (
    migration_id uuid NOT NULL,
    request_id   uuid NOT NULL,
    requested_at timestamptz NOT NULL,
    PRIMARY KEY (migration_id, request_id)
);

CREATE TABLE registrations (
    migration_id  uuid PRIMARY KEY,
    registered_at timestamptz NOT NULL
);
