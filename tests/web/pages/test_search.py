"""Issue 17: the search box finds help the way a worker asks (needs, towns, streets, parks, pinyin,
near-misses), on /near?q= and /api/v1/geocode, on the sample data in both stores."""
from __future__ import annotations

import re

import pytest

from app import create_app

NANMING = "520102"


@pytest.fixture(scope="module", params=["embedded", "postgis"])
def search_client(request, tmp_path_factory):
    config = {"DATA_DIR": str(tmp_path_factory.mktemp("search")), "TESTING": True}
    if request.param == "postgis":
        config["DATABASE_URL"] = request.getfixturevalue("postgis_module_url")
    app = create_app(config)
    yield app.test_client()
    app.extensions["yizhan.store"].close()


def page(client, **query) -> tuple[int, str]:
    r = client.get("/near", query_string=query)
    return r.status_code, r.get_data(as_text=True)


def heading(body: str) -> str:
    return re.search(r"<h1>(.*?)</h1>", body, re.DOTALL).group(1)


def card_ids(body: str) -> list[str]:
    return re.findall(r'<li class="card" id="s-([^"]+)"', body)


def geocode(client, q: str) -> dict:
    r = client.get("/api/v1/geocode", query_string={"q": q})
    assert r.status_code == 200
    return r.get_json()


# ---- the rows of "What is wrong today" -------------------------------------------------------
@pytest.mark.parametrize("typed,name", [
    ("贵阳", "贵阳市"), ("贵阳市", "贵阳市"), ("花溪", "花溪区"), ("南明区", "南明区"), ("玉环县", "玉环市"),
    ("深圳", "深圳市"), ("龙岗", "龙岗区"), ("深圳市龙岗区", "龙岗区"), ("贵阳 南明", "南明区"),
    ("guiyang", "贵阳市"), ("Guiyang", "贵阳市"),
])
def test_places_that_worked_still_work_and_pinyin_joins_them(search_client, typed, name):
    status, body = page(search_client, q=typed)
    assert status == 200 and heading(body) == f"{name}附近的帮助" and card_ids(body)
    assert geocode(search_client, typed)["places"][0]["name"] == name


@pytest.mark.parametrize("typed", ["双龙", "双龙航空港"])
def test_a_park_of_our_own_data_by_the_distinctive_part_of_its_name(search_client, typed):
    status, body = page(search_client, q=typed)
    assert status == 200 and heading(body) == "双龙航空港物流园区附近的帮助" and card_ids(body)
    first = geocode(search_client, typed)["places"][0]
    assert (first["kind"], first["code"], first["county"]) == ("park", "guiyang-shuanglong", "南明区")


def test_an_address_is_read_down_to_its_street(search_client):
    status, body = page(search_client, q="贵阳市南明区兴业西路")
    assert status == 200 and heading(body) == "兴业西路附近的帮助"
    assert card_ids(body)[0] == "rp-520102-0003" or "南明区兴业西路社区法律援助工作站" in body.split('class="card"')[1]
    first = geocode(search_client, "贵阳市南明区兴业西路")["places"][0]
    assert (first["kind"], first["name"], first["adcode"]) == ("street", "兴业西路", NANMING)


def test_an_address_with_an_unknown_street_falls_back_to_its_county_and_says_so(search_client):
    status, body = page(search_client, q="贵阳市南明区没有这条路")
    assert status == 200 and heading(body) == "南明区附近的帮助" and card_ids(body)
    assert "按 贵阳市南明区 查找" in body
    assert geocode(search_client, "贵阳市南明区没有这条路")["understood"] == "贵阳市南明区"


def test_a_street_of_several_stations_gives_a_list_with_the_county_of_each(search_client):
    status, body = page(search_client, q="兴业西路")
    assert status == 200 and not card_ids(body)
    assert "兴业西路（贵州省 贵阳市 南明区）" in body and "兴业西路（四川省 乐山市 马边彝族自治县）" in body
    answer = geocode(search_client, "兴业西路")
    assert answer["ambiguous"] and {p["kind"] for p in answer["places"]} == {"street"}


def test_one_wrong_character_is_suggested_never_silently_replaced(search_client):
    status, body = page(search_client, q="南名区")
    assert status == 200 and not card_ids(body)
    assert re.search(r"你要找的是不是：<a href=\"/near\?q=520102\">南明区（贵州省 贵阳市）</a>？", body)
    answer = geocode(search_client, "南名区")
    assert answer["places"] == [] and answer["suggestions"][0]["name"] == "南明区"


@pytest.mark.parametrize("typed", ["讨薪", "欠工资"])
def test_a_need_alone_asks_where_and_with_a_location_finds_rights_posts(search_client, typed):
    status, body = page(search_client, q=typed)
    assert status == 200 and typed in heading(body) and 'id="yz-search"' in body and not card_ids(body)
    assert f'name="need" value="{typed}"' in body  # kept for the next tap
    status, body = page(search_client, lat="26.57", lon="106.71", need=typed)
    ids = card_ids(body)
    assert status == 200 and ids and all(i.startswith("rp-") for i in ids)
    assert "欠薪求助" in body


