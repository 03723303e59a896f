"""PostGIS store benchmark: nearest through the store vs the raw KNN query, COPY import, agreement.

    python -m bench.postgis                          # 100,000 and 1,000,000 stations
    python -m bench.postgis --sizes 20000 --queries 500 --check 200 --no-write

It starts its own throwaway PostgreSQL cluster (tests/pgfixtures.PgCluster). For each size:
import every station through `PostgisStore.import_rows` (COPY + upsert, one transaction);
time k=5 nearest through the store — from its in-process mirror (the default) and by SQL
(`mirror=False`: fetched by `<->`, re-ranked in Python) — against the same KNN query run raw
on one psycopg2 connection (sphere order only, 5 rows); then check that both ways give the
same ids and distances as the embedded store for random queries with random filters.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

import numpy as np

from bench.results import machine, write_section

K = 5
LAYERS = ("rest_station", "rights_post", "service_window", "worker_center")
HOURS = (None, "24/7", "Mo-Fr 08:30-12:00,14:00-17:30", "Mo-Su 07:00-21:00", "Mo-Sa 08:00-20:00; Su off")
ORIGINS = ("520322", "522622", "520102", "510104", "411502")
RAW_SQL = ("SELECT id, layer, lon, lat, name, name_en, address, adcode, phone, hours, services, access, status, "
           "origins, items, operator, source, verified_at FROM stations WHERE status <> 'removed' "
           "ORDER BY geog <-> ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography LIMIT %s")


def log(message: str) -> None:
    print(f"[postgis] {message}", file=sys.stderr, flush=True)


def make_stations(layers, n: int, seed: int = 1):
    """n stations over China's populated east and west, every layer, services, origins and hours varied."""
    from layers.model import Station

    rng = np.random.default_rng(seed)
    lon = np.concatenate([rng.uniform(98, 123, n - n // 5), rng.uniform(75, 98, n // 5)])
    lat = np.concatenate([rng.uniform(21, 41, n - n // 5), rng.uniform(28, 45, n // 5)])
    picks = rng.integers(0, 1 << 30, size=(n, 4))
    vocab = {lid: list(layers[lid].services) for lid in LAYERS}
    out = []
    for i in range(n):
        lid = LAYERS[i % 4]
        words = vocab[lid]
        services = tuple(w for b, w in enumerate(words) if picks[i, 0] >> b & 1 and b < 30)
        origins = (ORIGINS[picks[i, 1] % 5],) if layers[lid].has_origins else ()
        out.append(Station(id=f"s{i:07d}", lon=round(float(lon[i]), 6), lat=round(float(lat[i]), 6),
                           name=f"站{i}", layer=lid, hours=HOURS[picks[i, 2] % len(HOURS)], services=services,
                           origins=origins, status="removed" if picks[i, 3] % 101 == 0 else "open"))
    return out


def query_points(q: int, seed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(98, 123, q), rng.uniform(21, 41, q)])


def random_query(rng, layers, lon: float, lat: float):
    from layers.store import NearestQuery

    lids = [(), ("rest_station",), ("rights_post", "service_window"), ("worker_center",)][rng.integers(4)]
    vocab = sorted({w for lid in (lids or LAYERS) for w in layers[lid].services})
    services = tuple(str(w) for w in rng.choice(vocab, size=rng.choice([0, 0, 1, 2]), replace=False))
    at = datetime(2026, 11, 27, int(rng.integers(24)), 30, tzinfo=timezone(timedelta(hours=8)))
    return NearestQuery(
        lon=lon, lat=lat, k=int(rng.integers(1, 31)), layers=lids, services=services,
        open_now=bool(rng.random() < 0.3), at=at, radius_m=[None, None, 3000.0, 60000.0][rng.integers(4)],
        origin=None if rng.random() < 0.7 else ORIGINS[rng.integers(5)],
    )


def time_all(stores, url: str, points) -> tuple[float, ...]:
    """Seconds spent in each store's nearest and in the raw KNN query, interleaved query by query
    (fair under load); the raw query's time last."""
    import psycopg2

    from layers.store import NearestQuery

    conn = psycopg2.connect(url)
    conn.autocommit = True
    spent = [0.0] * (len(stores) + 1)
    try:
        with conn.cursor() as cur:
            for lon, lat in points:
                query = NearestQuery(lon=float(lon), lat=float(lat), k=K)
                for i, store in enumerate(stores):
                    t0 = time.perf_counter()
                    store.nearest(query)
                    spent[i] += time.perf_counter() - t0
                t0 = time.perf_counter()
                cur.execute(RAW_SQL, (query.lon, query.lat, K))
                cur.fetchall()
                spent[-1] += time.perf_counter() - t0
    finally:
        conn.close()
    return tuple(spent)


def run_size(cluster, layers, n: int, queries: int, checks: int) -> dict:
    """Import, time and check one size in a fresh database of `cluster`."""
    from layers.embedded.store import EmbeddedStore
    from layers.postgis.store import PostgisStore

    url = cluster.create_database(f"bench_{n}")
    store = PostgisStore(url, layers, mirror=False)
    log(f"{n:,}: generating stations")
    stations = make_stations(layers, n)
    log(f"{n:,}: import_rows (COPY + upsert, one transaction)")
    t0 = time.perf_counter()
    result = store.import_rows(stations)
    import_s = time.perf_counter() - t0
    log(f"{n:,}: imported {result.inserted:,} in {import_s:.1f} s ({n / import_s:,.0f} rows/s)")
    t0 = time.perf_counter()
    mirrored = PostgisStore(url, layers)  # the default: nearest from the process's mirror
    mirror_s = time.perf_counter() - t0
    log(f"{n:,}: a mirrored store opened (full load) in {mirror_s:.1f} s")
    points = query_points(queries)
    time_all((mirrored, store), url, points[: min(200, queries)])  # warm caches on every path alike
    rounds = [time_all((mirrored, store), url, points) for _ in range(3)]
    best_mirror_s, store_s, raw_s = (min(r[i] for r in rounds) for i in range(3))
    log(f"{n:,}: nearest k={K}: mirror {queries / best_mirror_s:,.0f} q/s, SQL {queries / store_s:,.0f} q/s, "
        f"raw {queries / raw_s:,.0f} q/s")
    log(f"{n:,}: building the embedded store for the agreement check")
    with tempfile.TemporaryDirectory(prefix="yizhan-bench-") as tmp:
        embedded = EmbeddedStore(tmp, layers, seed=stations)
        rng = np.random.default_rng(3)
        agree = agree_mirror = 0
        for lon, lat in query_points(checks, seed=4):
            query = random_query(rng, layers, float(lon), float(lat))
            want = [(h.station.id, h.distance_m) for h in embedded.nearest(query)]
            agree += [(h.station.id, h.distance_m) for h in store.nearest(query)] == want
            agree_mirror += [(h.station.id, h.distance_m) for h in mirrored.nearest(query)] == want
        embedded.close()
    log(f"{n:,}: {agree}/{checks} (SQL) and {agree_mirror}/{checks} (mirror) random filtered queries identical "
        "to the embedded store")
    store.close()
    mirrored.close()
    cluster.drop_database(f"bench_{n}")
    return {"n": n, "queries": queries, "store_ms": 1000 * store_s / queries, "raw_ms": 1000 * raw_s / queries,
            "mirror_ms": 1000 * best_mirror_s / queries, "mirror_load_s": mirror_s,
            "import_rps": n / import_s, "import_s": import_s, "agree": agree, "agree_mirror": agree_mirror,
            "checks": checks}


def table(rows: list[dict]) -> str:
    lines = [("| stations | mirror nearest k=5 ms | SQL nearest k=5 ms | raw KNN ms | SQL / raw | mirror / raw "
             "| mirror full load s | import rows/s (s) | same as embedded: SQL, mirror |"),
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['n']:,} | {r['mirror_ms']:.3f} | {r['store_ms']:.3f} | {r['raw_ms']:.3f} "
                     f"| {r['store_ms'] / r['raw_ms']:.2f} | {r['mirror_ms'] / r['raw_ms']:.2f} | {r['mirror_load_s']:.1f} "
                     f"| {r['import_rps']:,.0f} ({r['import_s']:.1f}) | {r['agree']}/{r['checks']}, "
                     f"{r['agree_mirror']}/{r['checks']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated station counts")
    parser.add_argument("--queries", type=int, default=2000, help="timed nearest queries per size")
    parser.add_argument("--check", type=int, default=1000, help="random queries compared with the embedded store")
    parser.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    args = parser.parse_args(argv)
    from layers.layerdefs import load_layers
    from tests.pgfixtures import PgCluster

    layers = load_layers()
    cluster = PgCluster(settings={"shared_buffers": "'1GB'", "max_wal_size": "'8GB'", "wal_level": "minimal",
                                  "max_wal_senders": "0", "checkpoint_timeout": "'30min'"}).init()
    log(f"starting a throwaway cluster on port {cluster.port}")
    cluster.start()
    rows = []
    try:
        (version,), = cluster.execute("SELECT version()")
        for n in (int(s) for s in args.sizes.split(",")):
            rows.append(run_size(cluster, layers, n, args.queries, args.check))
    finally:
        cluster.cleanup()
    out = table(rows)
    print(out)
    if not args.no_write:
        write_section("postgis", (
            f"## PostGIS store (k={K})\n\n`python -m bench.postgis` — {machine()}, {version.split(',')[0]}, "
            "local cluster (fsync off), client on the same machine\n\n"
            f"{out}\n\nms: mean per query over {args.queries:,} single queries in a Python loop (best of 3 rounds; store and raw interleaved query by query). "
            "*mirror*: `PostgisStore.nearest` as configured by default — from the process's mirror (layers/postgis/mirror.py: "
            "the in-memory index and rows, kept current by LISTEN/NOTIFY; *full load*: opening it). "
            "*SQL*: the same with YIZHAN_PG_MIRROR=0 — KNN `<->` candidates (k+2, more only when the exactness bound is not yet met), exact WGS-84 re-rank, Station objects. "
            "*raw*: the same `ORDER BY geog <-> point LIMIT 5` on one psycopg2 connection (sphere order, tuples). "
            "*import*: `import_rows` end to end (into an empty table: COPY straight in, secondary indexes dropped and "
            "rebuilt, ANALYZE). *same*: random queries (layers, services, open_now, radius, origin, k ≤ 30) "
            "answered by the PostGIS and the embedded store.\n"))


if __name__ == "__main__":
    main()
