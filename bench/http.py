"""HTTP throughput of the production server: `/api/v1/nearest` and `/p/<slug>` against a trivial endpoint.

    python -m bench.http                                # 100,000 stations, embedded and PostGIS
    python -m bench.http --stores embedded --stations 20000 --seconds 5

Starts gunicorn itself (gunicorn.conf.py, the app with `init_security`) on a free port of
127.0.0.1, on each store: the embedded one in a temporary data directory, and PostGIS in its
own throwaway cluster (tests/pgfixtures.PgCluster) — as configured by default (`postgis`: each
worker answers nearest from its mirror) and, as the reference in the same run, with
YIZHAN_PG_MIRROR=0 (`postgis-sql`: KNN in the database); stations are generated over China and
written with the store's `import_rows`. The load comes from `wrk` (Debian package) when it is
installed, else from a small threaded Python client (which saturates sooner: the numbers say
which one ran). The trivial endpoint is a small static file served by the same app and
workers (`/static/yizhan.css`, gzip cached in memory): connections are doubled until its
throughput stops growing (< 10 %), and at that load the trivial endpoint, `nearest` (random
points across China, k=5) and `/p/<slug>` are measured in ROUNDS interleaved rounds, each
endpoint's median round reported. Targets: nearest >= 70 % of trivial, p99 < 50 ms.
Results go to bench/RESULTS.md between `<!-- http:start -->` and `<!-- http:end -->`.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
TRIVIAL = "/static/yizhan.css"
ROUNDS = 3
CHINA = (98.0, 123.0, 21.0, 41.0)  # lon/lat box of the dense east and south-west, WGS-84


def log(message: str) -> None:
    print(f"[http] {message}", file=sys.stderr, flush=True)


def secured_app():
    """The production app: `create_app()` with `init_security` (gunicorn's app spec `bench.http:secured_app()`)."""
    from app import create_app
    from web.security import init_security

    app = create_app()
    init_security(app)  # idempotent: harmless once app.py calls it itself
    return app


# ---- data ------------------------------------------------------------------------------------
def fill_store(n: int, data_dir: str, database_url: str | None) -> str:
    """Write n generated stations and the sample parks into a store; a park slug for `/p/<slug>`."""
    from bench.postgis import make_stations
    from layers.factory import open_store
    from layers.layerdefs import load_layers
    from layers.parks import SAMPLE_PARKS, read_geojson_parks

    layers = load_layers()
    store = open_store(layers, data_dir, database_url, (), seed_path=None)
    started = time.perf_counter()
    store.import_rows(make_stations(layers, n))
    log(f"imported {n} stations in {time.perf_counter() - started:.1f} s")
    store.close()
    if database_url:
        from layers.postgis.parks import PostgisParkStore

        parks = PostgisParkStore(database_url)
    else:
        from layers.embedded.parks import SqliteParkStore

        parks = SqliteParkStore(data_dir)
    rows = list(read_geojson_parks(SAMPLE_PARKS))
    parks.seed(rows)
    getattr(parks, "close", lambda: None)()
    return rows[0].slug


# ---- the server ------------------------------------------------------------------------------
@dataclass
class Server:
    proc: subprocess.Popen
    base: str
    log_path: Path

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: processes whose parent is the master (read from /proc, no psutil)."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                pids.append(int(stat.parent.name))
        return sorted(pids)


@contextmanager
def gunicorn(data_dir: str, database_url: str | None = None, workers: int | None = None, **env: str):
    """gunicorn -c gunicorn.conf.py 'bench.http:secured_app()' on a free port; stopped on exit."""
    from tests.pgfixtures import free_port

    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("YIZHAN_")}
    environ.update({"YIZHAN_DATA_DIR": data_dir, "YIZHAN_SEED": "false", "YIZHAN_TILES": "none",
                    "YIZHAN_BIND": f"127.0.0.1:{port}", "PYTHONPATH": str(REPO), **env})
    if database_url:
        environ["YIZHAN_DATABASE_URL"] = database_url
    if workers:
        environ["YIZHAN_WORKERS"] = str(workers)
    log_path = Path(tempfile.mkstemp(prefix="yizhan-gunicorn-", suffix=".log")[1])
    with open(log_path, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "bench.http:secured_app()"],
                                cwd=REPO, env=environ, stdout=subprocess.DEVNULL, stderr=out)
    server = Server(proc, f"http://127.0.0.1:{port}", log_path)
    try:
        wait_healthy(server)
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_healthy(server: Server, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError("gunicorn exited:\n" + server.log_path.read_text()[-3000:])
        try:
            if get(server.base, "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not become healthy")


def get(base: str, path: str, timeout: float = 10) -> tuple[int, bytes]:
    """GET base+path; (status, body)."""
    return call(base, "GET", path, timeout=timeout)


def call(base: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
         timeout: float = 10) -> tuple[int, bytes]:
    """One request on a fresh connection; (status, body). OSError when there is no answer."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Accept-Encoding": "gzip", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    except http.client.HTTPException as exc:
        raise OSError(str(exc)) from exc
    finally:
        conn.close()


# ---- load ------------------------------------------------------------------------------------
WRK_SCRIPT = r"""
local kind, fixed = "%(kind)s", "%(path)s"
local counter = 0
function setup(thread) counter = counter + 1; thread:set("seed", counter) end
function init(args) math.randomseed(tonumber(seed or 1) * 7919) end
wrk.headers["Accept-Encoding"] = "gzip"
function request()
  if kind == "nearest" then
    local lon = %(lon0)f + math.random() * %(dlon)f
    local lat = %(lat0)f + math.random() * %(dlat)f
    return wrk.format("GET", string.format("/api/v1/nearest?lat=%%.5f&lon=%%.5f&k=5", lat, lon))
  end
  return wrk.format("GET", fixed)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, ' ..
    '"errors": %%d, "non_2xx": %%d}\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def nearest_path(rng: random.Random) -> str:
    lon0, lon1, lat0, lat1 = CHINA
    return f"/api/v1/nearest?lat={rng.uniform(lat0, lat1):.5f}&lon={rng.uniform(lon0, lon1):.5f}&k=5"


def run_wrk(base: str, kind: str, path: str, connections: int, seconds: float) -> dict:
    lon0, lon1, lat0, lat1 = CHINA
    script = WRK_SCRIPT % {"kind": kind, "path": path, "lon0": lon0, "dlon": lon1 - lon0, "lat0": lat0, "dlat": lat1 - lat0}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    threads = max(1, min(2, connections))
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "--timeout", "10s",
                          "-s", handle.name, base], capture_output=True, text=True, timeout=seconds + 60, check=False)
    os.unlink(handle.name)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {out.stdout[-1000:]} {out.stderr[-1000:]}")
    raw = json.loads(line[len("WRKJSON "):])
    return {"rps": raw["requests"] / (raw["duration_us"] / 1e6), "p50_ms": raw["p50_us"] / 1000,
            "p99_ms": raw["p99_us"] / 1000, "requests": raw["requests"], "errors": raw["errors"] + raw["non_2xx"]}


