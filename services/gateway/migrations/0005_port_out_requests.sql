-- Port-outs asked through the API: who asked, for which number, on whose behalf. Their progress is partner_change's
-- (partner_change.port_outs, read as billing's views are); a port-out's Idempotency-Keys live beside migrations' keys
-- under a caller name of their own ("port-out:<caller>").
CREATE TABLE port_out_requests (
    id           uuid PRIMARY KEY,
    phone_number text NOT NULL,
    waba_id      text NOT NULL,
    partner_id   text NOT NULL,
    business_id  text,
    requested_by text NOT NULL,
    created_at   timestamptz NOT NULL
);
CREATE INDEX port_out_requests_by_number ON port_out_requests (phone_number);
