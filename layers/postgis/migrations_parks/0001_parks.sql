-- Parks (QR poster places), their daily scan counts and the public's reports.
-- No personal data: scans are counts per park per Asia/Shanghai day; reports keep no address.
CREATE TABLE IF NOT EXISTS parks (
    slug text PRIMARY KEY,
    name text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('logistics_park', 'construction_site', 'service_area', 'industrial_park')),
    lon double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    lat double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    name_en text,
    address text,
    adcode text,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS park_scans (
    slug text NOT NULL,
    day date NOT NULL,
    scans bigint NOT NULL,
    PRIMARY KEY (slug, day)
);
CREATE TABLE IF NOT EXISTS park_reports (
    id bigserial PRIMARY KEY,
    station_id text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('locked', 'wrong_info', 'missing_facility', 'other')),
    note text NOT NULL DEFAULT '' CHECK (char_length(note) <= 500),
    created_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    resolved_at timestamptz
);
CREATE INDEX IF NOT EXISTS park_reports_open ON park_reports (status, kind, created_at);
