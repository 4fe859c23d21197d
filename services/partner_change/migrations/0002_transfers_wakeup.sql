-- The transfer loop looks when a commit may have made work for it (a change approved, requested with a deadline,
-- or ended), whichever replica or code path committed it; PostgreSQL delivers the notification at commit.
CREATE FUNCTION partner_change_work_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('partner_change_work', '');
    RETURN NULL;
END $$;
CREATE TRIGGER changes_work AFTER INSERT OR UPDATE OF state, deadline ON changes
    FOR EACH ROW EXECUTE FUNCTION partner_change_work_changed();
