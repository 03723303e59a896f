"""Hostile bodies through every write endpoint on both stores (issue 15.7): deep nesting, lone
surrogates, objects where ids belong, numbers beyond a double. Each must get a 4xx in the
contract's form (pages: a page) and write nothing. The endpoints come from the app's url_map, so a
new write endpoint is covered without editing this file."""
from __future__ import annotations

import json

import pytest

from app import create_app
from tests.web.conftest import EDITOR_TOKEN, TOKENS

AUTH = {"Authorization": f"Bearer {EDITOR_TOKEN}"}
WRITES = ("POST", "PUT", "PATCH")
STATION = "hostile-base"
SLUG = "hostile-park"
POINT = [106.709974, 26.575633]


def _feature(props: str, fid: str = '"hostile-new"', coords: str = json.dumps(POINT)) -> str:
    """A station/park Feature (raw JSON text, so it can hold what Python cannot encode)."""
    return (f'{{"type":"Feature","id":{fid},"geometry":{{"type":"Point","coordinates":{coords}}},'
            f'"properties":{props}}}')


def _everything(value: str) -> bytes:
    """One object with every field any write endpoint reads, each one `value` (raw JSON)."""
    feature = _feature(f'{{"name":{value},"layer":"rest_station","address":{value},"note":{value}}}')
    return (f'{{"type":"FeatureCollection","features":[{feature}],"station_id":"{STATION}","kind":"other",'
            f'"note":{value},"name":{value},"properties":{{"name":{value},"layer":"rest_station"}},'
            f'"geometry":{{"type":"Point","coordinates":{json.dumps(POINT)}}},'
            f'"demand":[{{"lon":{POINT[0]},"lat":{POINT[1]},"weight":1,"name":{value}}}]}}').encode("utf-8", "surrogatepass")


def _collection(feature: str) -> bytes:
    return f'{{"type":"FeatureCollection","features":[{feature}]}}'.encode()


BIG = "1" + "0" * 400  # an integer no double holds
DEEP_LIST = "[" * 900 + "]" * 900  # within a parser's depth limit: nothing after it may recurse
HOSTILE: dict[str, tuple[bytes, str]] = {
    "40 KB of [": (b"[" * 40_000, "application/json"),
    "6000 nested objects": (('{"a":' * 6000 + "1" + "}" * 6000).encode(), "application/json"),
    "deep list in every field": (_everything(DEEP_LIST), "application/json"),
    "lone surrogate escaped": (_everything('"\\ud800"'), "application/json"),
    "lone surrogate in a name": (_collection(_feature('{"name":"\\ud800驿站","layer":"rest_station"}')),
                                 "application/geo+json"),
    "lone surrogate bytes": (_everything('"\ud800"'), "application/json"),  # UTF-8 of U+D800: not UTF-8
    "id an object": (_collection(_feature('{"name":"驿站","layer":"rest_station"}', fid='{"a":1}')),
                     "application/geo+json"),
    "id an object (one feature)": (_feature('{"name":"驿站","layer":"rest_station"}', fid='{"a":1}').encode(),
                                   "application/json"),
    "coordinate 10^400": (_collection(_feature('{"name":"驿站","layer":"rest_station"}',
                                               coords=f"[{BIG},26.5]")), "application/geo+json"),
    "coordinate 10^400 (one feature)": (_feature('{"name":"驿站","layer":"rest_station"}',
                                                 coords=f"[106.7,{BIG}]").encode(), "application/json"),
    "surrogate bytes in a CSV": ("id,name,layer,lon,lat\nhx-1,驿站\ud800,rest_station,106.7,26.5\n"
                                 .encode("utf-8", "surrogatepass"), "text/csv"),
}


