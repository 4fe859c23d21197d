-- One unfinished migration per number across all partners: a second request for a number that is still migrating
-- is refused by the database itself, however the two requests interleave. The states listed are
-- services/gateway/status.py TERMINAL; tests/unit keeps the two in agreement.
CREATE UNIQUE INDEX migrations_one_open_per_number ON migrations (phone_number)
    WHERE state NOT IN ('completed', 'failed', 'ineligible', 'not_needed');
