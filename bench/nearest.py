"""Nearest-station benchmark: the embedded store's index vs cKDTree vs brute force, same run.

    python -m bench.nearest                # 100,000 and 1,000,000 stations, 10,000 queries
    python -m bench.nearest --sizes 20000 --queries 2000 --no-write

Each size runs in a fresh subprocess so its peak memory is its own. The cKDTree reference
answers by chord (great-circle) order only; our index answers exact WGS-84 ellipsoidal
order with ties by id. Agreement is checked against brute-force geodesic ranking.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

from bench.results import machine, write_section

K = 5


def _stations(n: int, seed: int = 1):
    """n stations spread over China's populated east and west, four layers, varied hours."""
    from layers.model import Station

    rng = np.random.default_rng(seed)
    lon = np.concatenate([rng.uniform(98, 123, n - n // 5), rng.uniform(75, 98, n // 5)])
    lat = np.concatenate([rng.uniform(21, 41, n - n // 5), rng.uniform(28, 45, n // 5)])
    layers = ("rest_station", "rights_post", "service_window", "worker_center")
    hours = (None, "24/7", "Mo-Fr 08:30-12:00,14:00-17:30", "Mo-Su 07:00-21:00")
    for i in range(n):
        yield Station(id=f"s{i:07d}", lon=round(float(lon[i]), 6), lat=round(float(lat[i]), 6),
                      name="站", layer=layers[i % 4], hours=hours[i % 4])


def _queries(q: int, seed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(98, 123, q), rng.uniform(21, 41, q)])


def run_size(n: int, q: int, brute_q: int) -> dict:
    """Build, query and check at one size; runs inside its own process."""
    from pyproj import Geod
    from scipy.spatial import cKDTree

    from geo.distance import unit_xyz
    from layers.layerdefs import load_layers
    from layers.memory.index import SphereIndex

    t0 = time.perf_counter()
    for _ in _stations(n):  # the cost of making the records alone, subtracted below
        pass
    make_s = time.perf_counter() - t0
    index = SphereIndex(load_layers())
    t0 = time.perf_counter()
    index.load(_stations(n))
    build_s = time.perf_counter() - t0 - make_s
    t0 = time.perf_counter()
    index.in_bbox((100.0, 25.0, 100.1, 25.1))  # the bbox r-tree is built on first use
    rtree_s = time.perf_counter() - t0
    cols = index._cols
    lon, lat = cols.lon[: cols.n].copy(), cols.lat[: cols.n].copy()
    ids = np.array(index._ids)
    t0 = time.perf_counter()
    kd = cKDTree(unit_xyz(lon, lat))
    kd_build_s = time.perf_counter() - t0
    queries = _queries(q)
    qxyz = unit_xyz(queries[:, 0], queries[:, 1])

    ours, kd_ids, ours_s, kd_s = [], [], 0.0, 0.0
    for start in range(0, q, 250):  # interleaved, so a busy moment of the machine hits both alike
        t0 = time.perf_counter()
        ours += [index.nearest(float(x), float(y), K) for x, y in queries[start: start + 250]]
        t1 = time.perf_counter()
        kd_ids += [kd.query(p, k=K)[1] for p in qxyz[start: start + 250]]
        ours_s, kd_s = ours_s + t1 - t0, kd_s + time.perf_counter() - t1

    geod = Geod(ellps="WGS84")
    agree = kd_agree = planar_agree = 0
    t0 = time.perf_counter()
    for j in range(brute_q):
        x, y = queries[j]
        d = np.round(geod.inv(np.full(n, x), np.full(n, y), lon, lat)[2], 3)
        top = np.lexsort((ids, d))[:K]
        truth = [(float(d[i]), str(ids[i])) for i in top]
        agree += ours[j] == truth
        kd_agree += list(ids[kd_ids[j]]) == [t[1] for t in truth]
        planar = np.lexsort((ids, (lon - x) ** 2 + (lat - y) ** 2))[:K]
        planar_agree += list(ids[planar]) == [t[1] for t in truth]
    brute_s = (time.perf_counter() - t0) / max(brute_q, 1)
    return {
        "n": n, "queries": q, "build_s": build_s, "kd_build_s": kd_build_s, "rtree_s": rtree_s,
        "ours_qps": q / ours_s, "kd_qps": q / kd_s, "brute_qps": 1 / brute_s if brute_q else None,
        "agree": agree, "kd_agree": kd_agree, "planar_agree": planar_agree, "checked": brute_q,
        "peak_total_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _table(rows: list[dict]) -> str:
    lines = [
        "| stations | ours (exact ellipsoid) q/s | cKDTree 3-D (chord order) q/s | ours / cKDTree | brute force q/s "
        + "| ours = brute | cKDTree = brute | planar lon/lat = brute | index build s | bbox r-tree build s "
        + "| peak RSS MB (process) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']:,} | {r['ours_qps']:,.0f} | {r['kd_qps']:,.0f} | {r['ours_qps'] / r['kd_qps']:.2f} "
            f"| {r['brute_qps']:,.1f} | {r['agree']}/{r['checked']} | {r['kd_agree']}/{r['checked']} "
            f"| {r['planar_agree']}/{r['checked']} | {r['build_s']:.2f} | {r['rtree_s']:.2f} "
            f"| {r['peak_total_mb']:,.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--brute", type=int, default=300, help="queries checked against brute force")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_size(args.child, args.queries, args.brute)))
        return
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        print(f"[nearest] {n:,} stations: building, {args.queries:,} queries, {args.brute} brute-force checks…",
              file=sys.stderr, flush=True)
        out = subprocess.run([sys.executable, "-m", "bench.nearest", "--child", str(n), "--queries",
                              str(args.queries), "--brute", str(args.brute)], capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(_table(rows[-1:]), file=sys.stderr, flush=True)
    table = _table(rows)
    print(table)
    if not args.no_write:
        write_section("nearest", f"## Nearest (in-process, k={K})\n\n`python -m bench.nearest` — {machine()}\n\n"
                      f"{table}\n\nq/s: single queries in a Python loop (as the service asks them), k=5, no filter. "
                      "'= brute': the same ids (and, for ours, the same millimetre distances) as ranking "
                      "every station by WGS-84 geodesic distance, over the first N queries. Index build: "
                      "SphereIndex.load() from a stream of Station records, less the time to make the "
                      "records. The bbox r-tree is built lazily on the first bbox listing. Peak RSS is the "
                      "whole benchmark process (Python, numpy, pyproj, the index and the reference "
                      "cKDTree).\n")


if __name__ == "__main__":
    main()
