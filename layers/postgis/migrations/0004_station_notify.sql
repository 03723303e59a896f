-- Every process keeps a mirror of the stations for nearest answers (layers/pg_mirror.py) and
-- follows changes through NOTIFY on channel yizhan_stations. The store's own writes announce
-- the ids they wrote and set yizhan.notified; any other write to the table (psql, another
-- tool, a TRUNCATE) is announced here, once per statement, as '*': mirrors read everything again.
CREATE FUNCTION yizhan_stations_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('yizhan.notified', true), '') <> 'on' THEN
        PERFORM pg_notify('yizhan_stations', '*');
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER stations_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON stations
    FOR EACH STATEMENT EXECUTE FUNCTION yizhan_stations_changed();
