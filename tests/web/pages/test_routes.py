"""The worker-facing pages: server-rendered lists, errors as friendly pages, no CDN, safe names."""
from __future__ import annotations

import gzip
import json
import re
from datetime import datetime

import pytest

from geo.crs import from_wgs84
from geo.distance import geodesic_m
from geo.hours import SHANGHAI
from layers.present import station_answer
from layers.store import NearestQuery
from tests.browser.pagedata import GUIYANG, XSS_NAME, XSS_TEMPLATE, YUHUAN, make_app
from web.pages import results


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = make_app(str(tmp_path_factory.mktemp("pages")))
    yield app
    app.extensions["yizhan.store"].close()


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def cards(body: str) -> list[str]:
    """Station ids of the result cards, in page order."""
    return re.findall(r'<li class="card" id="s-([^"]+)"', body)


def test_home_is_chinese_with_locate_search_filters_and_hotlines(client):
    r = client.get("/")
    body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert '<html lang="zh-CN">' in body
    assert 'id="yz-locate"' in body and "定位" in body
    assert 'name="q"' in body and 'action="/near"' in body
    assert 'name="layer" value="rest_station"' in body and 'name="service"' in body
    for number, words in (("12333", "人社"), ("12348", "法律援助"), ("12345", "政务服务便民热线")):
        assert f'href="tel:{number}"' in body and words in body
    assert "?lang=en" in body  # the language switch


@pytest.mark.parametrize("how", [{"query_string": {"lang": "en"}}, {"headers": {"Accept-Language": "en-US,en;q=0.9"}}])
def test_english_by_parameter_or_accept_language(client, how):
    body = client.get("/", **how).get_data(as_text=True)
    assert '<html lang="en">' in body
    assert "Find the nearest help" in body and "Legal aid" in body
    assert "找离你最近的帮助" not in body


def test_chinese_wins_over_english_when_preferred(client):
    body = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in body


def test_explicit_english_is_kept_in_links(client):
    body = client.get("/near", query_string={"lat": YUHUAN[1], "lon": YUHUAN[0], "lang": "en"}).get_data(as_text=True)
    assert 'href="/station/yh-rest-1?lang=en"' in body
    assert "lang=zh" in body  # the switch back


def test_near_lists_the_nearest_open_first_then_by_state(app, client):
    """The k nearest (plus the nearest open one when none of them is open), by state then distance."""
    lon, lat = GUIYANG
    at = "2026-12-04T10:00:00+08:00"
    r = client.get("/near", query_string={"lat": lat, "lon": lon, "k": 7, "at": at})
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    store = app.extensions["yizhan.store"]
    moment = datetime.fromisoformat(at)
    hits = store.nearest(NearestQuery(lon=lon, lat=lat, k=7, at=moment))
    rank = {"open": 0, "unknown": 2, "closed": 3, "temporarily_closed": 4}
    features = [station_answer(h.station, moment, h.distance_m) for h in hits]
    expected = [f["id"] for f in sorted(features, key=lambda f: (
        rank[results.state_of(f["properties"], set(), f["id"])], f["properties"]["distance_m"], f["id"]))]
    assert [i for i in cards(body) if i in expected] == expected
    assert "米" in body or "公里" in body
    paused = sum(1 for f in features if f["properties"]["status"] == "temporarily_closed")
    assert body.count('class="btn" href="#m-') == len(cards(body)) - paused


def test_near_card_has_state_services_call_and_navigation(client):
    body = client.get("/near", query_string={"lat": YUHUAN[1], "lon": YUHUAN[0], "k": 20}).get_data(as_text=True)
    card = body[body.index('id="s-yh-rest-1"'):]
    card = card[: card.index("</li>")]
    assert "营业中" in card and "全天 24 小时开放" in card
    assert "饮用水" in card and "手机充电" in card and "卫生间" in card
    assert 'href="tel:' in card and "拨打" in card
    assert "uri.amap.com" in card or "amap" in card
    assert card.count('class="btn" href="http') == 3  # Amap, Baidu, Tencent


def test_near_shows_when_a_closed_place_opens(client):
    saturday_night = datetime(2026, 11, 28, 21, 0, tzinfo=SHANGHAI).isoformat()
    body = client.get("/near", query_string={"lat": YUHUAN[1], "lon": YUHUAN[0], "k": 30, "at": saturday_night}
                      ).get_data(as_text=True)
    card = body[body.index('id="s-yh-window-1"'):]
    assert "已关闭" in card[: card.index("</li>")] and "周一 08:30 开门" in card[: card.index("</li>")]


