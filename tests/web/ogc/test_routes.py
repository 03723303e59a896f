"""OGC API – Features (`/ogc`) on both stores, through the Flask test client: every bullet of the
contract's OGC section. Real clients (GDAL, OWSLib) on a live server: test_ogc_clients.py."""
from __future__ import annotations

import json
import re
import shutil
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from openapi_spec_validator import validate

import app as app_module
from app import create_app
from layers.layerdefs import DEFS_DIR, load_layers
from tests.web.conftest import EDITOR_TOKEN, TOKENS
from web.ogc import extent as ogc_extent
from web.security import csp_hash

SPEC = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
XSS = "<img src=x onerror=alert(1)>"
AUTH = {"Authorization": f"Bearer {EDITOR_TOKEN}"}
CHINA = (73.5, 18.0, 135.1, 53.6)


@pytest.fixture(scope="module", params=["embedded", "postgis"])
def ogc_app(request, tmp_path_factory):
    config = {"DATA_DIR": str(tmp_path_factory.mktemp("ogc")), "TESTING": True, "TILES": "none", "TOKENS": TOKENS}
    if request.param == "postgis":
        config["DATABASE_URL"] = request.getfixturevalue("postgis_module_url")
    app = create_app(config)
    yield app
    app.extensions["yizhan.store"].close()


@pytest.fixture(scope="module")
def oc(ogc_app):
    return ogc_app.test_client()


@pytest.fixture(scope="module")
def store(ogc_app):
    return ogc_app.extensions["yizhan.store"]


def link(doc: dict, rel: str, media: str | None = None) -> dict | None:
    return next((lk for lk in doc["links"] if lk["rel"] == rel and (media is None or lk.get("type") == media)), None)


def local(url: str) -> str:
    """An absolute link of the test client's host as a path the test client can get."""
    assert url.startswith("http://localhost/"), url
    return url[len("http://localhost"):]


def all_of(store, layer: str, bbox=None) -> list:
    """Every station of `layer` in `bbox` that the store lists, by id (the oracle)."""
    found, offset = [], 0
    while True:
        page = store.in_bbox(bbox, layers=(layer,), limit=1000, offset=offset)
        found += page.stations
        offset += 1000
        if offset >= page.number_matched:
            return found


def put(oc, sid: str, layer: str, lon: float, lat: float, **props) -> None:
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
               "properties": {"name": f"测试站 {sid}", "layer": layer, **props}}
    answer = oc.put(f"/api/v1/stations/{sid}", json=feature, headers=AUTH)
    assert answer.status_code in (200, 201), answer.get_json()


def assert_error(answer, status: int, code: str, parameter: str | None = None) -> None:
    assert answer.status_code == status, (answer.status_code, answer.get_data(as_text=True)[:300])
    assert answer.mimetype == "application/json"
    body = answer.get_json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    if parameter:
        assert body["error"]["parameter"] == parameter


# ---- landing, conformance, API document --------------------------------------------------------
def test_landing_links_what_clients_look_for(oc):
    answer = oc.get("/ogc")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    doc = answer.get_json()
    assert doc["title"] and doc["description"]
    desc = link(doc, "service-desc")
    assert desc == {**desc, "type": "application/vnd.oai.openapi+json;version=3.0", "href": "http://localhost/ogc/api"}
    assert link(doc, "service-doc", "text/html")["href"].startswith("http://localhost/ogc/api?")
    assert link(doc, "conformance")["href"] == "http://localhost/ogc/conformance"
    assert link(doc, "data") == {**link(doc, "data"), "type": "application/json",
                                 "href": "http://localhost/ogc/collections"}
    assert link(doc, "self", "application/json")
    assert all(lk["href"].startswith("http://localhost/ogc") for lk in doc["links"])  # absolute
    assert link(oc.get("/ogc/").get_json(), "data") == link(doc, "data")


def test_conformance_lists_core_geojson_oas30_and_html(oc):
    conf = oc.get("/ogc/conformance").get_json()["conformsTo"]
    for cls in ("core", "geojson", "oas30", "html"):
        assert f"{SPEC}{cls}" in conf


