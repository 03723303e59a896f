"""Concurrent writers and conditional writes over real HTTP, on both stores (issue 15, item 2).

Two apps open the same store (two gunicorn workers would: two SQLite connections to one file, or
two PostGIS pools and mirrors), each served by werkzeug's threaded server on its own port. Two
clients PATCH one station at the same time, one setting `address`, the other `operator`; every
change acknowledged must be in the final state, and each audit entry must change only the field
its client set (a lost update shows as an entry changing both: the other field rolled back).
"""
from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from app import create_app
from tests.web.conftest import EDITOR_TOKEN, TOKENS
from tests.web.openapi.test_schemathesis import serving

ROUNDS = 60
FEATURE = {"type": "Feature", "id": "race-1", "geometry": {"type": "Point", "coordinates": [106.7, 26.57]},
           "properties": {"name": "并发驿站", "layer": "rest_station", "address": "起点", "operator": "起点"}}


class Client:
    """One keep-alive HTTP connection to a live server, with the editor token."""

    def __init__(self, base: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)

    def send(self, method: str, path: str, body: dict | None = None, **headers: str):
        headers = {"Authorization": f"Bearer {EDITOR_TOKEN}", "Content-Type": "application/json",
                   **{k.replace("_", "-"): v for k, v in headers.items()}}
        self.conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        res = self.conn.getresponse()
        data = res.read()
        return res.status, res.headers, json.loads(data) if data else None

    def close(self) -> None:
        self.conn.close()


@pytest.fixture(params=["embedded", "postgis"])
def two_servers(request, tmp_path) -> Iterator[tuple[str, str]]:
    """Two apps on one store, each on a live threaded server: their base URLs."""
    config = {"DATA_DIR": str(tmp_path), "SEED": False, "TOKENS": TOKENS, "TILES": "none"}
    if request.param == "postgis":
        config["DATABASE_URL"] = request.getfixturevalue("postgis_url")
    with ExitStack() as stack:
        urls = []
        for _ in range(2):
            app = create_app(config)
            stack.callback(app.extensions["yizhan.store"].close)
            urls.append(stack.enter_context(serving(app)))
        yield tuple(urls)


def _patcher(base: str, field: str, acked: list[str], errors: list[str]) -> None:
    client = Client(base)
    try:
        for i in range(ROUNDS):
            value = f"{field}-{i}"
            status, _, body = client.send("PATCH", "/api/v1/stations/race-1", {"properties": {field: value}})
            if status == 200:
                acked.append(value)
            else:
                errors.append(f"{status} {body}")
    finally:
        client.close()


def test_concurrent_patches_keep_every_acknowledged_change(two_servers):
    first, second = two_servers
    setup = Client(first)
    assert setup.send("PUT", "/api/v1/stations/race-1", FEATURE)[0] == 201
    acked = {"address": [], "operator": []}
    errors: list[str] = []
    threads = [threading.Thread(target=_patcher, args=(base, field, acked[field], errors))
               for base, field in ((first, "address"), (second, "operator"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads) and errors == []
    assert len(acked["address"]) == len(acked["operator"]) == ROUNDS
    for base in (first, second):  # either app: the last acknowledged change of each client
        props = Client(base).send("GET", "/api/v1/stations/race-1")[2]["properties"]
        assert (props["address"], props["operator"]) == (acked["address"][-1], acked["operator"][-1])
    status, _, history = setup.send("GET", "/api/v1/stations/race-1/history?limit=1000")
    assert status == 200
    updates = [e for e in history["entries"] if e["action"] == "update"]
    assert len(updates) == 2 * ROUNDS
    both = [e["seq"] for e in updates
            if sum(e["before"]["properties"].get(f) != e["after"]["properties"].get(f)
                   for f in ("address", "operator")) != 1]
    assert both == [], f"{len(both)} of {len(updates)} entries changed both fields (or neither)"
    setup.close()


def test_etag_and_if_match(two_servers):
    first, second = two_servers
    a, b = Client(first), Client(second)
    status, headers, _ = a.send("PUT", "/api/v1/stations/race-1", FEATURE)
    assert status == 201
    created = headers["ETag"]
    assert created.startswith('"') and created.endswith('"') and len(created) > 2  # strong, quoted
    status, headers, _ = b.send("GET", "/api/v1/stations/race-1")
    assert status == 200 and headers["ETag"] == created  # the same revision, whichever app answers
    # a write on the current revision succeeds and answers the new one
    status, headers, body = b.send("PATCH", "/api/v1/stations/race-1", {"properties": {"address": "新址"}},
                                   If_Match=created)
    assert status == 200 and body["properties"]["address"] == "新址"
    patched = headers["ETag"]
    assert patched != created and a.send("GET", "/api/v1/stations/race-1")[1]["ETag"] == patched
    # a write on the old revision is refused on every method, and changes nothing
    for method, body in (("PATCH", {"properties": {"operator": "旧"}}), ("PUT", FEATURE), ("DELETE", None)):
        status, _, error = a.send(method, "/api/v1/stations/race-1", body, If_Match=created)
        assert status == 412, (method, status, error)
        assert error["error"]["code"] == "precondition_failed" and error["error"]["parameter"] == "If-Match"
        assert set(error["error"]) == {"code", "message", "parameter"}
    assert a.send("GET", "/api/v1/stations/race-1")[2]["properties"]["address"] == "新址"
    # weak tags never match (strong comparison); a list matches when one of them does; * matches any
    assert a.send("PATCH", "/api/v1/stations/race-1", {"properties": {"operator": "x"}},
                  If_Match=f"W/{patched}")[0] == 412
    status, headers, _ = a.send("PUT", "/api/v1/stations/race-1", FEATURE, If_Match=f'{created}, {patched}')
    assert status == 200 and headers["ETag"] == created  # the same content as at first: the same tag
    assert a.send("PATCH", "/api/v1/stations/race-1", {"properties": {"operator": "y"}}, If_Match="*")[0] == 200
    # without If-Match writes stay unconditional (no 428); * on an absent station fails
    assert a.send("PATCH", "/api/v1/stations/race-1", {"properties": {"operator": "z"}})[0] == 200
    assert a.send("PUT", "/api/v1/stations/absent-1", {**FEATURE, "id": "absent-1"}, If_Match="*")[0] == 412
    assert a.send("GET", "/api/v1/stations/absent-1")[0] == 404
    current = a.send("GET", "/api/v1/stations/race-1")[1]["ETag"]
    assert a.send("DELETE", "/api/v1/stations/race-1", If_Match=current)[0] == 204
    assert a.send("GET", "/api/v1/stations/race-1")[0] == 404
    a.close()
    b.close()
