-- The registration saga: one row per migration, every side-effecting step attempt, durable timers, API keys.
CREATE TABLE sagas (
    migration_id        uuid PRIMARY KEY,
    correlation_id      uuid NOT NULL,
    phone_number        text NOT NULL,
    partner_id          text NOT NULL,
    business_id         text NOT NULL,
    destination_waba_id text NOT NULL,
    source_waba_id      text,
    flow                text NOT NULL,
    source              text NOT NULL,
    state               text NOT NULL,
    phone_number_id     text,
    obo_request_id      text,
    pin_ciphertext      bytea,
    code_requests       int NOT NULL DEFAULT 0,
    code_method         text NOT NULL DEFAULT 'SMS',
    wrong_codes         int NOT NULL DEFAULT 0,
    obo_reminders       int NOT NULL DEFAULT 0,
    escalations         text[] NOT NULL DEFAULT '{}',
    completed_at        timestamptz,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX sagas_by_waba ON sagas (destination_waba_id, created_at);

CREATE TABLE step_attempts (
    migration_id uuid NOT NULL REFERENCES sagas (migration_id),
    step         text NOT NULL,
    attempt      int NOT NULL,
    sent_at      timestamptz NOT NULL,
    settled_at   timestamptz,
    outcome      text,
    PRIMARY KEY (migration_id, step, attempt)
);

CREATE TABLE timers (
    migration_id uuid NOT NULL REFERENCES sagas (migration_id),
    kind         text NOT NULL,
    due_at       timestamptz NOT NULL,
    PRIMARY KEY (migration_id, kind)
);
CREATE INDEX timers_due ON timers (due_at);

CREATE TABLE api_keys (
    migration_id   uuid PRIMARY KEY REFERENCES sagas (migration_id),
    partner_id     text NOT NULL,
    key_hash       bytea NOT NULL UNIQUE,
    key_prefix     text NOT NULL,
    key_ciphertext bytea,
    issued_at      timestamptz NOT NULL,
    revealed_at    timestamptz
);
