-- The audit trail: one row per changed station, written in the transaction of the change.
-- `before`/`after` are snapshots (layers/audit.py): a JSON array of the station's fields in
-- `layers.model.STATION_FIELDS` order (compact: a 1,000,000-row import writes 1,000,000 of
-- them), or NULL when the station did not exist before / does not exist after.
-- `seq` orders every write; it grows with the physical order of the table, so a BRIN index
-- finds one seq (a revert) at next to no cost per write, where a b-tree would cost every row.
CREATE TABLE station_audit (
    seq        bigint GENERATED ALWAYS AS IDENTITY,
    station_id text COLLATE "C" NOT NULL,
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text,
    action     text NOT NULL CHECK (action IN ('create', 'update', 'delete', 'import', 'revert')),
    before     jsonb,
    after      jsonb
);
-- A station's history, newest first.
CREATE INDEX station_audit_station ON station_audit (station_id, seq);
CREATE INDEX station_audit_seq ON station_audit USING brin (seq);
