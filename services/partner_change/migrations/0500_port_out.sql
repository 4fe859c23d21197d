-- Port-outs: one row per number leaving us, its path (customer or operations ticket), the ticket's clock, and the
-- departure instant billing stops at. A number has at most one open port-out.
CREATE TABLE port_outs (
    id               uuid PRIMARY KEY,
    phone_number     text NOT NULL,
    phone_number_id  text NOT NULL,
    waba_id          text NOT NULL,
    partner_id       text NOT NULL,
    requested_by     text NOT NULL,
    requested_at     timestamptz NOT NULL,
    ownership        text NOT NULL,
    path             text NOT NULL,
    state            text NOT NULL,
    steps            jsonb NOT NULL,
    ticket           jsonb,
    due_at           timestamptz,
    reminders        integer NOT NULL DEFAULT 0,
    next_reminder_at timestamptz,
    escalated_at     timestamptz,
    two_step_off_at  timestamptz,
    ticket_closed_at timestamptz,
    departed_at      timestamptz,
    detected_by      text,
    subscription     text,
    next_check_at    timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
CREATE UNIQUE INDEX port_outs_one_open_per_number ON port_outs (phone_number) WHERE state <> 'departed';
CREATE INDEX port_outs_due ON port_outs (next_check_at) WHERE state <> 'departed';