@pytest.fixture(scope="module", params=["embedded", "postgis"])
def hostile_app(request, tmp_path_factory):
    """An app with one station, one park and one report; limits high enough not to answer 429."""
    config = {"DATA_DIR": str(tmp_path_factory.mktemp("hostile")), "SEED": False, "TOKENS": TOKENS,
              "TESTING": True, "REPORT_LIMIT": 100_000, "PLAN_LIMIT": 100_000}
    if request.param == "postgis":
        config["DATABASE_URL"] = request.getfixturevalue("postgis_module_url")
    app = create_app(config)
    client = app.test_client()
    station = {"type": "Feature", "id": STATION, "geometry": {"type": "Point", "coordinates": POINT},
               "properties": {"name": "基准驿站", "layer": "rest_station"}}
    assert client.post("/api/v1/stations", json=station, headers=AUTH).status_code in (201, 409)
    park = {"type": "Feature", "geometry": {"type": "Point", "coordinates": POINT}, "properties": {"name": "基准园区", "kind": "logistics_park"}}
    assert client.put(f"/api/v1/parks/{SLUG}", json=park, headers=AUTH).status_code in (200, 201)
    report = client.post("/api/v1/reports", json={"station_id": STATION, "kind": "other", "note": "x"})
    assert report.status_code == 201, report.get_data(as_text=True)
    app.config["YIZHAN_REPORT_ID"] = report.get_json()["id"]
    # resolved once here (it takes no body, and marks the station verified today): later ones change nothing
    assert client.post(f"/api/v1/reports/{report.get_json()['id']}/resolve", headers=AUTH).status_code == 200
    yield app
    app.extensions["yizhan.store"].close()


def write_endpoints(app) -> list[tuple[str, str, dict, bool]]:
    """(method, URL, query, reads a body) of every POST/PUT/PATCH rule, path arguments filled with
    existing things; "reads a body": the OpenAPI document declares a requestBody for it."""
    values = {"station_id": STATION, "slug": SLUG, "report_id": app.config["YIZHAN_REPORT_ID"]}
    document = app.test_client().get("/openapi.json").get_json()
    declared = {(method.upper(), path) for path, ops in document["paths"].items()
                for method, op in ops.items() if isinstance(op, dict) and "requestBody" in op}
    found = []
    for rule in app.url_map.iter_rules():
        methods = sorted(set(rule.methods or ()) & set(WRITES))
        if not methods:
            continue
        missing = set(rule.arguments) - set(values)
        assert not missing, f"{rule.rule}: teach this test a value for {missing}"
        url = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)[1]
        template = rule.rule.replace("<int:", "<").replace("<", "{").replace(">", "}")
        for method in methods:
            reads = (method, template) in declared
            found.append((method, url, {}, reads))
            if rule.endpoint == "data_api.import_stations":
                found.append((method, url, {"dry_run": "1"}, reads))  # it must refuse what the import refuses
    return found


def state(client) -> str:
    """Everything stored, as text (stations with their history, parks, reports)."""
    stations = client.get("/api/v1/export?format=geojson&include_removed=1").get_data(as_text=True)
    parks = client.get("/api/v1/parks").get_data(as_text=True)
    reports = client.get("/api/v1/reports?status=all&limit=1000", headers=AUTH).get_json()["reports"]
    return stations + parks + repr(sorted((r["id"], r["note"]) for r in reports))  # resolving takes no body


def test_every_write_endpoint_is_found(hostile_app):
    found = write_endpoints(hostile_app)
    urls = {(m, u) for m, u, _, _ in found}
    assert ("POST", "/api/v1/import") in urls and ("PATCH", f"/api/v1/stations/{STATION}") in urls
    assert ("POST", "/api/v1/reports") in urls and ("POST", "/api/v1/plan/coverage") in urls
    assert len(urls) >= 11 and sum(reads for *_, reads in found) >= 10


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_bodies_get_a_4xx_on_every_write_endpoint_and_write_nothing(hostile_app, name):
    body, content_type = HOSTILE[name]
    client = hostile_app.test_client()
    before = state(client)
    failures = []
    for method, url, query, reads in write_endpoints(hostile_app):
        response = client.open(url, method=method, data=body, query_string=query,
                               headers={**AUTH, "Content-Type": content_type})
        text = response.get_data(as_text=True)
        if response.status_code >= 500 or (reads and not 400 <= response.status_code < 500):
            failures.append((method, url, query, response.status_code, text[:200]))
        elif url.startswith("/api/") and response.status_code >= 400:
            error = (response.get_json(silent=True) or {}).get("error") or {}
            if not (isinstance(error.get("code"), str) and isinstance(error.get("message"), str)):
                failures.append((method, url, query, "not the error form", text[:200]))
            if "/tmp/" in text or "Traceback" in text:
                failures.append((method, url, query, "leaks", text[:200]))
    assert not failures, failures
    assert state(client) == before
