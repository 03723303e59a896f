"""PostGIS store benchmark: nearest through the store vs the raw KNN query, COPY import, agreement.

    python -m bench.postgis                          # 100,000 and 1,000,000 stations
    python -m bench.postgis --sizes 20000 --queries 500 --check 200 --no-write

It starts its own throwaway PostgreSQL cluster (tests/pgfixtures.PgCluster). For each size:
import every station through `PostgisStore.import_rows` (COPY + upsert, one transaction);
time k=5 nearest through the store (exact WGS-84 order, fetched by `<->`, re-ranked in
Python) against the same KNN query run raw on one psycopg2 connection (sphere order only,
5 rows); then check that the PostGIS store and the embedded store give the same ids and
distances for random queries with random filters.
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


def time_both(store, url: str, points) -> tuple[float, float]:
    """Seconds spent in store.nearest and in the raw KNN query, interleaved query by query (fair under load)."""
    import psycopg2

    from layers.store import NearestQuery

    conn = psycopg2.connect(url)
    conn.autocommit = True
    store_s = raw_s = 0.0
    try:
        with conn.cursor() as cur:
            for lon, lat in points:
                lon, lat = float(lon), float(lat)
                t0 = time.perf_counter()
                store.nearest(NearestQuery(lon=lon, lat=lat, k=K))
                t1 = time.perf_counter()
                cur.execute(RAW_SQL, (lon, lat, K))
                cur.fetchall()
                t2 = time.perf_counter()
                store_s, raw_s = store_s + t1 - t0, raw_s + t2 - t1
    finally:
        conn.close()
    return store_s, raw_s


def run_size(cluster, layers, n: int, queries: int, checks: int) -> dict:
    """Import, time and check one size in a fresh database of `cluster`."""
    from layers.embedded import EmbeddedStore
    from layers.postgis import PostgisStore

    url = cluster.create_database(f"bench_{n}")
    store = PostgisStore(url, layers)
    log(f"{n:,}: generating stations")
    stations = make_stations(layers, n)
    log(f"{n:,}: import_rows (COPY + upsert, one transaction)")
    t0 = time.perf_counter()
    result = store.import_rows(stations)
    import_s = time.perf_counter() - t0
    log(f"{n:,}: imported {result.inserted:,} in {import_s:.1f} s ({n / import_s:,.0f} rows/s)")
    points = query_points(queries)
    time_both(store, url, points[: min(200, queries)])  # warm caches on both paths alike
    rounds = [time_both(store, url, points) for _ in range(3)]
    store_s, raw_s = min(r[0] for r in rounds), min(r[1] for r in rounds)
    log(f"{n:,}: nearest k={K}: store {queries / store_s:,.0f} q/s, raw {queries / raw_s:,.0f} q/s, "
        f"ratio {store_s / raw_s:.2f}")
    log(f"{n:,}: building the embedded store for the agreement check")
    with tempfile.TemporaryDirectory(prefix="yizhan-bench-") as tmp:
        embedded = EmbeddedStore(tmp, layers, seed=stations)
        rng = np.random.default_rng(3)
        agree = 0
        for lon, lat in query_points(checks, seed=4):
            query = random_query(rng, layers, float(lon), float(lat))
            a = [(h.station.id, h.distance_m) for h in store.nearest(query)]
            b = [(h.station.id, h.distance_m) for h in embedded.nearest(query)]
            agree += a == b
        embedded.close()
    log(f"{n:,}: {agree}/{checks} random filtered queries identical on both stores")
    store.close()
    cluster.drop_database(f"bench_{n}")
    return {"n": n, "queries": queries, "store_ms": 1000 * store_s / queries, "raw_ms": 1000 * raw_s / queries,
            "import_rps": n / import_s, "import_s": import_s, "agree": agree, "checks": checks}


def table(rows: list[dict]) -> str:
    lines = ["| stations | store nearest k=5 ms | raw KNN ms | store / raw | import rows/s (s) | same ids+distances as embedded |",
             "|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['n']:,} | {r['store_ms']:.3f} | {r['raw_ms']:.3f} | {r['store_ms'] / r['raw_ms']:.2f} "
                     f"| {r['import_rps']:,.0f} ({r['import_s']:.1f}) | {r['agree']}/{r['checks']} |")
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
            "*store*: `PostgisStore.nearest` — KNN `<->` candidates (k+2, more only when the exactness bound is not yet met), exact WGS-84 re-rank, Station objects. "
            "*raw*: the same `ORDER BY geog <-> point LIMIT 5` on one psycopg2 connection (sphere order, tuples). "
            "*import*: `import_rows` end to end (into an empty table: COPY straight in, secondary indexes dropped and "
            "rebuilt, ANALYZE). *same*: random queries (layers, services, open_now, radius, origin, k ≤ 30) "
            "answered by the PostGIS and the embedded store.\n"))


if __name__ == "__main__":
    main()
