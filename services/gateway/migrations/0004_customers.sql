-- Customers (businesses) as callers of their own: each owns one Meta business portfolio, whose WABAs its keys reach.
CREATE TABLE customers (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    business_id text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE customer_keys (
    key_hash    bytea PRIMARY KEY,
    customer_id text NOT NULL REFERENCES customers (id),
    prefix      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
