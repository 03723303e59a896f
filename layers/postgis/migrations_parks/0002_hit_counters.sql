-- Shared hit counters (layers/counters.py): rate limits and "once per client per hour" scan
-- checks that hold across workers and machines. `key` is a name and an HMAC of the client under
-- the day's secret (no address); `expires` is the end of the key's window, in Unix seconds.
CREATE TABLE IF NOT EXISTS hit_counters (
    key text PRIMARY KEY,
    hits bigint NOT NULL,
    expires double precision NOT NULL
);
-- One random secret per Asia/Shanghai day, shared by every process; other days' are deleted.
CREATE TABLE IF NOT EXISTS day_secrets (
    day text PRIMARY KEY,
    secret bytea NOT NULL
);