def test_near_by_place_name_without_gps(app, client):
    at = "2026-12-04T10:00:00+08:00"  # fixed: which station is open first must not follow the wall clock
    r = client.get("/near", query_string={"q": "玉环", "at": at})
    body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "玉环市" in body and "浙江省" in body
    place = client.get("/api/v1/geocode", query_string={"q": "玉环"}).get_json()["places"][0]
    lon, lat = place["lon"], place["lat"]
    hits = app.extensions["yizhan.store"].nearest(NearestQuery(lon=lon, lat=lat, k=1, open_now=True,
                                                               at=datetime.fromisoformat(at)))
    assert geodesic_m(lon, lat, *YUHUAN) < 2000 and cards(body)[0] == hits[0].station.id


def test_near_accepts_gcj02_input(app, client):
    lon, lat = from_wgs84(YUHUAN[0], YUHUAN[1], "gcj02")
    at = "2026-12-04T10:00:00+08:00"
    body = client.get("/near", query_string={"lat": lat, "lon": lon, "crs": "gcj02", "k": 5, "at": at}).get_data(as_text=True)
    same = client.get("/near", query_string={"lat": YUHUAN[1], "lon": YUHUAN[0], "k": 5, "at": at}).get_data(as_text=True)
    expected = app.extensions["yizhan.store"].nearest(NearestQuery(lon=YUHUAN[0], lat=YUHUAN[1], k=5))
    assert set(cards(body)) >= {h.station.id for h in expected}
    assert cards(body) == cards(same)


def test_near_filters_by_layer_checkboxes(client):
    body = client.get("/near?lat=26.58&lon=106.71&layer=rights_post&layer=worker_center&k=10").get_data(as_text=True)
    assert cards(body)
    assert "户外劳动者服务站点</span>" not in body.split('<ol class="cards">')[1].split("</ol>")[0]


@pytest.mark.parametrize("query", [
    "lat=abc&lon=1", "lat=100&lon=100", "lat=26&lon=nan", "lat=26", "lat=26&lon=106&k=0", "lat=26&lon=106&k=x",
    "lat=26&lon=106&layer=nope", "lat=26&lon=106&crs=utm", "lat=26&lon=106&open_now=maybe",
    "lat=26&lon=106&at=tomorrow", "lat=1e999&lon=1",
])
def test_bad_parameters_answer_a_friendly_400_page(client, query):
    r = client.get(f"/near?{query}")
    assert r.status_code == 400
    assert r.mimetype == "text/html"
    body = r.get_data(as_text=True)
    assert '<html lang="zh-CN">' in body and 'id="yz-search"' in body
    assert "Traceback" not in body


def test_the_400_page_speaks_english_when_asked(client):
    r = client.get("/near?lat=abc&lon=1&lang=en")
    assert r.status_code == 400 and '<html lang="en">' in r.get_data(as_text=True)
    assert "latitude" in r.get_data(as_text=True)


def test_an_unknown_place_answers_the_form_again_with_its_name(client):
    """Issue 17: a search nothing matches is not an error for a worker (200, form, hint, hotlines)."""
    r = client.get("/near", query_string={"q": "不存在的地方xyz"})
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert "不存在的地方xyz" in body and 'id="yz-search"' in body and "12333" in body and "12348" in body


def test_station_page_and_unknown_station(client):
    r = client.get("/station/yh-window-1")
    body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "新生儿入户" in body and "桐梓县" in body
    assert "周一至周五 08:30–12:00、14:00–17:30" in body and "Mo-Fr" not in body.split("<script")[0]
    missing = client.get("/station/no-such-station?lang=en")
    assert missing.status_code == 404 and "not found" in missing.get_data(as_text=True)
    assert missing.mimetype == "text/html"


@pytest.mark.parametrize("origin", ["桐梓", "桐梓县", "520322"])
def test_windows_for_a_home_county(app, client, origin):
    r = client.get("/windows", query_string={"origin": origin, "q": "玉环"})
    body = r.get_data(as_text=True)
    assert r.status_code == 200
    place = client.get("/api/v1/geocode?q=玉环").get_json()["places"][0]
    query = NearestQuery(lon=place["lon"], lat=place["lat"], k=100, layers=("service_window", "worker_center"),
                         origin="520322")
    assert cards(body) == [h.station.id for h in app.extensions["yizhan.store"].nearest(query)]
    assert {"yh-window-1", "gy-window-1"} <= set(cards(body))
    assert "新生儿入户" in body and "无犯罪记录证明" in body
    assert "桐梓县" in body


