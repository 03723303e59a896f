"""Rate limits hold across gunicorn workers (issue 15.9): the counts live in the store's database."""
from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest

from tests.pgfixtures import free_port
from tests.web.test_security_serve import COMMAND, REPO, _env, fetch

REPORT_LIMIT = 5
EXPORT_LIMIT = 2


def _post(url: str, body: dict) -> int:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _burst(call, n: int, threads: int = 6) -> list[int]:
    """`call()` n times from `threads` threads at once (new connections: any worker may take each)."""
    out: list[int] = []
    lock = threading.Lock()
    todo = iter(range(n))

    def run() -> None:
        while True:
            with lock:
                if next(todo, None) is None:
                    return
            status = call()
            with lock:
                out.append(status)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    return out


class Served:
    """gunicorn with three workers on a free port; its stdout (the access lines) goes to a file."""

    def __init__(self, proc: subprocess.Popen, base: str, log_path) -> None:
        self.proc, self.base, self.log_path = proc, base, log_path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def answering_workers(self, path: str) -> set[str]:
        return set(re.findall(rf"\[(\d+)\] [A-Z]+ {re.escape(path)} \d{{3}}", self.log()))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.communicate(timeout=60)


@pytest.fixture(params=["embedded", "postgis"])
def served(request, tmp_path):
    pytest.importorskip("gunicorn", reason="pip install gunicorn (requirements.txt)")
    port = free_port()
    extra = {"YIZHAN_BIND": f"127.0.0.1:{port}", "YIZHAN_WORKERS": "3",
             "YIZHAN_REPORT_LIMIT": str(REPORT_LIMIT), "YIZHAN_EXPORT_LIMIT": str(EXPORT_LIMIT),
             "YIZHAN_TIMEOUT": "120"}
    if request.param == "postgis":
        extra["YIZHAN_DATABASE_URL"] = request.getfixturevalue("postgis_url")
    log_path = tmp_path / "stdout.log"
    # sync workers take one request at a time, so a burst's overlapping requests must reach several of
    # them (gthread workers accept whatever is waiting: one of them could take a whole fast burst)
    with open(log_path, "w") as out:
        proc = subprocess.Popen([*COMMAND, "--worker-class", "sync"], cwd=REPO, env=_env(tmp_path / "data", **extra),
                                stdout=out, stderr=subprocess.PIPE, text=True)
    server = Served(proc, f"http://127.0.0.1:{port}", log_path)
    try:
        deadline = time.monotonic() + 180
        while len(server.answering_workers("/healthz")) < 3:  # every worker loaded and answering
            assert proc.poll() is None, proc.communicate()[1][-2000:]
            assert time.monotonic() < deadline, "not all three gunicorn workers answered within 180 s"
            _burst(lambda: _get(f"{server.base}/healthz") if _up(server.base) else 0, 12, threads=6)
            time.sleep(0.2)
        yield server
    finally:
        server.stop()


def _up(base: str) -> bool:
    try:
        return fetch(f"{base}/healthz")[0] == 200
    except OSError:
        return False


def test_n_plus_k_fast_requests_from_one_client_get_exactly_n_through(served):
    base = served.base
    station = fetch(f"{base}/api/v1/nearest?lat=31.23&lon=121.47&k=1")[1]["features"][0]["id"]
    statuses = _burst(lambda: _post(f"{base}/api/v1/reports", {"station_id": station, "kind": "other"}), 24, threads=12)
    # N through the limit, of which one is recorded (201): the rest repeat it (200, the same kind, station, day)
    assert Counter(statuses) == {201: 1, 200: REPORT_LIMIT - 1, 429: 24 - REPORT_LIMIT}
    exports = _burst(lambda: _get(f"{base}/api/v1/export?format=csv"), 6, threads=3)
    assert Counter(exports) == {200: EXPORT_LIMIT, 429: 6 - EXPORT_LIMIT}
    served.stop()
    # the limit proves something only when more than one worker answered the burst
    assert len(served.answering_workers("/api/v1/reports")) >= 2, served.log()[-3000:]
