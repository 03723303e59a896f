"""Fuzzing every route and parameter on both stores: never a 5xx, errors in the contract's form,
XSS probes never come back unescaped in a page, SQL-injection probes never change an answer."""
from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import create_app
from tests.web.conftest import EDITOR_TOKEN, TOKENS
from web.security import init_security

PROBES = ["' OR 1=1 --", "1; DROP TABLE stations; --", "\" OR \"\"=\"", "') OR ('a'='a", "%' OR '%'='",
          "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "${alert(1)}", "{{7*7}}",
          "javascript:alert(1)", "</script><script>alert(1)</script>", "\x00", "..%2f..%2fetc%2fpasswd"]
DANGEROUS = ("<script>alert(1)", "<img src=x onerror", "</script><script>")  # must never appear raw in HTML
AUTH = {"Authorization": f"Bearer {EDITOR_TOKEN}"}
# routes and the names they read (API: as in /openapi.json; pages: what their views read)
ROUTES = {
    ("GET", "/api/v1/nearest"): ("lat", "lon", "crs", "k", "layer", "service", "open_now", "radius_m", "origin", "at"),
    ("GET", "/api/v1/stations"): ("bbox", "layer", "limit", "offset"),
    ("GET", "/api/v1/stations/{}"): (),
    ("GET", "/api/v1/layers"): (),
    ("GET", "/api/v1/geocode"): ("q", "limit"),
    ("GET", "/api/v1/parks"): (),
    ("GET", "/api/v1/parks/{}"): (),
    ("GET", "/api/v1/parks/{}/stats"): ("since",),
    ("GET", "/api/v1/reports"): ("status", "station_id", "limit"),
    ("POST", "/api/v1/reports"): (),
    ("POST", "/api/v1/reports/{}/resolve"): (),
    ("POST", "/api/v1/stations"): ("crs",),
    ("PUT", "/api/v1/stations/{}"): ("crs",),
    ("PATCH", "/api/v1/stations/{}"): ("crs",),
    ("DELETE", "/api/v1/stations/{}"): (),
    ("PUT", "/api/v1/parks/{}"): (),
    ("POST", "/api/v1/plan/coverage"): ("format",),
    ("POST", "/api/v1/plan/sites"): ("format",),
    ("GET", "/healthz"): (),
    ("GET", "/"): ("lang", "layer", "service"),
    ("GET", "/near"): ("lat", "lon", "crs", "q", "k", "layer", "service", "open_now", "origin", "at", "lang"),
    ("GET", "/station/{}"): ("lang", "reported"),
    ("GET", "/windows"): ("origin", "q", "lat", "lon", "lang"),
    ("GET", "/map/points"): ("bbox", "layer", "service"),
    ("GET", "/p/{}"): ("at", "lang", "reported"),
    ("GET", "/p/{}/poster"): ("at", "lang"),
    ("GET", "/p/{}/qr.svg"): (),
    ("POST", "/p/{}/report"): (),
    ("POST", "/station/{}/report"): (),
    ("GET", "/static/{}"): ("v",),
    ("GET", "/api/v1/stations/{}/history"): ("limit",),
    ("POST", "/api/v1/stations/{}/revert"): (),
    ("GET", "/ogc"): ("f",),
    ("GET", "/ogc/conformance"): ("f",),
    ("GET", "/ogc/api"): ("f",),
    ("GET", "/ogc/collections"): ("f",),
    ("GET", "/ogc/collections/{}"): ("f",),
    ("GET", "/ogc/collections/{}/items"): ("bbox", "limit", "offset", "f"),
    ("GET", "/ogc/collections/rest_station/items"): ("bbox", "limit", "offset", "f"),
    ("GET", "/ogc/collections/rest_station/items/{}"): ("f",),
}
TEXT = st.one_of(st.sampled_from(PROBES), st.text(max_size=30),
                 st.from_regex(r"-?[0-9]{1,4}(\.[0-9]{1,6})?", fullmatch=True),
                 st.sampled_from(["", "wgs84", "gcj02", "bd09", "rest_station", "toilet", "110105", "1",
                                  "73,18,135,54", "2026-11-30T22:00", "en", "geojson", "csv"]))
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXT,
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                    max_leaves=12)
FIELDS = ["station_id", "kind", "note", "name", "layer", "type", "geometry", "properties", "demand", "radius_m", "p",
          "seq"]
BODY = st.one_of(JSON, st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=5))


@pytest.fixture(scope="module", params=["embedded", "postgis"])
def fuzz_app(request, tmp_path_factory):
    config = {"DATA_DIR": str(tmp_path_factory.mktemp("fuzz")), "TOKENS": TOKENS, "TESTING": True,
              "REPORT_LIMIT": 100_000, "PLAN_LIMIT": 100_000, "EXPORT_LIMIT": 100_000}
    if request.param == "postgis":
        config["DATABASE_URL"] = request.getfixturevalue("postgis_module_url")
    app = create_app(config)
    init_security(app)
    yield app
    app.extensions["yizhan.store"].close()


def check(response, path: str) -> None:
    """No 5xx; API errors in the contract's form; no probe raw in a page."""
    assert response.status_code < 500, (path, response.status_code, response.get_data(as_text=True)[:300])
    if path.startswith(("/api/", "/ogc")) and response.status_code >= 400:
        body = response.get_json(silent=True)
        assert body and set(body) == {"error"}, (path, response.get_data(as_text=True)[:300])
        assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)
    if response.mimetype == "text/html":
        html = response.get_data(as_text=True)
        assert not any(bad in html for bad in DANGEROUS), (path, [b for b in DANGEROUS if b in html])


