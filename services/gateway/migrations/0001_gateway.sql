-- Partners and their API keys (only hashes are stored), idempotency keys, and the migration status read model.
CREATE TABLE partners (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE api_keys (
    key_hash   bytea PRIMARY KEY,
    partner_id text NOT NULL REFERENCES partners (id),
    prefix     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE TABLE idempotency_keys (
    partner_id   text NOT NULL,
    key          text NOT NULL,
    request_hash bytea NOT NULL,
    migration_id uuid NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (partner_id, key)
);
CREATE TABLE migrations (
    id                  uuid PRIMARY KEY,
    partner_id          text NOT NULL,
    phone_number        text NOT NULL,
    phone_number_typed  text NOT NULL,
    business_id         text NOT NULL,
    destination_waba_id text NOT NULL,
    source_waba_id      text,
    flow                text NOT NULL,
    source              text NOT NULL,
    state               text NOT NULL,
    next_action         text NOT NULL,
    detail              jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX migrations_by_partner ON migrations (partner_id, created_at DESC, id DESC);
CREATE INDEX migrations_by_number ON migrations (partner_id, phone_number);
CREATE TABLE timeline (
    migration_id uuid NOT NULL REFERENCES migrations (id),
    event_id     uuid NOT NULL,
    type         text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    payload      jsonb NOT NULL,
    PRIMARY KEY (migration_id, event_id)
);
