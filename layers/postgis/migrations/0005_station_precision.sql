-- Issue 19: a station placed from its address says how well its point stands for the place
-- (exact, or a town's or county's centre); who confirmed an entry is kept beside verified_at;
-- hours a source wrote in words that are not opening_hours syntax are kept as written.
ALTER TABLE stations ADD COLUMN IF NOT EXISTS location_precision text NOT NULL DEFAULT 'exact'
    CHECK (location_precision IN ('exact', 'town', 'county'));
ALTER TABLE stations ADD COLUMN IF NOT EXISTS verified_by text;
ALTER TABLE stations ADD COLUMN IF NOT EXISTS hours_text text;