def run_python(base: str, kind: str, path: str, connections: int, seconds: float) -> dict:
    """Closed-loop keep-alive clients in threads (the fallback when wrk is not installed)."""
    parts = urlsplit(base)
    stop_at = time.monotonic() + seconds
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine, bad = [], 0
        while time.monotonic() < stop_at:
            target = nearest_path(rng) if kind == "nearest" else path
            started = time.perf_counter()
            try:
                conn.request("GET", target, headers={"Accept-Encoding": "gzip"})
                response = conn.getresponse()
                response.read()
                bad += response.status >= 400
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    started = time.monotonic()
    workers = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    pick = (lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000) if latencies else (lambda q: 0.0)
    return {"rps": len(latencies) / elapsed, "p50_ms": pick(0.5), "p99_ms": pick(0.99), "requests": len(latencies),
            "errors": errors[0]}


def load(base: str, kind: str, path: str, connections: int, seconds: float) -> dict:
    """One closed-loop run with wrk when installed, else the Python client."""
    runner = run_wrk if shutil.which("wrk") else run_python
    return runner(base, kind, path, connections, seconds)


def saturation(base: str, seconds: float, max_connections: int) -> tuple[int, list[tuple[int, dict]]]:
    """Double connections on the trivial endpoint until throughput grows < 10 %; that load and the ramp."""
    ramp: list[tuple[int, dict]] = []
    connections = 1
    while connections <= max_connections:
        ramp.append((connections, load(base, "fixed", TRIVIAL, connections, seconds)))
        log(f"trivial c={connections}: {ramp[-1][1]['rps']:.0f}/s p99 {ramp[-1][1]['p99_ms']:.1f} ms")
        if len(ramp) > 1 and ramp[-1][1]["rps"] < ramp[-2][1]["rps"] * 1.10:
            return ramp[-2][0] if ramp[-1][1]["rps"] < ramp[-2][1]["rps"] else connections, ramp
        connections *= 2
    return ramp[-1][0], ramp


