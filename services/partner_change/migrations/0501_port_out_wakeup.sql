-- The port-out watch looks when a commit may have made a check due sooner (a new port-out, a moved check), from
-- whichever replica or code path committed it.
CREATE FUNCTION port_out_work_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('port_out_work', '');
    RETURN NULL;
END $$;
CREATE TRIGGER port_outs_work AFTER INSERT OR UPDATE OF next_check_at, state ON port_outs
    FOR EACH ROW EXECUTE FUNCTION port_out_work_changed();
