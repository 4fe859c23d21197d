-- The port-out watch looks when a commit may have made a check due sooner: a new port-out, a moved check
-- (notify_work: migrations/0002).
CREATE TRIGGER port_outs_work AFTER INSERT OR UPDATE OF next_check_at, state ON port_outs
    FOR EACH ROW EXECUTE FUNCTION notify_work('port_out_work');
