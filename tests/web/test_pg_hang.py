"""A PostgreSQL that stops answering (SIGSTOP) must not hang the service (issue 15, item 3).

The postmaster and all its children are stopped, not killed: their kernel keeps every TCP
connection open and acknowledges what is sent, so only the client's own deadlines help. Each
URL must answer within BOUND_S (a bound that only keeps a broken build from hanging the suite;
the service's deadlines are about 2 s): 503 in the contract's form, or 200 where the mirror can
answer (nearest). The cluster is always continued (finally), then every URL must recover.
"""
from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

import pytest

from app import create_app
from tests.pgfixtures import add_postgis_template, start_cluster

BOUND_S = 10.0
NEAREST = "/api/v1/nearest?lat=26.58&lon=106.71"
PARK = "/p/guiyang-shawen"


@pytest.fixture(scope="module")
def cluster():
    made = start_cluster()
    try:
        add_postgis_template(made)
        yield made
    finally:
        os.kill(_postmaster(made), signal.SIGCONT)  # whatever happened, never leave it stopped
        made.cleanup()


def _postmaster(cluster) -> int:
    return int((Path(cluster.data_dir) / "postmaster.pid").read_text().split()[0])


def _family(pid: int) -> list[int]:
    """The postmaster and its children (backends, checkpointer, walwriter, ...)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return [pid, *children]


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _station_id(client) -> str:
    return client.get(NEAREST).get_json()["features"][0]["id"]


def _bounded(pool, client, url):
    """(status, JSON or None) of one GET, or a failure if it took longer than BOUND_S."""
    future = pool.submit(client.get, url)
    try:
        res = future.result(timeout=BOUND_S)
    except FutureTimeout:
        pytest.fail(f"{url} did not answer within {BOUND_S} s while PostgreSQL was stopped")
    return res.status_code, res.get_json(silent=True)


def test_stopped_postgres_answers_503_or_the_mirror_promptly(cluster, tmp_path):
    url = cluster.create_database("hang", template="yizhan_postgis_template")
    app = create_app({"DATABASE_URL": url, "DATA_DIR": str(tmp_path), "TILES": "none"})
    client = app.test_client()
    station = _station_id(client)
    urls = ["/healthz", NEAREST, PARK + "?fresh=0", f"/station/{station}", f"/api/v1/stations/{station}"]
    for path in urls:  # all fine first, every pool holds a live connection
        assert client.get(path).status_code == 200, path
    pids = _family(_postmaster(cluster))
    pool = ThreadPoolExecutor(max_workers=len(urls) * 2)
    try:
        _signal_all(pids, signal.SIGSTOP)
        for round_ in range(2):  # the second round: connections cut by the first are gone, new ones must time out
            for path in urls:
                # the park page is cached a minute per query: a new query each round, so the database is asked
                status, body = _bounded(pool, client, path.replace("fresh=0", f"fresh={round_ + 1}"))
                if path == NEAREST:
                    assert status == 200 and body["features"], (path, status)  # from the mirror
                else:
                    assert status == 503, (path, status)
                if status == 503 and path.startswith(("/api/", "/healthz")):
                    assert body is not None and (
                        body.get("error", {}).get("code") == "store_unavailable" or body.get("status") == "unavailable"
                    ), (path, body)
    finally:
        _signal_all(pids, signal.SIGCONT)
    deadline = time.monotonic() + 30
    for path in urls:
        while (status := _bounded(pool, client, path)[0]) != 200:
            assert time.monotonic() < deadline, f"{path} did not recover: {status}"
            time.sleep(0.2)
    pool.shutdown(wait=True)
    app.extensions["yizhan.store"].close()
