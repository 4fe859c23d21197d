-- The rounds loop looks for work when a commit may have made some (a new or changed migration, a manual retry),
-- whichever replica or code path committed it; PostgreSQL delivers the notification at commit.
CREATE FUNCTION templates_work_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('templates_work', '');
    RETURN NULL;
END $$;
CREATE TRIGGER migrations_work AFTER INSERT OR UPDATE OF phase, not_before, destination_waba_id ON migrations
    FOR EACH ROW EXECUTE FUNCTION templates_work_changed();
CREATE TRIGGER retries_work AFTER INSERT ON retry_requests
    FOR EACH ROW EXECUTE FUNCTION templates_work_changed();
