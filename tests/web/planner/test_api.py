"""The planner's API, page and CLI on the sample data: happy paths, brute-force checks, 400s and 413s."""
from __future__ import annotations

import io
import json

import pytest

from app import create_app
from geo.distance import geodesic_m


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = create_app({"DATA_DIR": str(tmp_path_factory.mktemp("planner")), "TESTING": True, "TILES": "none",
                      "PLAN_LIMIT": 100_000})  # the rate limit has its own test (test_security)
    yield app
    app.extensions["yizhan.store"].close()


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def _collection(points, weights=None):
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": f"d{k}", "geometry": {"type": "Point", "coordinates": list(p)},
         "properties": {"weight": (weights[k] if weights else 1)}} for k, p in enumerate(points)]}


def _open_rest_stations(app):
    return [s for s in app.extensions["yizhan.store"].iter_all() if s.layer == "rest_station" and s.status == "open"]


def test_coverage_of_the_parks_equals_brute_force(app, client):
    res = client.post("/api/v1/plan/coverage", json={"demand": "parks"})
    assert res.status_code == 200 and res.mimetype == "application/geo+json"
    body = res.get_json()
    stations = _open_rest_stations(app)
    covered = 0
    for f in body["features"]:
        lon, lat = f["geometry"]["coordinates"]
        best = min(geodesic_m(lon, lat, s.lon, s.lat) for s in stations)
        assert f["properties"]["distance_m"] == pytest.approx(best, abs=0.002)
        assert f["properties"]["covered"] == (best <= 1000.0)
        covered += best <= 1000.0
    summary = body["summary"]
    assert summary["radius_m"] == 1000.0 and summary["demand_points"] == 12
    assert summary["covered_share"] == pytest.approx(covered / 12, abs=1e-6)
    assert summary["uncovered_points"] == 12 - covered == len(summary["uncovered_ids"])
    assert sum(b["count"] for b in summary["histogram"]) == 12


def test_coverage_crs_and_radius(client):
    point = [106.71, 26.58]
    wgs = client.post("/api/v1/plan/coverage", json={"demand": _collection([point]), "radius_m": 5000}).get_json()
    from geo.crs import from_wgs84
    gcj = list(from_wgs84(point[0], point[1], "gcj02"))
    shifted = client.post("/api/v1/plan/coverage", json={"demand": _collection([gcj]), "crs": "gcj02",
                                                         "radius_m": 5000}).get_json()
    a, b = wgs["features"][0]["properties"], shifted["features"][0]["properties"]
    assert a["distance_m"] == pytest.approx(b["distance_m"], abs=0.01)
    assert wgs["summary"]["radius_m"] == 5000


def test_sites_happy_path(client):
    res = client.post("/api/v1/plan/sites", json={"demand": "parks", "p": 3})
    assert res.status_code == 200
    body = res.get_json()
    assert [f["properties"]["rank"] for f in body["features"]] == [1, 2, 3]
    s = body["summary"]
    assert s["after"]["covered_share"] >= s["before"]["covered_share"]
    assert sum(f["properties"]["gain"] for f in body["features"]) == pytest.approx(s["value"], abs=1e-6)
    assert 0 <= s["gap"] <= 1 and s["bound"] >= s["value"] - 1e-6
    res = client.post("/api/v1/plan/sites", json={"demand": "parks", "p": 2, "objective": "distance",
                                                  "candidates": "demand"})
    s = res.get_json()["summary"]
    assert res.status_code == 200 and s["after"]["weighted_distance_m"] <= s["before"]["weighted_distance_m"]
    assert s["bound"] <= s["value"] + 1e-6


@pytest.mark.parametrize("objective", ["coverage", "distance"])
def test_sites_say_whether_the_time_limit_stopped_them_and_repeat_exactly(client, objective):
    body = {"demand": "parks", "p": 3, "objective": objective, "time_limit_s": 30, "gap": 0}
    first, second = (client.post("/api/v1/plan/sites", json=body).get_json() for _ in range(2))
    s = first["summary"]
    assert s["time_limit_s"] == 30 and s["time_limited"] is False  # finished by its own budgets ...
    assert s["solver_time_s"] is None or 0 < s["solver_time_s"] <= 30
    assert first["features"] == second["features"]  # ... so the same request gets the same answer
    assert {k: v for k, v in s.items() if k not in ("seconds", "solver_time_s")} == {
        k: v for k, v in second["summary"].items() if k not in ("seconds", "solver_time_s")}


