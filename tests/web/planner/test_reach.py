"""The planner takes existing stations from the store's index near the demand, not every stored
station: thousands of far-away stations are never read, and answers equal brute force over all of
them. GET /planner (which runs coverage and a site plan) is rate limited like the POSTs. Both stores."""
from __future__ import annotations

import numpy as np
import pytest

from app import create_app
from geo.distance import destination, geodesic_m
from layers.model import Station

NEAR, FAR = 60, 3000
GUIYANG, URUMQI = (106.7, 26.55), (87.6, 43.8)


class Counting:
    """The app's real store, counting every station it hands out to a reader."""

    def __init__(self, inner) -> None:
        self.inner, self.touched, self.far = inner, 0, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def _count(self, stations):
        self.touched += len(stations)
        self.far += sum(s.id.startswith("far-") for s in stations)

    def iter_all(self):
        for station in self.inner.iter_all():
            self._count([station])
            yield station

    def in_bbox(self, *args, **kwargs):
        page = self.inner.in_bbox(*args, **kwargs)
        self._count(page.stations)
        return page

    def within(self, *args, **kwargs):
        hits = self.inner.within(*args, **kwargs)
        self._count([h.station for h in hits])
        return hits

    def nearest(self, *args, **kwargs):
        hits = self.inner.nearest(*args, **kwargs)
        self._count([h.station for h in hits])
        return hits


def _stations() -> list[Station]:
    rng = np.random.default_rng(4)
    out = []
    for i in range(NEAR):
        lon, lat = destination(*GUIYANG, float(rng.uniform(0, 360)), float(rng.uniform(0, 15_000)))
        status = "temporarily_closed" if i % 10 == 9 else "open"
        layer = "rights_post" if i % 7 == 6 else "rest_station"
        out.append(Station(id=f"near-{i:03d}", lon=lon, lat=lat, name=f"近站{i}", layer=layer, status=status))
    for i in range(FAR):
        lon, lat = destination(*URUMQI, float(rng.uniform(0, 360)), float(rng.uniform(0, 40_000)))
        out.append(Station(id=f"far-{i:04d}", lon=lon, lat=lat, name=f"远站{i}", layer="rest_station"))
    return out


@pytest.fixture(params=["embedded", "postgis"])
def app(request, tmp_path):
    config = {"DATA_DIR": str(tmp_path), "SEED": False, "TESTING": True, "TILES": "none", "PLAN_LIMIT": 3,
              "PLAN_WINDOW_S": 600}
    if request.param == "postgis":
        config["DATABASE_URL"] = request.getfixturevalue("postgis_url")
    made = create_app(config)
    made.extensions["yizhan.store"].import_rows(_stations(), actor="test")
    made.extensions["yizhan.store"] = Counting(made.extensions["yizhan.store"])
    yield made
    made.extensions["yizhan.store"].inner.close()


def _demand() -> dict:
    points = [destination(*GUIYANG, az, metres) for az, metres in ((0, 0), (45, 3000), (200, 9000), (300, 14_000))]
    points.append(destination(*GUIYANG, 90.0, 180_000))  # far from every station: its nearest is ~165 km off
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": f"d{k}", "geometry": {"type": "Point", "coordinates": list(p)},
         "properties": {"weight": k + 1}} for k, p in enumerate(points)]}


def _brute(stations: list[Station], lon: float, lat: float) -> tuple[str, float]:
    serving = [s for s in stations if s.layer == "rest_station" and s.status == "open"]
    return min((round(geodesic_m(lon, lat, s.lon, s.lat), 3), s.id) for s in serving)[::-1]


def test_coverage_reads_only_stations_near_the_demand_and_equals_brute_force(app):
    store = app.extensions["yizhan.store"]
    stations = _stations()
    answer = app.test_client().post("/api/v1/plan/coverage", json={"demand": _demand(), "radius_m": 2000})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert store.far == 0 and store.touched < 4 * NEAR, store.touched  # before: every one (NEAR + FAR)
    for feature in answer.get_json()["features"]:
        sid, metres = _brute(stations, *feature["geometry"]["coordinates"])
        assert feature["properties"]["nearest"]["id"] == sid
        assert feature["properties"]["distance_m"] == pytest.approx(metres, abs=0.002)
        assert feature["properties"]["covered"] == (metres <= 2000)


def test_a_site_plan_sees_the_same_distances(app):
    store = app.extensions["yizhan.store"]
    body = {"demand": _demand(), "radius_m": 2000, "objective": "distance", "p": 1, "candidates": "demand"}
    answer = app.test_client().post("/api/v1/plan/sites", json=body)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert store.far == 0 and store.touched < 4 * NEAR, store.touched
    demand = _demand()["features"]
    expected = sum(f["properties"]["weight"] * _brute(_stations(), *f["geometry"]["coordinates"])[1] for f in demand)
    assert answer.get_json()["summary"]["before"]["weighted_distance_m"] == pytest.approx(expected, abs=0.02)


def test_the_planner_page_is_rate_limited_too(app):
    client = app.test_client()
    statuses = [client.get("/planner?radius_m=2000").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    refused = client.get("/planner?radius_m=2000")
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "<html" in refused.get_data(as_text=True)
    # the sample parks are spread over the country: a box per group of parks, not one country-wide
    # box (which reached every station, far ones too: a 300,000-station page took 5 s instead of 0.2 s)
    assert app.extensions["yizhan.store"].far == 0
