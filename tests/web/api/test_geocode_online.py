"""The optional Amap geocoder (layers.ingest.geocode_online) against answers in the service's documented
format (v3/geocode/geo: status, info, count, geocodes[].location "lon,lat" GCJ-02, level, adcode),
served by a real local HTTP server; and its use by an import through the API, on both stores."""
from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import openpyxl
import pytest

from app import create_app
from geo.crs import to_wgs84
from layers.ingest.geocode_online import AmapGeocoder, parse_answer
from layers.ingest.place import AddressPlacer
from tests.web.conftest import EDITOR_TOKEN, TOKENS

DOOR = {"status": "1", "info": "OK", "infocode": "10000", "count": "1", "geocodes": [{
    "formatted_address": "贵州省贵阳市南明区兴业西路142号", "country": "中国", "province": "贵州省", "citycode": "0851",
    "city": "贵阳市", "district": "南明区", "township": [], "neighborhood": {"name": [], "type": []},
    "building": {"name": [], "type": []}, "adcode": "520102", "street": "兴业西路", "number": "142号",
    "location": "106.716731,26.566357", "level": "门牌号"}]}
CITY = {"status": "1", "info": "OK", "infocode": "10000", "count": "1", "geocodes": [{
    "formatted_address": "贵州省贵阳市", "province": "贵州省", "city": "贵阳市", "district": [], "township": [],
    "adcode": "520100", "location": "106.630153,26.647661", "level": "市"}]}
NONE = {"status": "1", "info": "OK", "infocode": "10000", "count": "0", "geocodes": []}
BAD_KEY = {"status": "0", "info": "INVALID_USER_KEY", "infocode": "10001"}
ANSWERS = {"贵阳市南明区兴业西路142号": DOOR, "贵阳市": CITY, "火星": NONE, "坏钥匙": BAD_KEY}


@pytest.fixture
def amap():
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
            seen.append(query)
            body = json.dumps(ANSWERS.get(query.get("address"), NONE), ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v3/geocode/geo", seen
    server.shutdown()


def test_recorded_answers_parse_with_the_right_precision_in_wgs84():
    placed = parse_answer(DOOR)
    lon, lat = to_wgs84(106.716731, 26.566357, "gcj02")
    assert placed.precision == "exact" and placed.adcode == "520102"
    assert abs(placed.lon - lon) < 1e-6 and abs(placed.lat - lat) < 1e-6 and placed.lon != 106.716731
    assert parse_answer(CITY) is None and parse_answer(NONE) is None and parse_answer(BAD_KEY) is None


def test_the_geocoder_sends_key_and_address_caches_and_refines_only_when_finer(amap):
    url, seen = amap
    geocoder = AmapGeocoder("k-123", url=url, min_interval_s=0.0)
    placer = AddressPlacer(online=geocoder.geocode)
    door = placer.place("贵阳市南明区兴业西路142号")
    assert door.precision == "exact" and seen[0]["key"] == "k-123" and seen[0]["address"] == "贵阳市南明区兴业西路142号"
    placer.place("贵阳市南明区兴业西路142号")
    assert geocoder.calls == 1  # cached
    offline = placer.place("杭州市西湖区文新街道")  # the service knows nothing: the offline town stays
    assert offline.precision == "town" and offline.place == "文新街道"
    assert isinstance(placer.place("坏钥匙"), str)  # an error answer: offline's reason stands


@pytest.fixture(params=["embedded", "postgis"])
def app_with_amap(request, tmp_path, amap):
    config = {"DATA_DIR": str(tmp_path / "data"), "SEED": False, "TOKENS": TOKENS, "TESTING": True,
              "GEOCODER": "amap", "AMAP_KEY": "k-123", "AMAP_GEOCODE_URL": amap[0]}
    if request.param == "postgis":
        config["DATABASE_URL"] = request.getfixturevalue("postgis_url")
    made = create_app(config)
    yield made
    made.extensions["yizhan.store"].close()


def test_an_import_with_the_geocoder_on_places_the_door_number_exactly(app_with_amap):
    book = openpyxl.Workbook()
    book.active.append(["名称", "地址", "类型"])
    book.active.append(["兴业西路驿站", "贵阳市南明区兴业西路142号", "rest_station"])
    body = io.BytesIO()
    book.save(body)
    client = app_with_amap.test_client()
    answer = client.post("/api/v1/import", data=body.getvalue(), headers={
        "Authorization": f"Bearer {EDITOR_TOKEN}",
        "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["placed"] == {"exact": 1}
    found = client.get("/api/v1/stations?bbox=106,26,107,27").get_json()["features"]
    assert found[0]["properties"]["location_precision"] == "exact"


def test_a_half_configured_geocoder_fails_at_start(tmp_path):
    from web.config import ConfigError

    with pytest.raises(ConfigError):
        create_app({"DATA_DIR": str(tmp_path), "SEED": False, "GEOCODER": "amap"})
