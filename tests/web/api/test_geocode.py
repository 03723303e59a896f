"""Place search without GPS: the cpca gazetteer (GCJ-02 centres -> WGS-84) and /api/v1/geocode."""
from __future__ import annotations

import pytest

from geo.crs import convert
from layers.places.gazetteer import default_gazetteer, short_name


@pytest.fixture(scope="module")
def gaz():
    return default_gazetteer()


def test_gazetteer_covers_provinces_prefectures_and_counties(gaz):
    levels = {p.level for p in gaz.places}
    assert levels == {"province", "prefecture", "county"}
    assert len([p for p in gaz.places if p.level == "province"]) == 34
    assert len([p for p in gaz.places if p.level == "county"]) > 2800
    assert not any(p.name in ("市辖区", "省直辖县级行政区划") for p in gaz.places)


@pytest.mark.parametrize("query", ["玉环", "玉环市", "玉环县", "331083", "331021", "331021000000", " 玉 环 ",
                                   "浙江玉环", "台州市玉环"])
def test_yuhuan_is_found_by_any_name_under_its_current_name(gaz, query):
    place = gaz.lookup(query)[0]
    assert (place.name, place.adcode, place.level, place.province) == ("玉环市", "331083", "county", "浙江省")
    assert "玉环县" in place.aliases and "331021" in place.former_adcodes


def test_centres_are_converted_from_gcj02_to_wgs84(gaz):
    place = gaz.lookup("桐梓县")[0]
    # cpca's row: 520322000000,桐梓县,106.825198,28.133311 (GCJ-02)
    assert convert(place.lon, place.lat, "wgs84", "gcj02") == pytest.approx((106.825198, 28.133311), abs=2e-6)
    assert abs(place.lon - 106.825198) > 1e-3  # a real shift, not a copy


@pytest.mark.parametrize("name,short", [("松桃苗族自治县", "松桃"), ("黔东南苗族侗族自治州", "黔东南"), ("玉环市", "玉环"),
                                        ("新疆维吾尔自治区", "新疆"), ("南山区", "南山"), ("泾县", None)])
def test_short_names(gaz, name, short):
    assert short_name(name, gaz._nations) == short


@pytest.mark.parametrize("old,new", [("襄樊", "襄阳市"), ("遵义县", "播州区"), ("崇明县", "崇明区"), ("思茅市", "普洱市")])
def test_renamed_places_answer_under_their_current_name(gaz, old, new):
    assert gaz.lookup(old)[0].name == new


def test_ambiguous_short_names_give_every_candidate_province_first(gaz):
    names = [(p.name, p.level) for p in gaz.lookup("吉林")]
    assert names[0] == ("吉林省", "province") and ("吉林市", "prefecture") in names
    assert {p.province for p in gaz.lookup("朝阳")} >= {"北京市", "辽宁省"}


def test_nothing_for_nonsense(gaz):
    assert gaz.lookup("") == [] and gaz.lookup("火星县") == [] and gaz.lookup("999999") == []


def test_children_of_a_prefecture(gaz):
    names = {p.name for p in gaz.children("520300")}
    assert {"桐梓县", "播州区", "汇川区"} <= names


def test_geocode_api(client):
    r = client.get("/api/v1/geocode", query_string={"q": "玉环"})
    assert r.status_code == 200
    body = r.get_json()
    place = body["places"][0]
    assert body["numberReturned"] == len(body["places"]) and body["crs"] == "wgs84"
    assert place["name"] == "玉环市" and place["adcode"] == "331083" and place["level"] == "county"
    assert place["province"] == "浙江省" and 121 < place["lon"] < 122 and 28 < place["lat"] < 29


def test_geocode_api_finds_old_names_and_codes(client):
    assert client.get("/api/v1/geocode?q=玉环县").get_json()["places"][0]["name"] == "玉环市"
    assert client.get("/api/v1/geocode?q=玉环县").get_json()["places"][0]["former_adcodes"] == ["331021"]
    assert client.get("/api/v1/geocode?q=520322").get_json()["places"][0]["name"] == "桐梓县"
    # 火星 is a real 街道 of 长沙 since towns are searchable; nonsense still finds nothing
    assert client.get("/api/v1/geocode?q=不存在的地方xyz").get_json()["places"] == []


@pytest.mark.parametrize("query,parameter", [("", "q"), ("q=", "q"), ("q=%20", "q"), ("q=" + "长" * 51, "q"),
                                             ("q=玉环&limit=0", "limit"), ("q=玉环&bogus=1", "bogus")])
def test_geocode_api_errors(client, query, parameter):
    r = client.get(f"/api/v1/geocode?{query}")
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "invalid_parameter"
    assert r.get_json()["error"]["parameter"] == parameter