def test_nothing_typed_answers_the_form_with_a_hint_and_the_hotlines(search_client):
    for query in ({}, {"q": ""}, {"q": "  "}):
        status, body = page(search_client, **query)
        assert status == 200 and "请先输入地名" in heading(body)
        assert 'id="yz-search"' in body and "12333" in body and "12348" in body
        assert "没看懂" not in body and "Traceback" not in body
    home = search_client.get("/").get_data(as_text=True)
    assert re.search(r'<input type="search" id="yz-q" name="q"[^>]* required>', home)


def test_the_json_api_keeps_its_400_for_an_empty_query(search_client):
    r = search_client.get("/api/v1/geocode?q=")
    assert r.status_code == 400 and r.get_json()["error"]["parameter"] == "q"


# ---- needs with places, ambiguous towns, initials -------------------------------------------
def test_a_place_with_a_need_finds_the_windows_there(search_client):
    status, body = page(search_client, q="玉环 上户口")
    ids = card_ids(body)
    assert status == 200 and heading(body) == "玉环市附近的帮助"
    assert ids and all(i.startswith("sw-") for i in ids) and ids[0].startswith("sw-3310")
    assert "户籍办理" in body


def test_need_and_place_in_either_order_and_without_a_space(search_client):
    for typed in ("南明 讨薪", "讨薪 南明", "南明讨薪"):
        status, body = page(search_client, q=typed)
        ids = card_ids(body)
        assert status == 200 and heading(body) == "南明区附近的帮助" and ids and all(i.startswith("rp-") for i in ids)


def test_a_shared_town_name_gives_a_short_list_with_province_city_county(search_client):
    status, body = page(search_client, q="城关镇")
    assert status == 200 and not card_ids(body)
    choices = re.findall(r'<li><a href="/near\?q=(\d{12})">城关镇（([^<]+)）</a></li>', body)
    # province, city, county (a municipality such as 天津市 has no city level between)
    assert 5 <= len(choices) <= 12 and all(len(where.split()) in (2, 3) for _, where in choices)
    assert "内蒙古自治区 呼和浩特市 和林格尔县" in [where for _, where in choices]
    code = choices[0][0]
    status, body = page(search_client, q=code)
    assert status == 200 and heading(body) == "城关镇附近的帮助" and card_ids(body)


def test_a_town_qualified_by_its_county(search_client):
    for typed in ("南明 沙南", "沙南街道", "南明区沙南"):
        status, body = page(search_client, q=typed)
        assert status == 200 and heading(body) == "沙南社区服务中心附近的帮助" and card_ids(body)


def test_pinyin_initials_give_a_list(search_client):
    status, body = page(search_client, q="gy")
    assert status == 200 and "贵阳市（贵州省）" in body and not card_ids(body)


# ---- where am I, and points outside China ------------------------------------------------------
def test_near_from_coordinates_names_the_place(search_client):
    status, body = page(search_client, lat="26.5725", lon="106.7135")
    text = re.sub(r"<[^>]+>", "", body)  # the place names are marked as data (translate=no)
    assert status == 200 and re.search(r"你在 贵州省贵阳市南明区 \S+ 附近", text)


@pytest.mark.parametrize("lon,lat", [(126.978, 37.5665), (100.5018, 13.7563)])  # Seoul, Bangkok
@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_points_outside_mainland_china_are_not_shifted(search_client, lon, lat, crs):
    def first(source: str) -> float:
        body = search_client.get("/api/v1/nearest", query_string={"lat": lat, "lon": lon, "k": 1,
                                                                   "crs": source}).get_json()
        return body["features"][0]["properties"]["distance_m"]

    assert first(crs) == first("wgs84")


@pytest.fixture(params=["embedded", "postgis"])
def fresh_app(request, tmp_path):
    config = {"DATA_DIR": str(tmp_path), "SEED": False, "TESTING": True}
    if request.param == "postgis":
        config["DATABASE_URL"] = request.getfixturevalue("postgis_url")
    app = create_app(config)
    yield app
    app.extensions["yizhan.store"].close()


def test_a_new_station_becomes_searchable_by_name_and_street(fresh_app, monkeypatch):
    from layers.model import Station
    from web import place_search

    client = fresh_app.test_client()
    assert geocode(client, "试验工会驿站")["places"] == []
    monkeypatch.setattr(place_search, "OWN_REFRESH_S", 0.0)
    fresh_app.extensions["yizhan.store"].put(Station(
        id="t-1", lon=106.7135, lat=26.5725, name="试验工会驿站", layer="rest_station", adcode=NANMING,
        address="贵阳市南明区试验大道8号", services=("drinking_water",), source="test"))
    first = geocode(client, "试验工会驿站")["places"][0]
    assert (first["kind"], first["code"], first["county"]) == ("station", "t-1", "南明区")
    assert geocode(client, "南明区试验大道")["places"][0]["kind"] == "street"
