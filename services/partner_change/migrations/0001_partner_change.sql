-- Partner changes: each partner's terms for changes towards it, the numbers we serve (projected from migration
-- events and from completed changes), the changes, their permission grants and the customers' idempotency keys.
CREATE TABLE partners (
    id                      text PRIMARY KEY,
    approval                text NOT NULL CHECK (approval IN ('auto', 'manual')),
    payment_processor       text NOT NULL,
    payment_method_required boolean NOT NULL
);

CREATE TABLE holdings (
    phone_number   text PRIMARY KEY,
    waba_id        text NOT NULL,
    business_id    text,
    partner_id     text NOT NULL,
    held           boolean NOT NULL DEFAULT false,  -- registered with us (not only asked for)
    managed        boolean NOT NULL DEFAULT true,   -- false after a change until the customer grants it
    open_migration uuid,                             -- a migration under way on the number
    settled        uuid                              -- the last migration that ended (late requests stay ended)
);
CREATE INDEX holdings_by_waba ON holdings (waba_id);

CREATE TABLE changes (
    id                      uuid PRIMARY KEY,
    waba_id                 text NOT NULL,
    business_id             text NOT NULL,
    customer_id             text NOT NULL,
    phone_numbers           text[] NOT NULL,
    source_partner          text NOT NULL,
    destination_partner     text NOT NULL,
    state                   text NOT NULL,
    payment_method_required boolean NOT NULL,
    approval                text NOT NULL,
    legal_name              text NOT NULL,
    country                 text NOT NULL,
    requested_at            timestamptz NOT NULL,
    deadline                timestamptz,
    transfer_at             timestamptz,
    ended_reason            text,
    updated_at              timestamptz NOT NULL
);
-- One open change per WABA, however two requests interleave.
CREATE UNIQUE INDEX changes_one_open_per_waba ON changes (waba_id)
    WHERE state NOT IN ('completed', 'declined', 'expired');
CREATE INDEX changes_due ON changes (state, deadline) WHERE state IN ('awaiting_approval', 'approved');

CREATE TABLE grants (
    change_id       uuid NOT NULL REFERENCES changes (id),
    seq             int NOT NULL,
    managed_numbers text[] NOT NULL,
    granted_at      timestamptz NOT NULL,
    PRIMARY KEY (change_id, seq)
);

CREATE TABLE idempotency_keys (
    customer_id  text NOT NULL,
    key          text NOT NULL,
    request_hash bytea NOT NULL,
    change_id    uuid NOT NULL,
    PRIMARY KEY (customer_id, key)
);
