"""The whole app on PostGIS: same answers as the embedded store, CLI moves, 503 and recovery."""
from __future__ import annotations

import time

import pytest

from app import create_app
from tests.pgfixtures import start_cluster

QUERIES = ["lat=26.58&lon=106.71&k=10", "lat=28.14&lon=121.23&k=5&layer=service_window&origin=520322",
           "lat=23.02&lon=113.75&k=20&layer=rest_station&service=toilet&open_now=1&at=2026-11-30T22:00",
           "lat=30.27&lon=120.15&k=7&radius_m=15000"]


def answers(client, query):
    body = client.get(f"/api/v1/nearest?{query}").get_json()
    return [(f["id"], f["properties"]["distance_m"], f["properties"]["open_now"]) for f in body["features"]]


@pytest.fixture
def own_cluster():
    cluster = start_cluster()
    yield cluster
    cluster.cleanup()


def test_postgis_app_answers_like_the_embedded_app(postgis_url, tmp_path, client):
    app = create_app({"DATABASE_URL": postgis_url, "DATA_DIR": str(tmp_path)})
    pg = app.test_client()
    assert pg.get("/healthz").get_json()["store"]["kind"] == "postgis"
    for query in QUERIES:
        assert answers(pg, query) == answers(client, query) != []
    box = "/api/v1/stations?bbox=106.5,26.4,106.9,26.8&limit=50"
    assert pg.get(box).get_json()["features"] == client.get(box).get_json()["features"]
    app.extensions["yizhan.store"].close()


def test_cli_copies_both_ways_and_upgrades(postgis_url, tmp_path):
    embedded = create_app({"DATA_DIR": str(tmp_path / "from")})
    runner = embedded.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade", "--url", postgis_url])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["db", "copy", str(tmp_path / "from"), postgis_url])
    assert result.exit_code == 0, result.output
    total = embedded.extensions["yizhan.store"].count()
    assert f"target now holds {total:,}" in result.output
    result = runner.invoke(args=["db", "copy", postgis_url, str(tmp_path / "back")])
    assert result.exit_code == 0, result.output
    back = create_app({"DATA_DIR": str(tmp_path / "back"), "SEED": False})
    assert back.extensions["yizhan.store"].count() == total
    for query in QUERIES:
        assert answers(back.test_client(), query) == answers(embedded.test_client(), query)
    result = runner.invoke(args=["db", "upgrade", "--url", postgis_url])
    assert "up to date" in result.output
    for app in (embedded, back):
        app.extensions["yizhan.store"].close()


def test_database_down_answers_503_fast_and_recovers(own_cluster, tmp_path):
    url = own_cluster.create_database("app_faults")
    app = create_app({"DATABASE_URL": url, "DATA_DIR": str(tmp_path)})
    c = app.test_client()
    assert c.get("/api/v1/nearest?lat=26.58&lon=106.71").status_code == 200
    own_cluster.stop("immediate")
    started = time.monotonic()
    res = c.get("/api/v1/nearest?lat=26.58&lon=106.71")
    assert time.monotonic() - started < 2.5
    assert res.status_code == 503 and res.get_json()["error"]["code"] == "store_unavailable"
    assert c.get("/healthz").status_code == 503
    page = c.get("/near?lat=26.58&lon=106.71")
    assert page.status_code == 503 and "text/html" in page.content_type and "Traceback" not in page.get_data(as_text=True)
    own_cluster.start()
    deadline = time.monotonic() + 20
    while c.get("/api/v1/nearest?lat=26.58&lon=106.71").status_code != 200:
        assert time.monotonic() < deadline, "did not recover"
        time.sleep(0.2)
    assert c.get("/healthz").status_code == 200
    app.extensions["yizhan.store"].close()


def test_app_starts_with_the_database_down(own_cluster, tmp_path):
    url = own_cluster.create_database("late")
    own_cluster.stop("fast")
    app = create_app({"DATABASE_URL": url, "DATA_DIR": str(tmp_path)})
    c = app.test_client()
    res = c.get("/api/v1/nearest?lat=26.58&lon=106.71")
    assert res.status_code == 503 and res.get_json()["error"]["code"] == "store_unavailable"
    assert c.get("/healthz").get_json()["status"] == "unavailable"
    own_cluster.start()
    deadline = time.monotonic() + 20
    while (res := c.get("/api/v1/nearest?lat=26.58&lon=106.71&k=3")).status_code != 200:
        assert time.monotonic() < deadline, "did not recover"
        time.sleep(0.3)
    assert len(res.get_json()["features"]) == 3  # seeded with the sample data once it could be
    app.extensions["yizhan.store"].close()
