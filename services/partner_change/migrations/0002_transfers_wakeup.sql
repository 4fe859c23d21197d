-- Background loops look when a commit may have made work for them, whichever replica or code path committed it:
-- a trigger names the loop's channel, and PostgreSQL delivers the notification at commit. Here the transfer loop:
-- a change approved, requested with a deadline, or ended.
CREATE FUNCTION notify_work() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_ARGV[0], '');
    RETURN NULL;
END $$;
CREATE TRIGGER changes_work AFTER INSERT OR UPDATE OF state, deadline ON changes
    FOR EACH ROW EXECUTE FUNCTION notify_work('partner_change_work');
