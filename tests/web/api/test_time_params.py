"""Times a person could mean: every time parameter takes 2000-01-01..2100-12-31 only (else the
contract's 400), and every date-time the service writes is RFC 3339 with the +08:00 offset.

Before: `at=1394-04-04T09:00` answered `next_open: 1394-04-04T09:00:00+08:05:43` (the zone's local
mean time), and `at=9999-12-31T23:59` or `at=0001-01-01` raised OverflowError (a 500, on /p a JSON 500).
"""
from __future__ import annotations

import re

import pytest

from app import create_app
from tests.web.conftest import EDITOR_TOKEN, TOKENS

RFC3339_CN = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\+08:00$")
OUT_OF_RANGE = ["1394-04-04T09:00", "9999-12-31T23:59", "0001-01-01", "0001-01-01T00:00+14:00",
                "1999-12-31T23:59:59", "2101-01-01T00:00", "9999-12-31T23:59:59-12:00"]
EDGES = ["2000-01-01T00:00", "2000-01-01", "2100-12-31T23:59:59", "2026-11-28T03:00+00:00"]
NEAR = "/api/v1/nearest?lat=26.58&lon=106.71&k=5"
STATION = "rp-520102-0008"
PARK = "guiyang-shuanglong"


@pytest.fixture(scope="module", params=["embedded", "postgis"])
def any_client(request, tmp_path_factory):
    """A client of the sample app on each store (the hours of an answer come through the store)."""
    config = {"DATA_DIR": str(tmp_path_factory.mktemp("times")), "TESTING": True}
    if request.param == "postgis":
        config["DATABASE_URL"] = request.getfixturevalue("postgis_module_url")
    app = create_app(config)
    yield app.test_client()
    app.extensions["yizhan.store"].close()


@pytest.mark.parametrize("at", OUT_OF_RANGE)
def test_nearest_refuses_times_out_of_range(any_client, at):
    res = any_client.get(f"{NEAR}&at={at.replace('+', '%2B')}")
    assert res.status_code == 400
    error = res.get_json()["error"]
    assert error["code"] == "invalid_parameter" and error["parameter"] == "at"
    assert "2000-01-01" in error["message"] and "2100-12-31" in error["message"]


@pytest.mark.parametrize("at", EDGES)
def test_nearest_takes_the_range_edges_and_writes_plus_eight(any_client, at):
    res = any_client.get(f"{NEAR}&k=50&at={at.replace('+', '%2B')}")
    assert res.status_code == 200
    stamps = [f["properties"]["next_open"] for f in res.get_json()["features"] if f["properties"]["next_open"]]
    for stamp in stamps:
        assert RFC3339_CN.match(stamp), stamp


def test_1394_case_answers_400_not_local_mean_time(client):
    res = client.get(f"{NEAR}&at=1394-04-04T09:00")
    assert res.status_code == 400 and "+08:05" not in res.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/near?lat=26.58&lon=106.71", f"/station/{STATION}", f"/p/{PARK}",
                                  f"/p/{PARK}/poster"])
@pytest.mark.parametrize("at", ["9999-12-31T23:59", "0001-01-01", "1394-04-04T09:00"])
def test_pages_answer_a_friendly_page(client, path, at):
    sep = "&" if "?" in path else "?"
    res = client.get(f"{path}{sep}at={at}")
    assert res.status_code == 400
    assert res.mimetype == "text/html"
    assert "2000-01-01" in res.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/near?lat=26.58&lon=106.71", f"/station/{STATION}", f"/p/{PARK}"])
def test_pages_take_the_edges(client, path):
    sep = "&" if "?" in path else "?"
    for at in ("2000-01-01T00:00", "2100-12-31T23:59"):
        assert client.get(f"{path}{sep}at={at}").status_code == 200


@pytest.mark.parametrize("open_at", ["1394-04-04T09:00", "9999-12-31T23:59", "0001-01-01", 20261128])
def test_planner_open_at_out_of_range(client, open_at):
    body = {"demand": {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.71, 26.58]}, "properties": {}}]},
        "radius_m": 1000, "open_at": open_at}
    res = client.post("/api/v1/plan/coverage", json=body)
    assert res.status_code == 400 and res.get_json()["error"]["parameter"] == "open_at"
    body["open_at"] = "2100-12-31T23:59"
    assert client.post("/api/v1/plan/coverage", json=body).status_code == 200


@pytest.mark.parametrize("since", ["1999-12-31", "2101-01-01", "0001-01-01", "9999-12-31"])
def test_scan_days_since_out_of_range(client, since):
    res = client.get(f"/api/v1/parks/{PARK}/stats?since={since}")
    assert res.status_code == 400 and res.get_json()["error"]["parameter"] == "since"
    assert client.get(f"/api/v1/parks/{PARK}/stats?since=2000-01-01").status_code == 200


def test_written_times_carry_plus_eight(tmp_path):
    """History entries, reports and OGC item pages: every date-time written is RFC 3339 in +08:00."""
    app = create_app({"DATA_DIR": str(tmp_path), "TOKENS": TOKENS, "TESTING": True})
    try:
        c = app.test_client()
        auth = {"Authorization": f"Bearer {EDITOR_TOKEN}"}
        assert c.patch(f"/api/v1/stations/{STATION}", json={"operator": "测试"}, headers=auth).status_code == 200
        history = c.get(f"/api/v1/stations/{STATION}/history", headers=auth).get_json()
        stamps = [e["at"] for e in history["entries"]]
        report = c.post("/api/v1/reports", json={"station_id": STATION, "kind": "locked", "note": ""})
        assert report.status_code == 201
        stamps.append(report.get_json()["created_at"])
        items = c.get("/ogc/collections/rights_post/items?limit=1").get_json()
        stamps.append(items["timeStamp"])
        assert stamps and all(RFC3339_CN.match(s) for s in stamps), stamps
    finally:
        app.extensions["yizhan.store"].close()
