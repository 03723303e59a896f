"""Regressions for what schemathesis found against /openapi.json (tests/web/openapi/test_schemathesis.py):
each was a 500, an answer contradicting the document, or an error outside the contract's form."""
from __future__ import annotations

import re

import pytest

from tests.web.conftest import EDITOR_TOKEN

AUTH = {"Authorization": f"Bearer {EDITOR_TOKEN}"}
FEATURE = {"type": "Feature", "id": "rs-conf-1", "geometry": {"type": "Point", "coordinates": [106.7, 26.57]},
           "properties": {"name": "测试驿站", "layer": "rest_station", "hours": "Mo-Fr 08:00-18:00"}}
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$")
URI = re.compile(r"^[A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]+$")


@pytest.mark.parametrize(("method", "path"), [("TRACE", "/healthz"), ("DELETE", "/api/v1/layers"),
                                              ("PUT", "/api/v1/nearest"), ("TRACE", "/openapi.json")])
def test_405_names_the_allowed_methods(client, method, path):
    res = client.open(path, method=method)
    assert res.status_code == 405 and res.get_json()["error"]["code"] == "method_not_allowed"
    assert "GET" in {m.strip() for m in res.headers["Allow"].split(",")}  # RFC 9110: a 405 carries Allow


def test_next_open_is_an_rfc3339_date_time(client):
    # Sunday 22:00: weekday-only stations are closed and say when they open next
    res = client.get("/api/v1/nearest?lat=26.58&lon=106.71&k=30&at=2026-11-29T22:00")
    moments = [f["properties"]["next_open"] for f in res.get_json()["features"] if f["properties"]["next_open"]]
    assert moments and all(RFC3339.match(m) for m in moments), moments[:3]


def test_a_fetched_station_can_be_put_back_as_it_came(writable_app):
    c = writable_app.test_client()
    assert c.post("/api/v1/stations", json=FEATURE, headers=AUTH).status_code == 201
    fetched = c.get("/api/v1/stations/rs-conf-1?at=2026-11-29T22:00").get_json()
    assert {"hours_today", "next_open", "open_now", "nav"} <= set(fetched["properties"])
    res = c.put("/api/v1/stations/rs-conf-1", json=fetched, headers=AUTH)
    assert res.status_code == 200, res.get_json()


@pytest.mark.parametrize("layer", [{}, [], ["rest_station"], 5])
def test_a_layer_that_is_not_a_string_is_a_400(writable_app, layer):
    body = {**FEATURE, "properties": {**FEATURE["properties"], "layer": layer}}
    res = writable_app.test_client().post("/api/v1/stations", json=body, headers=AUTH)
    assert res.status_code == 400 and res.get_json()["error"]["parameter"] == "layer"


@pytest.mark.parametrize("crs", ["wgs84", "gcj02"])
@pytest.mark.parametrize("method,path", [("POST", "/api/v1/stations"), ("PUT", "/api/v1/stations/rs-conf-1")])
def test_a_geometry_that_is_not_an_object_is_a_400(writable_app, crs, method, path):
    body = {**FEATURE, "geometry": [106.7, 26.57]}
    res = writable_app.test_client().open(path, method=method, json=body, headers=AUTH, query_string={"crs": crs})
    assert res.status_code == 400 and res.get_json()["error"]["parameter"] == "geometry"


@pytest.mark.parametrize("path", ["/api/v1/plan/coverage", "/api/v1/plan/sites"])
def test_planner_demand_geometry_that_is_not_an_object_is_a_400(client, path):
    demand = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": [None, None]}]}
    res = client.post(path, json={"demand": demand})
    assert res.status_code == 400 and res.get_json()["error"]["parameter"] == "demand"


@pytest.mark.parametrize("path", ["/api/v1/plan/coverage", "/api/v1/plan/sites"])
def test_planner_refuses_unknown_query_parameters(client, path):
    res = client.post(f"{path}?fromat=csv", json={"demand": "parks"})
    assert res.status_code == 400 and res.get_json()["error"]["parameter"] == "fromat"


@pytest.mark.parametrize("path", ["/healthz?x=%00", "/openapi.json?x=%00"])
def test_nul_on_healthz_and_openapi_is_a_json_error(client, path):
    res = client.get(path, headers={"Accept": "*/*"})
    assert res.status_code == 400 and res.mimetype == "application/json"
    assert res.get_json()["error"]["code"] == "invalid_parameter"


def test_station_page_links_are_uris(client):
    res = client.get("/api/v1/stations", query_string=[("limit", "5"), ("limit", "{}"), ("_", "中 [x]")])
    assert res.status_code == 200
    hrefs = [link["href"] for link in res.get_json()["links"]]
    assert hrefs and all(URI.match(h) for h in hrefs), hrefs


def test_a_report_id_beyond_int64_is_a_404(writable_app):
    res = writable_app.test_client().post(f"/api/v1/reports/{2**70}/resolve", headers=AUTH)
    assert res.status_code == 404 and res.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("properties", [[None, None], "name", 5])
def test_patch_with_properties_that_are_not_an_object_is_a_400(writable_app, properties):
    c = writable_app.test_client()
    assert c.post("/api/v1/stations", json=FEATURE, headers=AUTH).status_code == 201
    res = c.patch("/api/v1/stations/rs-conf-1", json={"properties": properties}, headers=AUTH)
    assert res.status_code == 400 and res.get_json()["error"]["parameter"] == "properties"
