-- What the saga's observability needs: the trace its steps continue (the W3C traceparent of the span that created
-- the saga; NULL when untraced), and since when it is in its current state (for the step-duration histogram).
ALTER TABLE sagas ADD COLUMN traceparent text, ADD COLUMN state_since timestamptz;
UPDATE sagas SET state_since = updated_at;

-- Kept by the database, so every writer (a step, a handler, the queue's bulk start) moves it the same way.
CREATE FUNCTION saga_state_since() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.state IS DISTINCT FROM OLD.state THEN
        NEW.state_since := NEW.updated_at;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER sagas_state_since BEFORE INSERT OR UPDATE OF state ON sagas
    FOR EACH ROW EXECUTE FUNCTION saga_state_since();
