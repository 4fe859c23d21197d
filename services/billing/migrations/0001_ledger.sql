-- Billing: each number's holder timeline, each message's merged state with its current attribution (the ledger),
-- per-partner daily totals, and the views analysts and the gateway read. Instants are epoch microseconds in the
-- tables (exact, and cheap to write in bulk); the views show them as timestamptz.

CREATE TABLE holder_changes (
    phone_number    text NOT NULL,
    changed_at_us   bigint NOT NULL,
    kind            text NOT NULL,
    from_partner    text NOT NULL,
    to_partner      text NOT NULL,
    migration_id    uuid,
    source_event_id uuid NOT NULL UNIQUE,
    PRIMARY KEY (phone_number, changed_at_us, source_event_id)
);

-- Every Graph id a number was seen under (the source WABA's and, after a migration, the destination's).
CREATE TABLE number_ids (
    phone_number_id text PRIMARY KEY,
    phone_number    text NOT NULL
);

CREATE TABLE messages (
    phone_number    text NOT NULL,
    wamid           text NOT NULL,
    waba_id         text NOT NULL,
    sent_at_us      bigint NOT NULL,
    first_rank      smallint NOT NULL,
    delivered_at_us bigint,
    failed          boolean NOT NULL,
    priced_at_us    bigint,
    priced_rank     smallint,
    category        text,
    pricing_type    text,
    billable_flag   smallint,
    pricing_model   text,
    version         integer NOT NULL,
    partner         text,
    rule            text,
    migration_id    uuid,
    billable        boolean,
    revision        integer NOT NULL,
    PRIMARY KEY (phone_number, wamid)
) WITH (fillfactor = 80);
CREATE INDEX messages_by_send ON messages (phone_number, sent_at_us);

CREATE TABLE day_totals (
    partner  text NOT NULL,
    day      date NOT NULL,
    category text NOT NULL,
    messages bigint NOT NULL,
    billable bigint NOT NULL,
    PRIMARY KEY (partner, day, category)
);

CREATE VIEW ledger AS
SELECT phone_number, wamid AS message_id, partner, rule, migration_id,
       timestamptz 'epoch' + sent_at_us * interval '1 microsecond' AS sent_at,
       timestamptz 'epoch' + delivered_at_us * interval '1 microsecond' AS delivered_at,
       category AS pricing_category, nullif(pricing_type, '') AS pricing_type, billable, version AS attribution_version,
       (timestamptz 'epoch' + sent_at_us * interval '1 microsecond') AT TIME ZONE 'UTC' AS sent_at_utc
FROM messages
WHERE partner IS NOT NULL;

CREATE VIEW daily_totals AS
SELECT partner, day, category AS pricing_category, messages, billable
FROM day_totals
WHERE messages <> 0;

CREATE VIEW holder_timeline AS
SELECT phone_number, timestamptz 'epoch' + changed_at_us * interval '1 microsecond' AS changed_at, kind,
       from_partner, to_partner, migration_id
FROM holder_changes;
