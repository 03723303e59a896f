"""Soak: the production server under high load for a bounded time; errors counted, worker memory sampled.

    python -m bench.soak                     # 10 minutes, embedded store, 100,000 stations
    python -m bench.soak --minutes 2 --stations 20000

Loopback only; stops by itself after `--minutes`. The load (wrk, else the Python client of
bench/http.py) runs in 10-second rounds cycling over `/api/v1/nearest` (random points),
`/p/<slug>` and a static file; after each round the resident memory (RSS) of every gunicorn
worker is sampled. Memory is flat when the last samples are within a few MB of the first
ones after warm-up. Results to bench/RESULTS.md between `<!-- soak:start -->` and `<!-- soak:end -->`.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time

from bench.http import TRIVIAL, fill_store, gunicorn, load, log

ROUND_S = 10.0


def rss_mb(pids: list[int]) -> dict[int, float]:
    """Resident memory of each process in MiB (VmRSS from /proc; gone processes left out)."""
    out = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        out[pid] = int(line.split()[1]) / 1024
        except OSError:
            pass
    return out


def soak(minutes: float, stations: int, connections: int) -> dict:
    data_dir = tempfile.mkdtemp(prefix="yizhan-soak-")
    try:
        slug = fill_store(stations, data_dir, None)
        targets = [("nearest", ""), ("nearest", ""), ("fixed", f"/p/{slug}"), ("fixed", TRIVIAL)]
        with gunicorn(data_dir) as server:
            pids = server.worker_pids()
            samples = [(0.0, rss_mb(pids))]
            totals = {"requests": 0, "errors": 0}
            p99s: dict[str, list[float]] = {}
            worst_p99 = 0.0
            started = time.monotonic()
            end = started + minutes * 60
            i = 0
            while time.monotonic() + 1 < end:
                kind, path = targets[i % len(targets)]
                r = load(server.base, kind, path, connections, min(ROUND_S, end - time.monotonic()))
                totals["requests"] += r["requests"]
                totals["errors"] += r["errors"]
                worst_p99 = max(worst_p99, r["p99_ms"])
                p99s.setdefault(path or "/api/v1/nearest", []).append(r["p99_ms"])
                samples.append((time.monotonic() - started, rss_mb(pids)))
                i += 1
            alive = server.worker_pids()
            log(f"{totals['requests']} requests, {totals['errors']} errors, workers {sorted(pids)} -> {sorted(alive)}")
        return {"minutes": minutes, "stations": stations, "connections": connections, "samples": samples,
                "elapsed_s": time.monotonic() - started, "worst_p99": worst_p99, "p99s": p99s, "replaced": set(pids) != set(alive),
                **totals}
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def report(r: dict) -> str:
    from bench.results import machine

    samples = r["samples"]
    pids = sorted(samples[0][1])
    warm = samples[min(2, len(samples) - 1)]  # after the first rounds: caches filled
    last = samples[-1]
    growth = max((last[1].get(p, 0) - warm[1].get(p, 0)) for p in pids) if pids else 0.0
    half = samples[len(samples) // 2]
    late = max((last[1].get(p, 0) - half[1].get(p, 0)) for p in pids) if pids else 0.0
    lines = [(f"`python -m bench.soak --minutes {r['minutes']:g} --stations {r['stations']}` — {machine()}; "
              f"embedded store, {r['connections']} connections, 10-s rounds of nearest / nearest / `/p/<slug>` / static."),
             "",
             (f"- {r['requests']} requests in {r['elapsed_s']:.0f} s ({r['requests'] / r['elapsed_s']:.0f}/s), "
              f"**{r['errors']} errors**, worst round p99 {r['worst_p99']:.1f} ms; workers replaced: {r['replaced']}"),
             (f"- worker RSS (MB) growth from the 3rd sample to the last, worst worker: {growth:+.1f} MB "
              f"(caches filling); over the second half of the run: {late:+.1f} MB"),
             "- p99 per 10-s round, median / worst: " + "; ".join(
                 f"`{path}` {sorted(v)[len(v) // 2]:.1f} / {max(v):.1f} ms" for path, v in r.get("p99s", {}).items()),
             "",
             "| t (s) | " + " | ".join(f"worker {i + 1}" for i in range(len(pids))) + " |",
             "|---|" + "---|" * len(pids)]
    step = max(1, len(samples) // 12)
    for t, mem in samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else []):
        lines.append(f"| {t:.0f} | " + " | ".join(f"{mem.get(p, float('nan')):.1f}" for p in pids) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--stations", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    text = report(soak(args.minutes, args.stations, args.connections))
    print(text)
    if not args.no_write:
        from bench.results import write_section

        write_section("soak", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
