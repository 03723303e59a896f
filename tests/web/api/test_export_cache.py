"""Public exports: built once per store revision, shared by workers, rebuilt after a write, rate-limited (15.16)."""
from __future__ import annotations

import sqlite3

import pytest

from app import create_app
from tests.stations import random_stations
from tests.web.conftest import EDITOR_TOKEN, TOKENS

EDITOR = {"Authorization": f"Bearer {EDITOR_TOKEN}"}


@pytest.fixture(params=["embedded", "postgis"])
def workers(request, tmp_path):
    """Two apps on one store and one data directory (two gunicorn workers on one machine)."""
    config = {"DATA_DIR": str(tmp_path / "data"), "SEED": False, "TOKENS": TOKENS, "TESTING": True,
              "EXPORT_LIMIT": 1000}
    if request.param == "postgis":
        config["DATABASE_URL"] = request.getfixturevalue("postgis_url")
    first = create_app(config)
    store = first.extensions["yizhan.store"]
    store.import_rows(random_stations(store.layers, 300, seed=5))
    second = create_app(config)
    yield first, second
    for app in (first, second):
        app.extensions["yizhan.store"].close()


def builds(*apps) -> int:
    return sum(app.extensions["yizhan.exports"].builds for app in apps if "yizhan.exports" in app.extensions)


def cache_files(app) -> list[str]:
    folder = app.extensions["yizhan.exports"].folder
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".lock"))


def test_same_revision_builds_once_and_a_write_invalidates(workers, tmp_path):
    a, b = workers
    ca, cb = a.test_client(), b.test_client()
    first = ca.get("/api/v1/export?format=csv")
    assert first.status_code == 200 and first.mimetype == "text/csv" and builds(a, b) == 1
    again = cb.get("/api/v1/export?format=csv")  # the other worker: the same file, no build
    assert again.get_data() == first.get_data() and builds(a, b) == 1
    assert again.headers["ETag"] == first.headers["ETag"]
    assert cb.get("/api/v1/export?format=csv", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    gpkg = ca.get("/api/v1/export?format=gpkg")
    assert gpkg.status_code == 200 and gpkg.get_data()[:16] == b"SQLite format 3\x00" and builds(a, b) == 2
    (tmp_path / "x.gpkg").write_bytes(gpkg.get_data())
    with sqlite3.connect(tmp_path / "x.gpkg") as db:
        assert db.execute("SELECT count(*) FROM stations").fetchone()[0] == \
            sum(1 for s in a.extensions["yizhan.store"].iter_all() if s.status != "removed")
    assert cb.get("/api/v1/export?format=gpkg").get_data() == gpkg.get_data() and builds(a, b) == 2
    assert len(cache_files(a)) == 2
    # a write through one worker: the next export of either is built anew and shows it
    sid = next(s.id for s in a.extensions["yizhan.store"].iter_all() if s.status == "open")
    assert ca.patch(f"/api/v1/stations/{sid}", json={"properties": {"name": "改过名的驿站"}}, headers=EDITOR).status_code == 200
    fresh = cb.get("/api/v1/export?format=csv")
    assert fresh.status_code == 200 and builds(a, b) == 3 and "改过名的驿站" in fresh.get_data(as_text=True)
    assert fresh.headers["ETag"] != first.headers["ETag"]
    assert len(cache_files(a)) == 1  # the old revision's files are gone
    assert ca.get("/api/v1/export?format=csv").get_data() == fresh.get_data() and builds(a, b) == 3


def test_exports_are_rate_limited_per_client(tmp_path):
    app = create_app({"DATA_DIR": str(tmp_path), "TESTING": True, "EXPORT_LIMIT": 3, "EXPORT_WINDOW_S": 600})
    c = app.test_client()
    try:
        statuses = [c.get("/api/v1/export?format=geojson", environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code
                    for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]
        refused = c.get("/api/v1/export", environ_base={"REMOTE_ADDR": "203.0.113.7"})
        assert refused.get_json()["error"]["code"] == "rate_limited" and int(refused.headers["Retry-After"]) >= 1
        assert c.get("/api/v1/export", environ_base={"REMOTE_ADDR": "198.51.100.2"}).status_code == 200
        assert app.extensions["yizhan.exports"].builds == 1  # one revision, one format: one build for all
    finally:
        app.extensions["yizhan.store"].close()
