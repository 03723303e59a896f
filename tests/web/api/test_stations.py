"""The JSON API of the contract: answers, every error case, writes with tokens."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import create_app
from geo.crs import from_wgs84
from geo.distance import geodesic_m
from layers.layerdefs import read_definitions
from tests.web.conftest import EDITOR_TOKEN, READER_TOKEN, TOKENS


def test_nearest_guiyang(client):
    res = client.get("/api/v1/nearest?lat=26.58&lon=106.71&k=5")
    assert res.status_code == 200
    body = res.get_json()
    assert body["type"] == "FeatureCollection" and body["numberReturned"] == 5
    distances = [f["properties"]["distance_m"] for f in body["features"]]
    assert distances == sorted(distances) and distances[0] < 5000
    for f in body["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert f["properties"]["distance_m"] == pytest.approx(geodesic_m(106.71, 26.58, lon, lat), abs=0.002)
        assert f["properties"]["open_now"] in (True, False, None)
        assert set(f["properties"]["nav"]) == {"amap", "baidu", "tencent"}


def test_nearest_filters(client):
    res = client.get("/api/v1/nearest?lat=28.14&lon=121.23&k=3&layer=service_window&origin=520322")
    feats = res.get_json()["features"]
    assert feats and all("520322" in f["properties"]["origins"] for f in feats)
    assert all(f["properties"]["layer"] == "service_window" for f in feats)
    res = client.get("/api/v1/nearest?lat=26.58&lon=106.71&k=10&layer=rest_station&service=toilet&radius_m=20000")
    feats = res.get_json()["features"]
    assert all("toilet" in f["properties"]["services"] and f["properties"]["distance_m"] <= 20000 for f in feats)
    res = client.get("/api/v1/nearest?lat=26.58&lon=106.71&k=10&open_now=1&at=2026-11-28T03:00")
    assert all(f["properties"]["open_now"] is True for f in res.get_json()["features"])


def test_crs_gcj02_input_lands_on_the_station(client):
    first = client.get("/api/v1/nearest?lat=26.58&lon=106.71&k=1").get_json()["features"][0]
    lon, lat = first["geometry"]["coordinates"]
    glon, glat = from_wgs84(lon, lat, "gcj02")
    got = client.get(f"/api/v1/nearest?lat={glat}&lon={glon}&k=1&crs=gcj02").get_json()["features"][0]
    assert got["id"] == first["id"] and got["properties"]["distance_m"] < 0.5
    blon, blat = from_wgs84(lon, lat, "bd09")
    got = client.get(f"/api/v1/nearest?lat={blat}&lon={blon}&k=1&crs=bd09").get_json()["features"][0]
    assert got["id"] == first["id"] and got["properties"]["distance_m"] < 0.5


BAD_NEAREST = [
    ("lon=106.7", "lat"), ("lat=26.5", "lon"), ("lat=abc&lon=106", "lat"), ("lat=nan&lon=106", "lat"),
    ("lat=inf&lon=106", "lat"), ("lat=91&lon=106", "lat"), ("lat=26&lon=-181", "lon"),
    ("lat=26&lon=106&k=0", "k"), ("lat=26&lon=106&k=10000", "k"), ("lat=26&lon=106&k=1.5", "k"),
    ("lat=26&lon=106&k=-3", "k"), ("lat=26&lon=106&layer=bogus", "layer"),
    ("lat=26&lon=106&service=bogus", "service"), ("lat=26&lon=106&crs=epsg:3857", "crs"),
    ("lat=26&lon=106&radius_m=-5", "radius_m"), ("lat=26&lon=106&origin=12", "origin"),
    ("lat=26&lon=106&open_now=maybe", "open_now"), ("lat=26&lon=106&at=yesterday", "at"),
    ("lat=26&lon=106&lyr=rest_station", "lyr"), ("lat=1e400&lon=106", "lat"),
]


@pytest.mark.parametrize("query,parameter", BAD_NEAREST)
def test_nearest_bad_input(client, query, parameter):
    res = client.get(f"/api/v1/nearest?{query}")
    assert res.status_code == 400, res.get_data(as_text=True)
    err = res.get_json()["error"]
    assert err["code"] == "invalid_parameter" and err["parameter"] == parameter and err["message"]


@pytest.mark.parametrize("query,parameter", [
    ("bbox=1,2,3", "bbox"), ("bbox=a,b,c,d", "bbox"), ("bbox=107,26,106,27", "bbox"),
    ("bbox=100,20,110,95", "bbox"), ("bbox=,,,", "bbox"), ("limit=0", "limit"), ("limit=5000", "limit"),
    ("offset=-1", "offset"), ("layer=nope", "layer"),
])
def test_stations_bad_input(client, query, parameter):
    res = client.get(f"/api/v1/stations?{query}")
    assert res.status_code == 400
    assert res.get_json()["error"]["parameter"] == parameter


def test_stations_bbox_paging_follows_next(client):
    url = "/api/v1/stations?bbox=106.5,26.4,106.9,26.8&limit=20&layer=rest_station,rights_post"
    seen, matched = [], None
    while url:
        body = client.get(url).get_json()
        matched = body["numberMatched"] if matched is None else matched
        assert body["numberMatched"] == matched
        seen += [f["id"] for f in body["features"]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        assert not nxt or "layer=rest_station" in nxt[0] and "bbox=" in nxt[0]
        url = nxt[0].replace("http://localhost", "") if nxt else None
    assert len(seen) == matched == len(set(seen)) and matched > 20
    assert seen == sorted(seen)


def test_one_station_and_404(client):
    first = client.get("/api/v1/nearest?lat=26.58&lon=106.71&k=1").get_json()["features"][0]
    res = client.get(f"/api/v1/stations/{first['id']}")
    assert res.status_code == 200 and res.get_json()["id"] == first["id"]
    res = client.get("/api/v1/stations/does-not-exist")
    assert res.status_code == 404 and res.get_json()["error"]["code"] == "not_found"
    res = client.get("/api/v1/no-such-endpoint")
    assert res.status_code == 404 and "error" in res.get_json()
    assert client.delete("/api/v1/layers").status_code == 405


def test_layers_and_health(client):
    layers = client.get("/api/v1/layers").get_json()["layers"]
    assert [lay["id"] for lay in layers] == [path.stem for path, _raw in read_definitions()]  # one per layer file
    assert {"rest_station", "rights_post", "service_window", "worker_center", "gig_market", "training_center"} <= {
        lay["id"] for lay in layers}
    for lay in layers:
        assert lay["name"]["zh"] and lay["name"]["en"] and lay["colour"].startswith("#") and lay["services"]
    health = client.get("/healthz")
    assert health.status_code == 200 and health.get_json()["store"]["stations"] > 1000


def test_openapi_is_valid(client):
    from openapi_spec_validator import validate

    doc = client.get("/openapi.json").get_json()
    validate(doc)
    assert {"/api/v1/nearest", "/api/v1/stations", "/api/v1/stations/{station_id}", "/api/v1/layers",
            "/healthz", "/api/v1/geocode", "/api/v1/parks", "/api/v1/parks/{slug}", "/api/v1/parks/{slug}/stats",
            "/api/v1/reports", "/api/v1/reports/{report_id}/resolve", "/api/v1/plan/coverage",
            "/api/v1/plan/sites"} <= set(doc["paths"])
    routes = {rule.rule for rule in client.application.url_map.iter_rules() if rule.rule.startswith("/api/")}
    documented = {path.replace("{", "<").replace("}", ">") for path in doc["paths"]}
    documented |= {"/api/v1/reports/<int:report_id>/resolve", "/api/v1/reports/<int:report_id>/undo"}
    assert routes <= documented, routes - documented


FEATURE = {"type": "Feature", "id": "rs-test-1", "geometry": {"type": "Point", "coordinates": [106.7, 26.57]},
           "properties": {"name": "测试驿站", "layer": "rest_station", "hours": "Mo-Fr 08:00-18:00",
                          "services": ["toilet", "hot_water"], "adcode": "520102"}}


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_writes_need_the_right_token(writable_app):
    c = writable_app.test_client()
    assert c.post("/api/v1/stations", json=FEATURE).status_code == 401
    assert c.post("/api/v1/stations", json=FEATURE, headers=auth("wrong")).status_code == 401
    res = c.post("/api/v1/stations", json=FEATURE, headers=auth(READER_TOKEN))
    assert res.status_code == 403 and res.get_json()["error"]["code"] == "forbidden"
    res = c.post("/api/v1/stations", json=FEATURE, headers=auth(EDITOR_TOKEN))
    assert res.status_code == 201 and res.headers["Location"].endswith("/api/v1/stations/rs-test-1")
    assert c.post("/api/v1/stations", json=FEATURE, headers=auth(EDITOR_TOKEN)).status_code == 409


def test_write_cycle_and_restart_keeps_data(writable_app, tmp_path):
    c = writable_app.test_client()
    assert c.put("/api/v1/stations/rs-test-1", json=FEATURE, headers=auth(EDITOR_TOKEN)).status_code == 201
    res = c.patch("/api/v1/stations/rs-test-1", json={"properties": {"name": "新名字"}}, headers=auth(EDITOR_TOKEN))
    assert res.status_code == 200 and res.get_json()["properties"]["name"] == "新名字"
    near = c.get("/api/v1/nearest?lat=26.57&lon=106.7&k=1").get_json()["features"]
    assert near[0]["id"] == "rs-test-1" and near[0]["properties"]["distance_m"] == 0
    writable_app.extensions["yizhan.store"].close()
    again = create_app({"DATA_DIR": str(tmp_path), "SEED": False, "TOKENS": TOKENS})
    c2 = again.test_client()
    assert c2.get("/api/v1/stations/rs-test-1").get_json()["properties"]["name"] == "新名字"
    assert c2.delete("/api/v1/stations/rs-test-1", headers=auth(EDITOR_TOKEN)).status_code == 204
    assert c2.get("/api/v1/stations/rs-test-1").status_code == 404
    again.extensions["yizhan.store"].close()


@pytest.mark.parametrize("change,field", [
    ({"geometry": {"type": "Point", "coordinates": [106.7, 95]}}, "lat"),
    ({"geometry": {"type": "Point", "coordinates": ["x", 26]}}, "lon"),
    ({"geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}}, "geometry"),
    ({"properties": {**FEATURE["properties"], "layer": "cafe"}}, "layer"),
    ({"properties": {**FEATURE["properties"], "services": ["legal_aid"]}}, "services"),
    ({"properties": {**FEATURE["properties"], "hours": "whenever"}}, "hours"),
    ({"properties": {**FEATURE["properties"], "adcode": "52010"}}, "adcode"),
    ({"properties": {**FEATURE["properties"], "origins": ["520322"]}}, "origins"),
    ({"properties": {**FEATURE["properties"], "name": ""}}, "name"),
    ({"properties": {**FEATURE["properties"], "colour": "red"}}, "colour"),
    ({"id": "bad id/with slash"}, "id"),
])
def test_invalid_station_refused_with_reason(writable_app, change, field):
    c = writable_app.test_client()
    res = c.post("/api/v1/stations", json={**FEATURE, **change}, headers=auth(EDITOR_TOKEN))
    assert res.status_code == 400
    assert res.get_json()["error"]["parameter"] == field


def test_malformed_body(writable_app):
    c = writable_app.test_client()
    res = c.post("/api/v1/stations", data="{not json", content_type="application/json", headers=auth(EDITOR_TOKEN))
    assert res.status_code == 400 and "error" in res.get_json()
    res = c.post("/api/v1/stations", json=[1, 2], headers=auth(EDITOR_TOKEN))
    assert res.status_code == 400


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.sampled_from(
    ["lat", "lon", "k", "layer", "service", "open_now", "radius_m", "origin", "crs", "at", "bbox", "limit",
     "offset", "x"]), st.one_of(_text, st.floats(allow_nan=True).map(str), st.integers().map(str)), max_size=6),
    path=st.sampled_from(["/api/v1/nearest", "/api/v1/stations"]))
def test_no_query_string_makes_a_500(client, params, path):
    res = client.get(path, query_string=params)
    assert res.status_code in (200, 400), (params, res.get_data(as_text=True)[:300])
    if res.status_code == 400:
        assert res.get_json()["error"]["message"]
