"""The bundled sample data: valid, reproducible, and holding the facts it is modelled on."""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from pyproj import Geod

from data.generate import PARKS_FILE, STATIONS_FILE, write_all
from data.parks import KINDS
from data.places import load_gazetteer
from layers.model import validate_station

DATA = Path(__file__).resolve().parents[2] / "data"
CHINA_BOX = (73.0, 17.5, 135.5, 54.0)  # lon/lat, WGS-84, mainland China with margin
CENTRAL_GUIYANG = (106.71, 26.58)
HOURS = {"24/7", "Mo-Fr 08:30-12:00,14:00-17:30", "Mo-Su 07:00-21:00", "22:00-06:00",
         "Mo-Fr 09:00-17:00; Sa 09:00-12:00; PH off", "Mo-Sa 08:00-20:00; Su off",
         "Mo-Su 05:30-12:00", "Mo-Sa 05:00-11:30", "Mo-Su 06:00-18:00"}  # the last three: gig markets, at dawn
GEOD = Geod(ellps="WGS84")
CHANGGANG = "仁怀市长岗镇返乡创业服务中心"
GUIZHOU_SEATS = {"520102", "520201", "520302", "520402", "520502", "520602", "522301", "522601", "522701"}


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance on the WGS-84 ellipsoid between two (lon, lat) points, metres."""
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


def _features(name: str) -> list[dict]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))["features"]


@pytest.fixture(scope="module")
def features():
    return _features(STATIONS_FILE)


@pytest.fixture(scope="module")
def parks():
    return {f["id"]: f for f in _features(PARKS_FILE)}


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer()


def by_layer(features, layer):
    return [f for f in features if f["properties"]["layer"] == layer]


def point(feature) -> tuple[float, float]:
    return tuple(feature["geometry"]["coordinates"])


def test_every_feature_validates(features, layers):
    for f in features:
        station = validate_station(f["id"], *point(f), f["properties"], layers)
        assert station.to_feature()["geometry"] == f["geometry"]
        assert station.source == "sample" and station.verified_at.startswith("2026-")
        assert 3 <= len(station.services) <= 8, f["id"]
        assert station.hours is None or station.hours in HOURS, f["id"]
        assert station.adcode is not None and station.address


def test_ids_unique_readable_and_sorted(features):
    ids = [f["id"] for f in features]
    assert len(ids) == len(set(ids)) and ids == sorted(ids)
    prefix = {"rights_post": "rp", "rest_station": "rs", "service_window": "sw", "worker_center": "wc",
              "gig_market": "gm", "training_center": "tc"}
    for f in features:
        p = f["properties"]
        assert re.fullmatch(rf"{prefix[p['layer']]}-{p['adcode']}-\d{{4,6}}", f["id"]), f["id"]


def test_counts(features):
    counts = Counter(f["properties"]["layer"] for f in features)
    assert 5000 <= len(features) <= 7500, counts
    assert counts["rest_station"] > counts["rights_post"] > counts["worker_center"] >= 100
    assert counts["service_window"] >= 100
    guizhou = [f for f in by_layer(features, "rights_post") if f["properties"]["adcode"].startswith("52")]
    assert len(guizhou) == 461


def test_rights_posts_cover_every_guizhou_county(features, gazetteer):
    covered = {f["properties"]["adcode"] for f in by_layer(features, "rights_post")}
    assert {p.adcode for p in gazetteer.in_province("52")} <= covered


def test_mix_of_hours_status_and_access(features):
    unknown = sum("hours" not in f["properties"] for f in features) / len(features)
    assert 0.02 <= unknown <= 0.08
    assert any(f["properties"].get("hours") == "22:00-06:00" for f in features)
    status = Counter(f["properties"]["status"] for f in features)
    assert status["open"] > 0.95 * len(features) and status["temporarily_closed"] > 0
    assert Counter(f["properties"]["access"] for f in features)["open"] > 0.85 * len(features)


def test_stations_lie_near_their_county(features, gazetteer):
    for f in features:
        centre = gazetteer.county(f["properties"]["adcode"])
        far = 15000 if f["properties"]["name"] == CHANGGANG else 10000  # 长岗镇 lies 14.5 km out of 仁怀
        assert distance_m(point(f), (centre.lon, centre.lat)) < far, f["id"]  # Shuanglong: 9 km out of 南明区


def test_points_inside_china(features, parks):
    for f in features + list(parks.values()):
        lon, lat = point(f)
        assert CHINA_BOX[0] <= lon <= CHINA_BOX[2] and CHINA_BOX[1] <= lat <= CHINA_BOX[3], f["id"]


def test_yuhuan_window_serves_tongzi(features):
    windows = [f["properties"] for f in by_layer(features, "service_window")
               if f["properties"]["adcode"] == "331021" and "520322" in f["properties"]["origins"]]
    assert any({"新生儿入户", "新生儿参保"} <= set(p["items"]) and p["name"].startswith("玉环市")
               for p in windows)


def test_windows_serve_origin_counties(features):
    for f in by_layer(features, "service_window"):
        p = f["properties"]
        assert p["adcode"][:2] in {"31", "32", "33", "35", "44"}
        assert 1 <= len(p["origins"]) <= 4 and all(o[:2] in {"52", "51", "41", "34"} for o in p["origins"])
        assert p["items"] and all(re.search(r"[\u4e00-\u9fff]", item) for item in p["items"])


def test_huangping_legal_aid_centre(features):
    found = [f for f in features if f["properties"]["name"] == "黄平县法律援助中心"]
    assert len(found) == 1 and found[0]["properties"]["adcode"] == "522622"
    assert found[0]["properties"]["layer"] == "rights_post"


def test_rest_station_at_shuanglong(features, parks):
    park = point(parks["guiyang-shuanglong"])
    assert min(distance_m(park, point(f)) for f in by_layer(features, "rest_station")) < 3000


def test_guizhou_worker_centres_in_four_provinces(features):
    provinces = set()
    for f in by_layer(features, "worker_center"):
        p = f["properties"]
        assert p["origins"] and all(o.startswith("52") for o in p["origins"])
        assert f["id"] == f"wc-{p['adcode']}-{p['origins'][0]}"
        provinces.add(p["adcode"][:2])
    assert {"33", "35", "44", "32"} <= provinces
    names = {f["properties"]["name"] for f in by_layer(features, "worker_center")}
    assert "桐梓县驻玉环农民工服务站" in names


@pytest.mark.parametrize("layer", ["rights_post", "rest_station"])
def test_help_near_central_guiyang(features, layer):
    assert min(distance_m(CENTRAL_GUIYANG, point(f)) for f in by_layer(features, layer)) < 5000


def test_guiyang_has_several_dozen_rest_stations(features):
    guiyang = [f for f in by_layer(features, "rest_station") if f["properties"]["adcode"].startswith("5201")]
    assert 24 <= len(guiyang) <= 100
    assert any(f["properties"]["name"] == "南明区环卫工人爱心驿站" for f in guiyang)


def test_parks(parks):
    assert len(parks) >= 12 and "guiyang-shuanglong" in parks
    for slug, f in parks.items():
        p = f["properties"]
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug) and p["slug"] == slug
        assert p["kind"] in KINDS and p["name"] and p["name_en"] and p["address"]
        assert re.fullmatch(r"[1-8]\d{5}", p["adcode"])
    adcodes = {f["properties"]["adcode"] for f in parks.values()}
    assert {"331021", "330782", "441900", "350582"} <= adcodes
    assert any(a.startswith("3205") for a in adcodes) and sum(a.startswith("52") for a in adcodes) >= 3
    assert {f["properties"]["kind"] for f in parks.values()} == set(KINDS)


def test_parks_lie_near_their_county(parks, gazetteer):
    for slug, f in parks.items():
        centre = gazetteer.county(f["properties"]["adcode"])
        assert distance_m(point(f), (centre.lon, centre.lat)) < 30000, slug


def test_generator_reproduces_the_files(tmp_path):
    written = write_all(tmp_path)
    assert set(written) == {STATIONS_FILE, PARKS_FILE}
    for name, path in written.items():
        assert path.read_bytes() == (DATA / name).read_bytes(), name


def test_gig_markets_open_at_dawn_in_destination_cities_and_guizhou_seats(features):
    gigs = by_layer(features, "gig_market")
    adcodes = {f["properties"]["adcode"] for f in gigs}
    assert GUIZHOU_SEATS <= adcodes
    assert sum(a.startswith("11") for a in [f["properties"]["adcode"] for f in gigs]) >= 12  # Beijing: 12 or more
    assert {"310115", "440306", "441900", "330782", "320583", "350582"} <= adcodes
    dawn = [f for f in gigs if f["properties"].get("hours", "").split(" ")[-1][:5] in ("05:30", "05:00", "06:00")]
    assert len(dawn) > 0.9 * len(gigs)
    assert all(f["properties"]["items"] and {"job_board", "day_labour"} & set(f["properties"]["services"])
               for f in gigs)


def test_training_centres_in_every_guizhou_county_with_courses(features, gazetteer):
    centres = by_layer(features, "training_center")
    assert {f["properties"]["adcode"] for f in centres} == {p.adcode for p in gazetteer.in_province("52")}
    items = Counter(item for f in centres for item in f["properties"]["items"])
    assert {"牛肉粉", "苗绣", "蜡染"} <= set(items)
    changgang = [f for f in centres if f["properties"]["name"] == CHANGGANG]
    assert len(changgang) == 1 and changgang[0]["properties"]["adcode"] == "520382"
    assert {"startup_advice", "skills_course"} <= set(changgang[0]["properties"]["services"])