def send(client, method: str, path: str, query: dict, body, auth: bool):
    kwargs = {"query_string": query, "headers": AUTH if auth else {}}
    if method in ("POST", "PUT", "PATCH"):
        if path.endswith("/report") and isinstance(body, dict):
            kwargs["data"] = {str(k): str(v) for k, v in body.items()}
        else:
            kwargs["json"] = body
    return client.open(path, method=method, **kwargs)


@settings(max_examples=120, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(route=st.sampled_from(sorted(ROUTES)), data=st.data())
def test_random_requests_never_fail_the_server(fuzz_app, route, data):
    method, template = route
    segment = data.draw(st.one_of(st.sampled_from(PROBES), st.text(min_size=1, max_size=20)), "segment")
    path = template.format(quote(segment, safe=""))
    names = ROUTES[route]
    query = data.draw(st.dictionaries(st.sampled_from(names or ("x",)), TEXT, max_size=len(names) + 1), "query")
    body = data.draw(BODY, "body") if method != "GET" else None
    response = send(fuzz_app.test_client(), method, path, query, body, data.draw(st.booleans(), "auth"))
    check(response, path)


@pytest.mark.parametrize("probe", PROBES)
def test_probes_in_every_parameter(fuzz_app, probe):
    client = fuzz_app.test_client()
    for (method, template), names in ROUTES.items():
        path = template.format(quote(probe, safe=""))
        for name in names or ("x",):
            check(send(client, method, path, {name: probe, "lat": "31.2", "lon": "121.4"} if name not in ("lat", "lon")
                       else {name: probe}, {"note": probe, "name": probe}, True), path)
    check(client.get("/planner", query_string={"radius_m": probe, "layer": probe, "p": probe}), "/planner")


@pytest.mark.parametrize("probe", [p for p in PROBES if p != "\x00"])
def test_sql_probes_do_not_change_answers(fuzz_app, probe):
    client = fuzz_app.test_client()
    assert client.get(f"/api/v1/stations/{quote(probe, safe='')}").status_code == 404
    assert client.get(f"/api/v1/parks/{quote(probe, safe='')}").status_code == 404
    for name in ("layer", "service", "origin"):
        answer = client.get("/api/v1/nearest", query_string={"lat": 31.2, "lon": 121.4, name: probe})
        assert answer.status_code == 400 or answer.get_json()["numberReturned"] == 0, (name, answer.get_json())
    box = client.get("/api/v1/stations", query_string={"bbox": "73,18,135,54", "layer": probe})
    assert box.status_code == 400 or box.get_json()["numberMatched"] == 0
    nonsense = client.get("/api/v1/geocode", query_string={"q": "zzqqxx"})
    probed = client.get("/api/v1/geocode", query_string={"q": probe})
    assert probed.status_code == nonsense.status_code
    if probed.status_code == 200:  # no probe names a place: as empty as nonsense, not "everything"
        assert len(probed.get_json().get("features", [])) <= len(nonsense.get_json().get("features", []))


def test_stored_probes_come_back_verbatim_in_json_and_escaped_in_pages(fuzz_app):
    client = fuzz_app.test_client()
    name = "驿站 <script>alert(1)</script> ' OR 1=1 -- \"><img src=x onerror=alert(1)> ${alert(1)}"
    feature = {"type": "Feature", "id": "fuzz-probe-1", "geometry": {"type": "Point", "coordinates": [121.4701, 31.2301]},
               "properties": {"name": name, "layer": "rest_station", "address": name, "operator": name}}
    created = client.post("/api/v1/stations", json=feature, headers=AUTH)
    assert created.status_code == 201, created.get_json()
    sid = created.get_json()["id"]
    stored = client.get(f"/api/v1/stations/{sid}").get_json()["properties"]
    assert stored["name"] == name and stored["address"] == name and stored["operator"] == name
    report = client.post("/api/v1/reports", json={"station_id": sid, "kind": "other", "note": name})
    assert report.status_code == 201
    notes = client.get("/api/v1/reports", query_string={"station_id": sid}, headers=AUTH).get_json()["reports"]
    assert [r["note"] for r in notes] == [name]
    for page in (f"/station/{sid}", "/near?lat=31.2301&lon=121.4701&k=5", f"/station/{sid}?lang=en"):
        response = client.get(page)
        assert response.status_code == 200
        check(response, page)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.get_data(as_text=True) or \
            "\\u003cscript\\u003e" in response.get_data(as_text=True)
    count = client.get("/api/v1/stations", query_string={"bbox": "121.46,31.22,121.48,31.24"}).get_json()
    assert sid in [f["id"] for f in count["features"]]
    assert client.delete(f"/api/v1/stations/{sid}", headers=AUTH).status_code in (200, 204)


def test_html_error_pages_escape_the_path(fuzz_app):
    for probe in ("<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>"):
        response = fuzz_app.test_client().get("/" + quote(probe, safe=""))
        assert response.status_code == 404
        check(response, "/")
        assert not re.search(r"<script>alert", response.get_data(as_text=True))
