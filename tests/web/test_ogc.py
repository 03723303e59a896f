"""OGC API – Features on both stores: every point of the contract, then real clients (GDAL ogrinfo, OWSLib)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
from openapi_spec_validator import validate

from app import create_app
from tests.browser.conftest import LiveServer
from tests.web.conftest import EDITOR_TOKEN, TOKENS

CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
XSS = "<img src=x onerror=alert(1)>"


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


def link(doc: dict, rel: str, media: str | None = None) -> dict | None:
    return next((lk for lk in doc["links"] if lk["rel"] == rel and (media is None or lk.get("type") == media)), None)


def test_landing_links_what_clients_look_for(oc):
    doc = oc.get("/ogc").get_json()
    desc = link(doc, "service-desc")
    assert desc["type"] == "application/vnd.oai.openapi+json;version=3.0" and desc["href"].endswith("/ogc/api")
    assert link(doc, "conformance")["href"].endswith("/ogc/conformance")
    data = link(doc, "data")
    assert data["type"] == "application/json" and data["href"].endswith("/ogc/collections")
    assert all(lk["href"].startswith("http://localhost/") for lk in doc["links"])  # absolute


def test_conformance_and_openapi_document(oc):
    conf = oc.get("/ogc/conformance").get_json()["conformsTo"]
    for cls in ("core", "geojson", "oas30", "html"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{cls}" in conf
    answer = oc.get("/ogc/api")
    assert answer.headers["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = json.loads(answer.get_data())
    validate(doc)
    limit = next(p for p in doc["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
                 if p["name"] == "limit")
    assert limit["schema"]["default"] == 100 and limit["schema"]["maximum"] == 1000


def test_one_collection_per_layer_file(oc, ogc_app):
    doc = oc.get("/ogc/collections").get_json()
    ids = [c["id"] for c in doc["collections"]]
    assert ids == list(ogc_app.extensions["yizhan.store"].layers)
    for c in doc["collections"]:
        assert c["title"] and len(c["extent"]["spatial"]["bbox"][0]) == 4
        items = link(c, "items", "application/geo+json")
        assert items["href"].endswith(f"/ogc/collections/{c['id']}/items")
        assert oc.get(f"/ogc/collections/{c['id']}").get_json()["id"] == c["id"]
    assert oc.get("/ogc/collections/rest_station?lang=en").get_json()["title"] != \
        oc.get("/ogc/collections/rest_station").get_json()["title"]


def test_items_page_with_counts_and_a_next_link_keeping_parameters(oc, ogc_app):
    store = ogc_app.extensions["yizhan.store"]
    box = "104,24,110,30"
    answer = oc.get(f"/ogc/collections/rest_station/items?bbox={box}&limit=7")
    assert answer.status_code == 200 and answer.mimetype == "application/geo+json"
    doc = answer.get_json()
    expected = store.in_bbox((104, 24, 110, 30), layers=("rest_station",), limit=1000)
    assert doc["numberMatched"] == expected.number_matched > 7
    assert doc["numberReturned"] == len(doc["features"]) == 7
    assert doc["timeStamp"].endswith("Z")
    assert [f["id"] for f in doc["features"]] == [s.id for s in expected.stations[:7]]
    assert all(f["properties"]["layer"] == "rest_station" for f in doc["features"])
    # walk every page through the next links: all stations, once each, in order
    seen, url = [], link(doc, "next")["href"]
    seen += [f["id"] for f in doc["features"]]
    query = parse_qs(urlsplit(url).query)
    assert query["bbox"] == [box] and query["limit"] == ["7"] and query["offset"] == ["7"]
    while url:
        page = oc.get(url.replace("http://localhost", "")).get_json()
        seen += [f["id"] for f in page["features"]]
        nxt = link(page, "next")
        url = nxt["href"] if nxt else None
    assert seen == [s.id for s in expected.stations]
    last = oc.get(f"/ogc/collections/rest_station/items?bbox={box}&limit=7&offset={len(seen) - 3}").get_json()
    assert last["numberReturned"] == 3 and link(last, "next") is None and link(last, "prev")


def test_limit_clamps_and_bad_parameters_answer_400(oc):
    assert oc.get("/ogc/collections/rest_station/items?limit=5000").get_json()["numberReturned"] == 1000
    for bad, name in (("limit=0", "limit"), ("limit=-3", "limit"), ("limit=x", "limit"), ("offset=-1", "offset"),
                      ("offset=1.5", "offset"), ("bbox=1,2,3", "bbox"), ("bbox=1,2,3,4,5", "bbox"),
                      ("bbox=a,b,c,d", "bbox"), ("bbox=110,30,100,20", "bbox"), ("foo=1", "foo"), ("f=xml", "f")):
        answer = oc.get(f"/ogc/collections/rest_station/items?{bad}")
        assert answer.status_code == 400, bad
        assert answer.get_json()["error"]["parameter"] == name


def test_unknown_collection_or_item_404(oc):
    assert oc.get("/ogc/collections/nope").status_code == 404
    assert oc.get("/ogc/collections/nope/items").status_code == 404
    assert oc.get("/ogc/collections/rest_station/items/no-such-id").status_code == 404
    first = oc.get("/ogc/collections/rights_post/items?limit=1").get_json()["features"][0]
    assert oc.get(f"/ogc/collections/rights_post/items/{first['id']}").get_json()["id"] == first["id"]
    assert oc.get(f"/ogc/collections/rest_station/items/{first['id']}").status_code == 404  # other layer


def test_removed_stations_never_appear_and_html_escapes_names(oc):
    auth = {"Authorization": f"Bearer {EDITOR_TOKEN}"}
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [100.25, 21.75]},
               "properties": {"name": XSS, "layer": "worker_center", "address": XSS}}
    made = oc.put("/api/v1/stations/ogc-xss", json=feature, headers=auth)
    assert made.status_code in (200, 201), made.get_json()
    items = "/ogc/collections/worker_center/items?bbox=100,21.5,100.5,22"
    assert [f["id"] for f in oc.get(items).get_json()["features"]] == ["ogc-xss"]
    for url in (items + "&f=html", "/ogc/collections/worker_center/items/ogc-xss?f=html"):
        page = oc.get(url).get_data(as_text=True)
        assert XSS not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    feature["properties"]["status"] = "removed"
    assert oc.put("/api/v1/stations/ogc-xss", json=feature, headers=auth).status_code == 200
    assert oc.get(items).get_json()["numberMatched"] == 0
    assert oc.get("/ogc/collections/worker_center/items/ogc-xss").status_code == 404


def test_html_for_browsers_json_for_clients(oc):
    assert oc.get("/ogc/collections", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}).mimetype \
        == "text/html"
    assert oc.get("/ogc/collections", headers={"Accept": "application/json"}).mimetype == "application/json"
    assert oc.get("/ogc/collections").mimetype == "application/json"
    page = oc.get("/ogc/collections/rest_station/items?limit=3&f=html").get_data(as_text=True)
    assert "下一页" in page and "https://" not in page.split("<main")[1].split("</main>")[0]


# ---- real clients on a live server ---------------------------------------------------------------
@pytest.fixture(scope="module")
def served(ogc_app):
    server = LiveServer(ogc_app)
    yield server
    server.server.shutdown()  # not LiveServer.stop(): the store belongs to ogc_app's fixture
    server.thread.join(5)


def _ogrinfo() -> str:
    found = shutil.which("ogrinfo")
    if not found:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true and ogrinfo (Debian gdal-bin) is missing")
        pytest.skip("ogrinfo (gdal-bin) is not installed")
    return found


def test_gdal_reads_every_layer_and_pages_through_all_features(served, ogc_app):
    ogrinfo = _ogrinfo()
    url = f"OAPIF:{served.url('/ogc')}"
    listing = subprocess.run([ogrinfo, "-ro", "-q", url], capture_output=True, text=True, timeout=120, check=True)
    for lid in ogc_app.extensions["yizhan.store"].layers:
        assert lid in listing.stdout
    store = ogc_app.extensions["yizhan.store"]
    expected = store.in_bbox(None, layers=("rights_post",), limit=1000)
    assert expected.number_matched > 100  # more than one default page: GDAL must follow `next`
    out = subprocess.run([ogrinfo, "-ro", "-al", "-geom=YES", url, "rights_post"], capture_output=True, text=True,
                         timeout=300, check=True).stdout
    assert out.count("OGRFeature(rights_post)") == expected.number_matched
    first = expected.stations[0]
    assert f"name (String) = {first.name}" in out
    assert f"POINT ({first.lon:.7g}".rstrip("0") in out or f"POINT ({first.lon}" in out


def test_owslib_reads_collections_and_items(served, ogc_app):
    from owslib.ogcapi.features import Features

    api = Features(served.url("/ogc"))
    ids = [c["id"] for c in api.collections()["collections"]]
    assert ids == list(ogc_app.extensions["yizhan.store"].layers)
    assert CORE in api.conformance()["conformsTo"]
    page = api.collection_items("rest_station", bbox=[106.5, 26.4, 106.9, 26.8], limit=5)
    expected = ogc_app.extensions["yizhan.store"].in_bbox((106.5, 26.4, 106.9, 26.8), layers=("rest_station",),
                                                          limit=5)
    assert [f["id"] for f in page["features"]] == [s.id for s in expected.stations]
    assert page["numberMatched"] == expected.number_matched
    one = api.collection_item("rest_station", expected.stations[0].id)
    assert one["properties"]["name"] == expected.stations[0].name