def test_openapi_document_is_valid_and_declares_the_limits(oc, ogc_app):
    answer = oc.get("/ogc/api")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = json.loads(answer.get_data())
    validate(doc)
    assert doc["openapi"].startswith("3.0") and doc["servers"] == [{"url": "http://localhost/ogc"}]
    declared = {p["name"]: p for p in doc["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]}
    assert declared["limit"]["schema"]["default"] == 100 and declared["limit"]["schema"]["maximum"] == 1000
    assert declared["limit"]["schema"]["minimum"] == 1
    assert declared["offset"]["schema"]["minimum"] == 0
    assert declared["bbox"]["schema"]["minItems"] == declared["bbox"]["schema"]["maxItems"] == 4
    assert declared["f"]["schema"]["enum"] == ["json", "html"]
    assert doc["paths"]["/collections/{collectionId}"]["get"]["parameters"][0]["schema"]["enum"] == \
        list(ogc_app.extensions["yizhan.store"].layers)
    # every /ogc route is documented, and nothing else
    routes = {re.sub(r"<([a-z_]+)>", lambda m: "{" + {"collection_id": "collectionId", "item_id": "featureId"}[
        m.group(1)] + "}", rule.rule[len("/ogc"):] or "/") for rule in ogc_app.url_map.iter_rules()
        if rule.rule.startswith("/ogc")}
    assert routes == set(doc["paths"])
    qgis = "application/vnd.oai.openapi+json;version=3.0, application/openapi+json;version=3.0, application/json"
    for accept in ("application/vnd.oai.openapi+json;version=3.0", qgis):
        assert oc.get("/ogc/api", headers={"Accept": accept}).headers["Content-Type"] == \
            "application/vnd.oai.openapi+json;version=3.0"
    page = oc.get("/ogc/api?f=html")
    assert page.mimetype == "text/html" and "limit" in page.get_data(as_text=True)


# ---- collections -------------------------------------------------------------------------------
def test_one_collection_per_layer_with_extent_crs_and_items_link(oc, store):
    doc = oc.get("/ogc/collections").get_json()
    assert [c["id"] for c in doc["collections"]] == list(store.layers)
    assert link(doc, "self")
    for c in doc["collections"]:
        layer = store.layers[c["id"]]
        assert c["title"] == layer.name["zh"] and c["description"] == layer.description["zh"]
        assert c["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
        assert c["extent"]["spatial"]["crs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
        minlon, minlat, maxlon, maxlat = c["extent"]["spatial"]["bbox"][0]
        stations = all_of(store, c["id"])
        assert stations, c["id"]
        assert all(minlon <= s.lon <= maxlon and minlat <= s.lat <= maxlat for s in stations)
        assert minlon >= min(s.lon for s in stations) - 1e-5 and maxlat <= max(s.lat for s in stations) + 1e-5
        assert link(c, "items", "application/geo+json")["href"] == f"http://localhost/ogc/collections/{c['id']}/items"
        one = oc.get(f"/ogc/collections/{c['id']}")
        assert one.status_code == 200 and one.get_json() == c


def test_collection_titles_in_english_by_lang_or_accept_language(oc, store):
    english = store.layers["rest_station"].name["en"]
    assert oc.get("/ogc/collections/rest_station?lang=en").get_json()["title"] == english
    assert oc.get("/ogc/collections/rest_station", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_json()[
        "title"] == english
    assert oc.get("/ogc/collections/rest_station").get_json()["title"] == store.layers["rest_station"].name["zh"]


def test_extent_follows_writes(oc, store, monkeypatch):
    far = (80.123456, 44.5)  # west of every sample worker centre
    before = oc.get("/ogc/collections/worker_center").get_json()["extent"]["spatial"]["bbox"][0]
    assert before[0] > far[0]
    put(oc, "ogc-extent-far", "worker_center", *far)
    grown = oc.get("/ogc/collections/worker_center").get_json()["extent"]["spatial"]["bbox"][0]
    assert grown[0] <= far[0] <= grown[2] and grown[1] <= far[1] <= grown[3]
    assert oc.delete("/api/v1/stations/ogc-extent-far", headers=AUTH).status_code == 204
    monkeypatch.setattr(ogc_extent, "MAX_AGE_S", 0.0)  # aged: gathered again, tight once more
    assert oc.get("/ogc/collections/worker_center").get_json()["extent"]["spatial"]["bbox"][0] == before


def test_a_new_layer_file_is_a_new_collection_without_code(tmp_path, monkeypatch):
    defs = tmp_path / "defs"
    shutil.copytree(DEFS_DIR, defs)
    raw = json.loads((defs / "rest_station.json").read_text(encoding="utf-8"))
    raw.update(id="water_point", name={"zh": "饮水点", "en": "Water point"}, description={"zh": "免费饮水。"})
    (defs / "water_point.json").write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr(app_module, "load_layers", lambda: load_layers(defs))
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "SEED": False, "TESTING": True, "TOKENS": TOKENS})
    try:
        client = app.test_client()
        assert "water_point" in [c["id"] for c in client.get("/ogc/collections").get_json()["collections"]]
        empty = client.get("/ogc/collections/water_point").get_json()
        assert empty["title"] == "饮水点" and empty["extent"]["spatial"]["bbox"] == [list(CHINA)]
        put(client, "wp-1", "water_point", 116.4, 39.9)
        items = client.get("/ogc/collections/water_point/items").get_json()
        assert [f["id"] for f in items["features"]] == ["wp-1"] and items["numberMatched"] == 1
    finally:
        app.extensions["yizhan.store"].close()


# ---- items ---------------------------------------------------------------------------------------
def test_items_answer_geojson_with_counts_ids_and_time_stamp(oc, store):
    box = "104,24,110,30"
    answer = oc.get(f"/ogc/collections/rest_station/items?bbox={box}&limit=7")
    assert answer.status_code == 200 and answer.mimetype == "application/geo+json"
    doc = answer.get_json()
    expected = all_of(store, "rest_station", (104, 24, 110, 30))
    assert doc["type"] == "FeatureCollection"
    assert doc["numberMatched"] == len(expected) > 7
    assert doc["numberReturned"] == len(doc["features"]) == 7
    assert doc["timeStamp"].endswith("+08:00") and datetime.fromisoformat(doc["timeStamp"]).tzinfo is not None
    assert [f["id"] for f in doc["features"]] == [s.id for s in expected[:7]]
    first = doc["features"][0]
    assert first["geometry"] == {"type": "Point", "coordinates": [expected[0].lon, expected[0].lat]}
    assert first["properties"]["name"] == expected[0].name
    assert all(f["properties"]["layer"] == "rest_station" for f in doc["features"])
    assert link(doc, "collection")["href"] == "http://localhost/ogc/collections/rest_station"
    assert link(doc, "self", "application/geo+json")
    default = oc.get("/ogc/collections/rest_station/items").get_json()
    assert default["numberReturned"] == 100 and default["numberMatched"] == len(all_of(store, "rest_station"))


def test_next_links_keep_every_other_parameter_and_walk_all_pages(oc, store):
    box = "104,24,110,30"
    expected = [s.id for s in all_of(store, "rest_station", (104, 24, 110, 30))]
    doc = oc.get(f"/ogc/collections/rest_station/items?bbox={box}&limit=7&lang=en").get_json()
    nxt = link(doc, "next", "application/geo+json")
    assert nxt["href"].startswith("http://localhost/ogc/collections/rest_station/items?")
    assert parse_qs(urlsplit(nxt["href"]).query) == {"bbox": [box], "lang": ["en"], "limit": ["7"], "offset": ["7"]}
    assert link(doc, "prev") is None
    seen, pages = [f["id"] for f in doc["features"]], 1
    while nxt:
        page = oc.get(local(nxt["href"])).get_json()
        assert page["numberMatched"] == len(expected)
        seen += [f["id"] for f in page["features"]]
        nxt, pages = link(page, "next"), pages + 1
        assert link(page, "prev")
    assert seen == expected and pages == -(-len(expected) // 7)
    last = oc.get(f"/ogc/collections/rest_station/items?bbox={box}&limit=7&offset={len(expected) - 3}").get_json()
    assert last["numberReturned"] == 3 and link(last, "next") is None
    assert parse_qs(urlsplit(link(last, "prev")["href"]).query)["offset"] == [str(len(expected) - 10)]
    beyond = oc.get(f"/ogc/collections/rest_station/items?bbox={box}&offset={len(expected) + 5}").get_json()
    assert beyond["numberReturned"] == 0 and beyond["numberMatched"] == len(expected) and link(beyond, "next") is None


def test_html_pages_link_to_html_pages(oc):
    doc = oc.get("/ogc/collections/rights_post/items?limit=3&f=html")
    html = doc.get_data(as_text=True)
    hrefs = re.findall(r'rel="next" href="([^"]+)"', html)
    assert len(hrefs) == 1 and parse_qs(urlsplit(hrefs[0].replace("&amp;", "&")).query) == {
        "f": ["html"], "limit": ["3"], "offset": ["3"]}
    assert "下一页" in html and "/ogc/collections/rights_post/items/" in html


def test_limit_above_the_maximum_clamps(oc):
    for big in ("5000", "1001", "99999999999999999999999"):
        doc = oc.get(f"/ogc/collections/rest_station/items?limit={big}").get_json()
        assert doc["numberReturned"] == 1000
        assert parse_qs(urlsplit(link(doc, "next")["href"]).query)["limit"] == ["1000"]
    assert oc.get("/ogc/collections/rest_station/items?limit=1000").get_json()["numberReturned"] == 1000


@pytest.mark.parametrize("query, name", [
    ("limit=0", "limit"), ("limit=-3", "limit"), ("limit=x", "limit"), ("limit=2.5", "limit"), ("limit=1e3", "limit"),
    ("offset=-1", "offset"), ("offset=1.5", "offset"), ("offset=abc", "offset"), ("offset=10000000000000", "offset"),
    ("bbox=1,2,3", "bbox"), ("bbox=1,2,3,4,5", "bbox"), ("bbox=100,20,0,110,30,10", "bbox"), ("bbox=a,b,c,d", "bbox"),
    ("bbox=110,30,100,40", "bbox"), ("bbox=100,40,110,30", "bbox"), ("bbox=nan,1,2,3", "bbox"), ("bbox=", "bbox"),
    ("bbox=-181,0,0,10", "bbox"), ("foo=1", "foo"), ("bbox-crs=x", "bbox-crs"), ("datetime=2026-01-01", "datetime"),
    ("f=xml", "f"),
])
def test_bad_item_parameters_answer_400_in_the_contract_form(oc, query, name):
    assert_error(oc.get(f"/ogc/collections/rest_station/items?{query}"), 400, "invalid_parameter", name)


@pytest.mark.parametrize("path", ["/ogc", "/ogc/conformance", "/ogc/api", "/ogc/collections",
                                  "/ogc/collections/rest_station", "/ogc/collections/rest_station/items/x"])
def test_unknown_parameters_answer_400_everywhere(oc, path):
    assert_error(oc.get(f"{path}?limit=5"), 400, "invalid_parameter", "limit")
    assert_error(oc.get(f"{path}?f=pdf"), 400, "invalid_parameter", "f")


def test_unknown_collection_or_item_404(oc, store):
    for path in ("/ogc/collections/nope", "/ogc/collections/nope/items", "/ogc/collections/nope/items/x",
                 "/ogc/collections/rest_station/items/no-such-id", "/ogc/nothing-here"):
        assert_error(oc.get(path), 404, "not_found")
    other = all_of(store, "rights_post")[0]
    assert oc.get(f"/ogc/collections/rights_post/items/{other.id}").get_json()["id"] == other.id
    assert_error(oc.get(f"/ogc/collections/rest_station/items/{other.id}"), 404, "not_found")


def test_one_item(oc, store):
    station = all_of(store, "service_window")[3]
    answer = oc.get(f"/ogc/collections/service_window/items/{station.id}")
    assert answer.status_code == 200 and answer.mimetype == "application/geo+json"
    doc = answer.get_json()
    assert doc["id"] == station.id and doc["geometry"]["coordinates"] == [station.lon, station.lat]
    assert doc["properties"]["origins"] == list(station.origins)
    assert link(doc, "collection")["href"] == "http://localhost/ogc/collections/service_window"


def test_removed_stations_never_appear_and_html_escapes_names(oc):
    box = "/ogc/collections/worker_center/items?bbox=100,21.5,100.5,22"
    put(oc, "ogc-xss", "worker_center", 100.25, 21.75, name=XSS, address=XSS)
    doc = oc.get(box).get_json()
    assert [f["id"] for f in doc["features"]] == ["ogc-xss"] and doc["features"][0]["properties"]["name"] == XSS
    for url in (box + "&f=html", "/ogc/collections/worker_center/items/ogc-xss?f=html"):
        page = oc.get(url)
        assert page.status_code == 200 and page.mimetype == "text/html"
        html = page.get_data(as_text=True)
        assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    put(oc, "ogc-xss", "worker_center", 100.25, 21.75, name=XSS, status="removed")
    assert oc.get(box).get_json()["numberMatched"] == 0
    assert_error(oc.get("/ogc/collections/worker_center/items/ogc-xss"), 404, "not_found")
    assert "ogc-xss" not in oc.get(box + "&f=html").get_data(as_text=True)


# ---- JSON or HTML ---------------------------------------------------------------------------------
@pytest.mark.parametrize("accept, form", [
    (None, "application/json"), ("*/*", "application/json"), ("application/json", "application/json"),
    ("application/geo+json, application/json", "application/json"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"), ("text/html", "text/html"),
    ("application/json, text/html", "application/json"),
])
def test_html_for_browsers_json_for_clients(oc, accept, form):
    headers = {"Accept": accept} if accept else {}
    answer = oc.get("/ogc/collections", headers=headers)
    assert answer.mimetype == form and "Accept" in answer.headers["Vary"]
    items = oc.get("/ogc/collections/rest_station/items?limit=2", headers=headers)
    assert items.mimetype == ("application/geo+json" if form == "application/json" else "text/html")
    assert oc.get("/ogc/collections?f=json", headers={"Accept": "text/html"}).mimetype == "application/json"
    assert oc.get("/ogc/collections?f=html", headers=headers).mimetype == "text/html"


@pytest.mark.parametrize("path", ["/ogc", "/ogc/conformance", "/ogc/api", "/ogc/collections",
                                  "/ogc/collections/rest_station", "/ogc/collections/rest_station/items?limit=5"])
def test_html_pages_are_chinese_first_self_contained_and_keep_the_policy(oc, path):
    sep = "&" if "?" in path else "?"
    answer = oc.get(f"{path}{sep}f=html")
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    html = answer.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and re.search(r"[\u4e00-\u9fff]", html.split("<h1>")[1][:200])
    for attr in re.findall(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="([^"]*)"', html):
        assert attr.startswith(("/", "data:")), attr  # nothing from another host
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    policy = answer.headers["Content-Security-Policy"]
    for style in re.findall(r"<style>(.*?)</style>", html, re.DOTALL):  # the page CSS, inline: allowed by its hash
        assert csp_hash(style) in policy
    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy.replace(
        "style-src-attr 'unsafe-inline'", "")
    english = oc.get(f"{path}{sep}f=html&lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english


# ---- absolute URLs --------------------------------------------------------------------------------
def test_links_follow_the_request_host_and_public_url(oc, ogc_app, monkeypatch):
    other = oc.get("/ogc/collections/rest_station/items?limit=1", base_url="https://stations.example.org").get_json()
    assert link(other, "next")["href"].startswith("https://stations.example.org/ogc/collections/rest_station/items?")
    monkeypatch.setitem(ogc_app.config, "PUBLIC_URL", "https://yizhan.example.cn/sub/")
    doc = oc.get("/ogc").get_json()
    assert link(doc, "data")["href"] == "https://yizhan.example.cn/sub/ogc/collections"
    items = oc.get("/ogc/collections/rest_station/items?limit=1").get_json()
    assert link(items, "next")["href"].startswith("https://yizhan.example.cn/sub/ogc/collections/rest_station/items?")
    assert oc.get("/ogc/api").get_json()["servers"] == [{"url": "https://yizhan.example.cn/sub/ogc"}]


def test_links_behind_a_proxy(tmp_path):
    app = create_app({"DATA_DIR": str(tmp_path), "SEED": False, "TESTING": True, "PROXIES": 1})
    try:
        headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "zhan.example.cn", "X-Forwarded-For": "1.2.3.4"}
        doc = app.test_client().get("/ogc", headers=headers).get_json()
        assert link(doc, "conformance")["href"] == "https://zhan.example.cn/ogc/conformance"
    finally:
        app.extensions["yizhan.store"].close()