def test_windows_without_a_position_and_with_a_prefecture(client):
    assert "yh-window-1" in cards(client.get("/windows?origin=520322").get_data(as_text=True))
    body = client.get("/windows", query_string={"origin": "黔东南"}).get_data(as_text=True)
    assert "请选一个县" in body and "origin=522622" in body
    assert client.get("/windows").status_code == 200
    assert client.get("/windows?origin=12").status_code == 400
    assert client.get("/windows", query_string={"origin": "火星县"}).status_code == 400


def test_hostile_names_are_text_everywhere(client):
    for path in ("/near?lat=28.1392&lon=121.2276&k=20", "/station/xss-1", "/station/xss-2", "/windows?origin=520322"):
        body = client.get(path).get_data(as_text=True)
        assert XSS_NAME not in body and "<script>alert(3)" not in body
        if "xss-1" in path or "near" in path:
            assert "&lt;img src=x onerror=alert(1)&gt;" in body
        for script in re.findall(r"<script>(.*?)</script>", body, re.DOTALL):
            assert "$(`" not in script  # folium's own Popup: jQuery over a JS template literal
            assert XSS_TEMPLATE not in script


def test_popups_are_json_strings_with_escaped_html(client):
    body = client.get("/station/xss-1").get_data(as_text=True)
    popup = re.search(r"\.bindPopup\((\".*?\"), \{maxWidth", body).group(1)
    assert "&lt;img src=x onerror=alert(1)&gt;" in json.loads(popup)


def test_feed_gives_dots_in_the_tiles_crs(client):
    r = client.get("/map/points?bbox=121.0,28.0,121.5,28.3")
    assert r.status_code == 200
    body = r.get_json()
    assert body["crs"] == "wgs84" and body["layers"][0]
    ids = {p[0] for p in body["points"]}
    assert {"yh-rest-1", "yh-window-1", "xss-1"} <= ids
    bad = client.get("/map/points?bbox=1,2,3")
    assert bad.status_code == 400 and bad.get_json()["error"]["parameter"] == "bbox"


@pytest.mark.parametrize("tiles,config,crs", [("amap", {}, "gcj02"), ("tianditu", {"TIANDITU_KEY": "k"}, "wgs84"),
                                              ("osm", {}, "wgs84"), ("none", {}, "wgs84")])
def test_markers_are_drawn_in_the_crs_of_the_tiles(tmp_path, tiles, config, crs):
    app = make_app(str(tmp_path), tiles=tiles, **config)
    try:
        body = app.test_client().get("/station/yh-rest-1").get_data(as_text=True)
        drawn = re.search(r"L\.marker\(\[([\d.]+), ([\d.]+)\],", body)
        lat, lon = float(drawn.group(1)), float(drawn.group(2))
        want_lon, want_lat = from_wgs84(121.2301, 28.1405, crs)
        assert (lon, lat) == pytest.approx((want_lon, want_lat), abs=1e-6)
        if crs == "gcj02":
            assert abs(lon - 121.2301) > 1e-3  # the shift is real, a few hundred metres
        dots = app.test_client().get("/map/points?bbox=121.0,28.0,121.5,28.3").get_json()
        dot = next(p for p in dots["points"] if p[0] == "yh-rest-1")
        assert (dot[1], dot[2]) == pytest.approx((want_lon, want_lat), abs=1e-5)
    finally:
        app.extensions["yizhan.store"].close()


def test_default_tiles_are_amap_or_tianditu_with_a_key():
    from web.pages.tiles import choose_provider

    assert choose_provider({}).name == "amap"
    assert choose_provider({"TIANDITU_KEY": "abc"}).name == "tianditu"
    assert choose_provider({"TILES": "osm", "TIANDITU_KEY": "abc"}).name == "osm"
    with pytest.raises(ValueError):
        choose_provider({"TILES": "tianditu"})
    with pytest.raises(ValueError):
        choose_provider({"TILES": "google"})