def test_sites_csv_download(client):
    res = client.post("/api/v1/plan/sites?format=csv", json={"demand": "parks", "p": 2})
    assert res.status_code == 200 and res.mimetype == "text/csv"
    lines = res.data.decode().strip().splitlines()
    assert lines[0].startswith("id,lon,lat,rank") and len(lines) == 3


@pytest.mark.parametrize("body,parameter", [
    ({}, "demand"),
    ({"demand": "nowhere"}, "demand"),
    ({"demand": {"type": "FeatureCollection"}}, "demand"),
    ({"demand": _collection([[113.0, 22.0]], [-1])}, "demand"),
    ({"demand": _collection([[113.0, 95.0]])}, "demand"),
    ({"demand": _collection([["a", 22.0]])}, "demand"),
    ({"demand": "parks", "radius_m": 0}, "radius_m"),
    ({"demand": "parks", "radius_m": "far"}, "radius_m"),
    ({"demand": "parks", "layer": ["ghost"]}, "layer"),
    ({"demand": "parks", "service": ["teleport"]}, "service"),
    ({"demand": "parks", "open_at": "tomorrow"}, "open_at"),
    ({"demand": "parks", "crs": "mars"}, "crs"),
    ({"demand": "parks", "p": 0}, "p"),
    ({"demand": "parks", "p": 2.5}, "p"),
    ({"demand": "parks", "objective": "fastest"}, "objective"),
    ({"demand": "parks", "method": "magic"}, "method"),
    ({"demand": "parks", "candidates": {"grid": "triangle"}}, "candidates"),
    ({"demand": "parks", "candidates": "demand", "p": 13}, "p"),
    ({"demand": "parks", "unknown": 1}, "unknown"),
])
def test_sites_bad_input_is_a_400_naming_the_parameter(client, body, parameter):
    res = client.post("/api/v1/plan/sites", json=body)
    assert res.status_code == 400, res.get_json()
    assert res.get_json()["error"]["parameter"] == parameter


def test_not_json_is_a_400(client):
    res = client.post("/api/v1/plan/coverage", data="lon,lat\n1,2", content_type="text/csv")
    assert res.status_code == 400 and res.get_json()["error"]["parameter"] == "body"


def test_too_many_points_is_a_413(client):
    many = _collection([[113.0 + k * 1e-5, 22.0] for k in range(20_001)])
    res = client.post("/api/v1/plan/coverage", json={"demand": many})
    assert res.status_code == 413 and res.get_json()["error"]["code"] == "too_large"
    cands = _collection([[113.0 + k * 1e-5, 22.0] for k in range(5_001)])
    res = client.post("/api/v1/plan/sites", json={"demand": "parks", "candidates": cands})
    assert res.status_code == 413 and res.get_json()["error"]["parameter"] == "candidates"
    res = client.post("/api/v1/plan/sites", json={"demand": "parks", "candidates": {"grid": "hex", "spacing_m": 10}})
    assert res.status_code == 413


def test_page_default_and_upload(client):
    res = client.get("/planner")
    html = res.data.decode()
    assert res.status_code == 200 and "站点规划" in html and "download=\"sites.geojson\"" in html
    for cdn in ("cdn.", "unpkg.com", "jsdelivr", "cdnjs"):
        assert cdn not in html
    upload = "lon,lat,weight\n113.884,22.918,50\n113.90,22.93,20\n"
    res = client.post("/planner", data={"demand_file": (io.BytesIO(upload.encode()), "d.csv"), "p": "2",
                                        "radius_m": "800"}, content_type="multipart/form-data")
    assert res.status_code == 200 and "coverage.csv" in res.data.decode()
    res = client.post("/planner", data={"demand_file": (io.BytesIO(b"lon,lat\n1,x\n"), "d.csv"), "p": "2"},
                      content_type="multipart/form-data")
    assert res.status_code == 400 and "line 2" in res.data.decode()


def test_cli(app, tmp_path):
    demand = tmp_path / "demand.csv"
    demand.write_text("lon,lat,weight\n113.884,22.918,50\n113.90,22.93,20\n106.772,26.628,10\n", encoding="utf-8")
    runner = app.test_cli_runner()
    out = tmp_path / "cov.geojson"
    result = runner.invoke(args=["plan", "coverage", str(demand), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "covered within 1000 m" in result.output and len(json.loads(out.read_text())["features"]) == 3
    out = tmp_path / "sites.csv"
    result = runner.invoke(args=["plan", "sites", str(demand), "--p", "2", "--objective", "distance", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "#1:" in result.output and len(out.read_text().strip().splitlines()) == 3
    result = runner.invoke(args=["plan", "sites", str(demand), "--p", "0"])
    assert result.exit_code != 0
