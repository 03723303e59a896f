-- Who sent a report, without saying who: `client` is an HMAC of the sender under the day's secret
-- (day_secrets; deleted the next day), `day` its Asia/Shanghai date. A kind counts once per client
-- per station per day (the unique index); "多人反映" counts distinct clients. Older rows have
-- neither and count as one client each.
ALTER TABLE park_reports ADD COLUMN IF NOT EXISTS client text;
ALTER TABLE park_reports ADD COLUMN IF NOT EXISTS day date;
CREATE UNIQUE INDEX IF NOT EXISTS park_reports_once ON park_reports (station_id, kind, client, day)
    WHERE client IS NOT NULL;