def test_static_assets_are_served_gzipped_with_caching(client):
    r = client.get("/static/vendor/leaflet/leaflet.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
    assert b"Leaflet" in gzip.decompress(r.data)
    assert len(r.data) < 60_000
    again = client.get("/static/vendor/leaflet/leaflet.js", headers={"Accept-Encoding": "gzip",
                                                                     "If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    assert client.get("/static/vendor/leaflet/images/layers.png").status_code == 200
    assert client.get("/static/vendor/nope/x.js").status_code == 404
    assert client.get("/static/../app.py").status_code == 404


def test_pages_are_gzipped(client):
    r = client.get("/near?lat=28.1392&lon=121.2276&k=20", headers={"Accept-Encoding": "gzip, deflate"})
    assert r.headers["Content-Encoding"] == "gzip"
    assert b"<html" in gzip.decompress(r.data)


def test_wechat_share_parameters_do_not_break_a_page(client):
    assert client.get("/near?q=玉环&from=singlemessage&isappinstalled=0").status_code == 200


NAV_HOSTS_SAMPLE = (121.23, 28.14, "站")
PAGES = ("/", "/?lang=en", "/near?q=玉环&k=20", "/near?lat=26.58&lon=106.71", "/station/yh-window-1",
         "/windows", "/windows?origin=520322&q=玉环", "/windows?origin=遵义", "/near?lat=x", "/station/none")


def _hosts(text: str) -> set[str]:
    return {m.lower() for m in re.findall(r"(?:https?:)?//([A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,})", text)}


@pytest.mark.parametrize("tiles,config", [("none", {}), ("amap", {}), ("tianditu", {"TIANDITU_KEY": "k"}), ("osm", {})])
def test_no_page_references_a_host_other_than_the_tile_server(tmp_path, tiles, config):
    from geo.nav import nav_links
    from web.pages.tiles import choose_provider

    nav_hosts = {h for url in nav_links(*NAV_HOSTS_SAMPLE).values() for h in _hosts(url)}
    allowed = choose_provider({"TILES": tiles, **config}).hosts()
    app = make_app(str(tmp_path), tiles=tiles, **config)
    client = app.test_client()
    try:
        for path in PAGES:
            body = client.get(path).get_data(as_text=True)
            # navigation links the reader taps are fine; anything the page loads must be ours or the tiles'
            loads = re.sub(r'<a class="btn" href="https://[^"]+" rel="noopener">', "", body)
            assert _hosts(loads) <= allowed, (path, _hosts(loads) - allowed)
            assert _hosts(body) <= allowed | nav_hosts, path
            for ref in re.findall(r'(?:src|href)="(/static/[^"]+)"', body):
                asset = client.get(ref)
                assert asset.status_code == 200, ref
                if "/vendor/" not in ref:
                    assert _hosts(asset.get_data(as_text=True)) == set(), ref
    finally:
        app.extensions["yizhan.store"].close()


def test_every_message_exists_in_both_catalogs():
    from pathlib import Path

    from web import i18n

    zh, en = i18n.catalog("zh"), i18n.catalog("en")
    assert set(zh) == set(en)
    web = Path(i18n.__file__).parent
    used = set()
    for path in list((web / "templates").glob("*.html")) + sorted(web.glob("*.py")):
        used |= set(re.findall(r"""(?:_|gettext|translate\(lang,)\(?\s*["']([a-z0-9_]+\.[a-z0-9_.]+)["']""",
                               path.read_text(encoding="utf-8")))
    assert used and used <= set(zh), used - set(zh)


def test_no_client_input_gives_a_500(client):
    odd = ["/near?lat=%00&lon=1", "/near?q=%ff%fe", "/near?q=%3Cscript%3E", "/station/%3Cx%3E", "/station/" + "a" * 300,
           "/windows?origin=%3Cb%3E", "/windows?origin=520322&lat=1", "/map/points?bbox=a,b,c,d",
           "/near?lat=26&lon=106&service=toilet&layer=rights_post", "/near?lat=-90&lon=180&k=50"]
    for path in odd:
        assert client.get(path).status_code < 500, path


def test_the_error_page_renders_outside_the_blueprint_too(app):
    """errors.py may hand unrouted paths (a 404 of no blueprint) to pages.error_page."""
    from web.pages.render import error_page

    with app.test_request_context("/no/such/page?lang=en"):
        body, status, _headers = error_page(404, "http", None, "not found")
    assert status == 404 and '<html lang="en">' in body and "Page or place not found" in body


def test_hashed_asset_urls_are_cached_for_a_year(client):
    import re as _re

    page = client.get("/").get_data(as_text=True)
    urls = _re.findall(r'(?:src|href)="(/static/[^"]+\?v=[0-9a-f]{16})"', page)
    assert any("leaflet" in u for u in urls) and any("yizhan" in u for u in urls)
    for url in urls:
        answer = client.get(url.replace("&amp;", "&"))
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    stale = client.get(urls[0].split("?")[0] + "?v=0000000000000000")
    assert stale.headers["Cache-Control"] == "public, max-age=86400"
