"""Nearest after another process's big write (embedded store), issue 15.5.

    python -m bench.refresh                 # sample data (~6,000), then a 60,000-row CLI import
    python -m bench.refresh --rows 20000 --no-write

A serving store (this process) answers nearest queries; a second process runs
`flask stations import` of ROWS new stations into the same SQLite file; this process's next read
folds them in. Reported: nearest p50 before, the first query after the import (the fold-in),
nearest p50 after, the first bbox listing after it, and what the index kept (deltas, dead rows).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.results import machine, write_section

REPO = Path(__file__).resolve().parent.parent


def _p50_ms(store, queries) -> float:
    from layers.store import NearestQuery

    times = []
    for lon, lat in queries:
        t0 = time.perf_counter()
        store.nearest(NearestQuery(lon=float(lon), lat=float(lat), k=5))
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def _csv(path: Path, rows: int) -> None:
    rng = np.random.default_rng(9)
    lon, lat = rng.uniform(98, 123, rows), rng.uniform(21, 41, rows)
    lines = ["id,name,layer,lon,lat"] + [f"bench-{i:06d},基准站{i},rest_station,{lon[i]:.6f},{lat[i]:.6f}"
                                        for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(rows: int, queries: int) -> dict:
    from layers.embedded.store import EmbeddedStore
    from layers.ingest.seed import SAMPLE_STATIONS, read_geojson_stations
    from layers.layerdefs import load_layers

    layers = load_layers()
    folder = Path(tempfile.mkdtemp(prefix="yizhan-bench-refresh-"))
    store = EmbeddedStore(folder, layers, seed=read_geojson_stations(SAMPLE_STATIONS, layers))
    rng = np.random.default_rng(3)
    points = np.column_stack([rng.uniform(98, 123, queries), rng.uniform(21, 41, queries)])
    before = _p50_ms(store, points)
    _csv(folder / "import.csv", rows)
    env = {**os.environ, "YIZHAN_DATA_DIR": str(folder), "YIZHAN_SEED": "0"}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "stations", "import", str(folder / "import.csv")],
                   check=True, cwd=REPO, env=env, capture_output=True)
    import_s = time.perf_counter() - t0
    first = _p50_ms(store, points[:1])
    after = _p50_ms(store, points)
    t0 = time.perf_counter()
    store.in_bbox((106.0, 26.0, 107.0, 27.0))
    bbox_ms = (time.perf_counter() - t0) * 1000
    index = store._index
    kept = {"deltas": sum(index.deltas().values()), "dead": index.dead_rows()} if hasattr(index, "deltas") else \
        {"deltas": sum(len(t.delta) for t in index._trees.values()), "dead": index._cols.n - len(index)}
    found = {"stations_before": 6000, "stations_after": len(index), "p50_before_ms": before, "first_after_ms": first,
             "p50_after_ms": after, "bbox_first_ms": bbox_ms, "import_s": import_s, **kept}
    store.close()
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    args = parser.parse_args(argv)
    r = run(args.rows, args.queries)
    print(r)
    if not args.no_write:
        write_section("refresh", (
            f"## Nearest after another process's import (`python -m bench.refresh`)\n\n{machine()}; embedded "
            f"store on the sample data, then `flask stations import` of {args.rows:,} rows from a second process "
            f"({r['import_s']:.1f} s), read by this one.\n\n"
            "| | nearest p50 before | first query after (fold-in) | nearest p50 after | first bbox after | "
            "left in deltas / dead rows |\n|---|---|---|---|---|---|\n"
            f"| now | {r['p50_before_ms']:.3f} ms | {r['first_after_ms']:.0f} ms | {r['p50_after_ms']:.3f} ms | "
            f"{r['bbox_first_ms']:.0f} ms | {r['deltas']} / {r['dead']} |\n"))


if __name__ == "__main__":
    main()
