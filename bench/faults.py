"""Faults: PostgreSQL killed and restarted under load; 503s while down, recovery time, no lost writes.

    python -m bench.faults                     # 20,000 stations, 10 s down
    python -m bench.faults --down 5 --stations 5000

Its own throwaway cluster (tests/pgfixtures.PgCluster, with fsync on, as in production) and
gunicorn (gunicorn.conf.py) on 127.0.0.1. Reader threads ask `/api/v1/nearest`; one writer
creates stations through the API with an editor token (config TOKENS=`<sha256>:editor`) and
remembers every one acknowledged with 201. The server is killed (`pg_ctl stop -m immediate`,
like a crash), left down, started again; then every acknowledged station is read back.
Results to bench/RESULTS.md between `<!-- faults:start -->` and `<!-- faults:end -->`.
"""
from __future__ import annotations

import argparse
import collections
import json
import secrets
import shutil
import sys
import tempfile
import threading
import time

from bench.http import CHINA, call, fill_store, gunicorn, log


class Load:
    """Reader threads and one writer against `base`; every answer logged as (t, kind, status)."""

    def __init__(self, base: str, token: str, readers: int = 4) -> None:
        self.base, self.token, self.readers = base, token, readers
        self.events: list[tuple[float, str, int]] = []
        self.acked: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._read, args=(i,)) for i in range(readers)]
        self._threads.append(threading.Thread(target=self._write))

    def _record(self, kind: str, status: int) -> None:
        with self._lock:
            self.events.append((time.monotonic(), kind, status))

    def _call(self, method: str, path: str, body: dict | None = None, headers: dict | None = None) -> int:
        data = json.dumps(body).encode("utf-8") if body is not None else None
        try:
            return call(self.base, method, path, data, {"Content-Type": "application/json", **(headers or {})})[0]
        except OSError:
            return 0  # no HTTP answer at all (connection refused/reset, timeout)

    def _read(self, seed: int) -> None:
        import random

        rng = random.Random(seed)
        lon0, lon1, lat0, lat1 = CHINA
        while not self._stop.is_set():
            path = f"/api/v1/nearest?lat={rng.uniform(lat0, lat1):.5f}&lon={rng.uniform(lon0, lon1):.5f}&k=5"
            self._record("read", self._call("GET", path))

    def _write(self) -> None:
        i = 0
        headers = {"Authorization": f"Bearer {self.token}"}
        while not self._stop.is_set():
            sid = f"fault-{i:06d}"
            i += 1
            feature = {"type": "Feature", "id": sid, "geometry": {"type": "Point", "coordinates": [116.3 + i * 1e-5, 39.9]},
                       "properties": {"name": f"故障测试{i}", "layer": "rest_station", "address": "测试路1号"}}
            status = self._call("POST", "/api/v1/stations", feature, headers)
            self._record("write", status)
            if status == 201:
                with self._lock:
                    self.acked.append((time.monotonic(), sid))
            if status != 201:
                time.sleep(0.05)

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()


def window(events, start: float, end: float) -> collections.Counter:
    return collections.Counter((kind, status) for t, kind, status in events if start <= t < end)


def run(stations: int, down_s: float, after_s: float) -> dict:
    from tests.pgfixtures import PgCluster
    from web.auth import digest

    token = secrets.token_urlsafe(24)
    data_dir = tempfile.mkdtemp(prefix="yizhan-faults-")
    cluster = PgCluster(settings={"fsync": "on", "full_page_writes": "on"})
    try:
        cluster.init()
        cluster.start()
        fill_store(stations, data_dir, cluster.url)
        with gunicorn(data_dir, cluster.url, workers=3, YIZHAN_TOKENS=f"{digest(token)}:editor") as server:
            load = Load(server.base, token)
            load.start()
            time.sleep(8)
            t_kill = time.monotonic()
            cluster.stop("immediate")
            log("PostgreSQL killed (immediate)")
            time.sleep(down_s)
            t_restart = time.monotonic()
            cluster.start()
            t_up = time.monotonic()
            log(f"PostgreSQL restarted in {t_up - t_restart:.1f} s")
            time.sleep(after_s)
            load.stop()
            t_end = time.monotonic()
            acked_before = [sid for t, sid in load.acked if t < t_kill]
            lost = [sid for _, sid in load.acked if call(server.base, "GET", f"/api/v1/stations/{sid}")[0] != 200]
        events = sorted(load.events)
        after = [(t, ok) for t, kind, s in events if t >= t_up for ok in [200 <= s < 300]]
        first_ok = next((t for t, ok in after if ok), None)
        last_bad = max((t for t, ok in after if not ok), default=None)
        return {"stations": stations, "down_s": down_s, "restart_s": t_up - t_restart,
                "before": window(events, t_kill - 8, t_kill), "down": window(events, t_kill, t_up),
                "after": window(events, t_up, t_end),
                "first_ok_s": None if first_ok is None else first_ok - t_up,
                "full_s": 0.0 if last_bad is None else last_bad - t_up,
                "acked": len(load.acked), "acked_before": len(acked_before), "lost": lost}
    finally:
        cluster.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


def _counts(counter: collections.Counter) -> str:
    return ", ".join(f"{kind} {status or 'no answer'}: {n}" for (kind, status), n in sorted(counter.items())) or "-"


def report(r: dict) -> str:
    from bench.results import machine

    down_codes = {status for (_, status) in r["down"]}  # 0 = no HTTP answer
    return "\n".join([
        (f"`python -m bench.faults --stations {r['stations']} --down {r['down_s']:g}` — {machine()}; PostGIS (own "
         "cluster, fsync on), gunicorn 3 workers, 4 reader threads (nearest) + 1 writer (POST /api/v1/stations, "
         "editor token)."),
        "",
        f"- before the kill (8 s): {_counts(r['before'])}",
        (f"- while down ({r['down_s']:g} s + {r['restart_s']:.1f} s restart): {_counts(r['down'])}"
         f" — error answers other than 503: {sorted(s for s in down_codes - {503} if not 200 <= s < 300) or 'none'} (2xx: requests in flight at the kill)"),
        f"- after restart: {_counts(r['after'])}",
        f"- first success {r['first_ok_s']:.2f} s after PostgreSQL was up again; full recovery (last failed "
        f"request) {r['full_s']:.2f} s after" if r["first_ok_s"] is not None else "- no success after restart",
        f"- writes acknowledged with 201: {r['acked']} ({r['acked_before']} before the kill); read back after "
        f"recovery: {r['acked'] - len(r['lost'])}; **lost: {len(r['lost'])}**" + (f" {r['lost'][:10]}" if r["lost"] else ""),
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stations", type=int, default=20_000)
    parser.add_argument("--down", type=float, default=10.0, help="seconds PostgreSQL stays down")
    parser.add_argument("--after", type=float, default=15.0, help="seconds of load after the restart")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.stations, args.down, args.after)
    text = report(result)
    print(text)
    if not args.no_write:
        from bench.results import write_section

        write_section("faults", text)
    return 1 if result["lost"] else 0


if __name__ == "__main__":
    sys.exit(main())