# ---- the benchmark ---------------------------------------------------------------------------
def measure(server: Server, slug: str, seconds: float, max_connections: int) -> dict:
    load(server.base, "nearest", "", 4, 2)  # warm every worker's caches
    load(server.base, "fixed", f"/p/{slug}", 4, 1)
    level, ramp = saturation(server.base, seconds, max_connections)
    # Rounds of trivial / nearest / park, interleaved, each endpoint's median round reported: on a
    # shared machine one run of each can land in a busy moment of another tenant's.
    runs: dict[str, list[dict]] = {"trivial": [], "nearest": [], "park": []}
    for _ in range(ROUNDS):
        runs["trivial"].append(load(server.base, "fixed", TRIVIAL, level, seconds))
        runs["nearest"].append(load(server.base, "nearest", "", level, seconds))
        runs["park"].append(load(server.base, "fixed", f"/p/{slug}", level, seconds))
    out = {"level": level, "ramp": ramp, "rounds": {name: [r["rps"] for r in rs] for name, rs in runs.items()}}
    for name, rs in runs.items():
        out[name] = sorted(rs, key=lambda r: r["rps"])[len(rs) // 2]
        log(f"{name} c={level}: {out[name]['rps']:.0f}/s p50 {out[name]['p50_ms']:.1f} p99 {out[name]['p99_ms']:.1f} ms "
            f"(rounds: {', '.join(f'{r:.0f}' for r in out['rounds'][name])})")
    return out


def run_store(kind: str, n: int, seconds: float, max_connections: int, workers: int | None) -> dict:
    data_dir = tempfile.mkdtemp(prefix="yizhan-http-")
    cluster = None
    try:
        url = None
        if kind.startswith("postgis"):
            from tests.pgfixtures import PgCluster

            cluster = PgCluster()
            cluster.init()
            cluster.start()
            url = cluster.url
        slug = fill_store(n, data_dir, url)
        mirror = {"YIZHAN_PG_MIRROR": "0"} if kind == "postgis-sql" else {}
        with gunicorn(data_dir, url, workers, **mirror) as server:
            result = measure(server, slug, seconds, max_connections)
            result["workers"] = len(server.worker_pids())
        return result
    finally:
        if cluster:
            cluster.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


def report(results: dict[str, dict], n: int, seconds: float) -> str:
    tool = "wrk 4 (Debian)" if shutil.which("wrk") else "the Python fallback client"
    lines = [(f"`python -m bench.http --stations {n} --seconds {seconds:g}` — {_machine()}; load from {tool}, "
              "client and server on the same machine (loopback), gunicorn gthread, "
              f"{os.environ.get('YIZHAN_THREADS', '4')} threads/worker, Accept-Encoding: gzip."), "",
             "| store | workers | connections | endpoint | req/s | vs trivial | p50 ms | p99 ms | errors |",
             "|---|---|---|---|---|---|---|---|---|"]
    verdicts = []
    for store, r in results.items():
        base = r["trivial"]["rps"]
        for name, label in (("trivial", f"`{TRIVIAL}` (trivial)"), ("nearest", "`/api/v1/nearest` k=5"),
                            ("park", "`/p/<slug>`")):
            m = r[name]
            lines.append(f"| {store} | {r['workers']} | {r['level']} | {label} | {m['rps']:.0f} | "
                         f"{m['rps'] / base:.0%} | {m['p50_ms']:.1f} | {m['p99_ms']:.1f} | {m['errors']} |")
        for name in ("nearest", "park"):
            ok = r[name]["rps"] >= 0.7 * base and r[name]["p99_ms"] < 50
            verdicts.append(f"{store} {name}: {'meets' if ok else 'MISSES'} the target "
                            f"({r[name]['rps'] / base:.0%} of trivial, p99 {r[name]['p99_ms']:.1f} ms)")
        ramp = ", ".join(f"c={c}: {m['rps']:.0f}/s" for c, m in r["ramp"])
        rounds = "; ".join(f"{name} {', '.join(f'{v:.0f}' for v in values)}" for name, values in r["rounds"].items())
        lines.append(f"|  |  |  | ramp of trivial ({store}): {ramp}; rounds (req/s): {rounds} |  |  |  |  |  |")
    lines += ["", ("Target: nearest (and `/p/<slug>`) >= 70 % of the trivial endpoint's throughput at the load "
                   "where the trivial one saturates, p99 < 50 ms."), ""] + [f"- {v}" for v in verdicts]
    return "\n".join(lines)


def _machine() -> str:
    from bench.results import machine

    return machine()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stations", type=int, default=100_000)
    parser.add_argument("--stores", default="embedded,postgis,postgis-sql",
                        help="postgis: nearest from each worker's mirror; postgis-sql: YIZHAN_PG_MIRROR=0, KNN in SQL")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each load run")
    parser.add_argument("--max-connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: gunicorn.conf.py)")
    parser.add_argument("--no-write", action="store_true", help="print, do not update bench/RESULTS.md")
    args = parser.parse_args(argv)
    results = {kind: run_store(kind, args.stations, args.seconds, args.max_connections, args.workers)
               for kind in args.stores.split(",")}
    text = report(results, args.stations, args.seconds)
    print(text)
    if not args.no_write:
        from bench.results import write_section

        write_section("http", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
