-- The scheduler looks for work when a commit changed what may have become runnable (a saga's state, a timer),
-- whichever replica or code path committed it; PostgreSQL delivers the notification at commit, once per transaction.
CREATE FUNCTION registration_work_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('registration_work', '');
    RETURN NULL;
END $$;
CREATE TRIGGER sagas_work AFTER INSERT OR UPDATE OF state ON sagas
    FOR EACH ROW EXECUTE FUNCTION registration_work_changed();
CREATE TRIGGER timers_work AFTER INSERT OR UPDATE ON timers
    FOR EACH ROW EXECUTE FUNCTION registration_work_changed();
