-- Stations of every layer, WGS-84. `geog` follows lon/lat (a generated column), so a writer
-- cannot let them disagree. Ids sort in the C collation: byte order, the same order Python
-- sorts them in (the embedded store), so paging and ties agree between the stores.
CREATE TABLE stations (
    id          text COLLATE "C" PRIMARY KEY,
    layer       text NOT NULL,
    lon         double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    lat         double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    geog        geography(Point, 4326)
                GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography) STORED,
    name        text NOT NULL,
    name_en     text,
    address     text,
    adcode      text,
    phone       text,
    hours       text,
    services    text[] NOT NULL DEFAULT '{}',
    access      text NOT NULL DEFAULT 'open',
    status      text NOT NULL DEFAULT 'open',
    origins     text[] NOT NULL DEFAULT '{}',
    items       text[] NOT NULL DEFAULT '{}',
    operator    text,
    source      text,
    verified_at date,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Nearest (KNN `<->` on the sphere) and radius (ST_DWithin) searches.
CREATE INDEX stations_geog_gist ON stations USING gist (geog);
-- Bounding-box listings work in lon/lat degrees: a planar index on the same point.
CREATE INDEX stations_geom_gist ON stations USING gist ((geog::geometry));
-- A home county is served by few stations: the origin filter can start from this index.
-- (Layer and service filters match a large share of stations each, so the KNN scan filters
-- them as it goes; indexes on them would cost every write and be left unused.)
CREATE INDEX stations_origins_gin ON stations USING gin (origins);
