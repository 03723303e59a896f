"""The fast paths of answer building give exactly what the plain code gives.

`geo.nav.quote_all` against `urllib.parse.quote(s, safe="")`; `nav_links` against the links built
with the standard library and the generic CRS formulas; the unrolled scalar
`wgs84_to_gcj02_and_bd09` bit for bit against `_gcj_forward`/`_bd_forward`; `station_answer`
and `Station.properties` against the dict-merging way they were written before.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from geo import crs
from geo.hours import SHANGHAI
from geo.nav import nav_links, quote_all
from layers.model import STATION_FIELDS, Station
from layers.present import _hours_summary, hours_summary, station_answer

TRICKY = ["", "%", "/", " ", "a b", "%2F%%", "😀", "站;title:x|y,z&q=1 100%", "~-._", "AZaz09",
          "é\u0301ñ", "\x00\x7f\x80\u00ff", "\u2028\ufeff", "中文，；：｜", "tab\tnew\nline",
          "\U0010ffff",
          "南明区兴业西路社区法律援助工作站", "贵阳市南明区兴业西路142号", "Nanming District Xingye Rd W"]


# ---- quote_all ---------------------------------------------------------------------------------
@pytest.mark.parametrize("text", TRICKY)
def test_quote_all_equals_urllib_quote_on_tricky_texts(text):
    assert quote_all(text) == quote(text, safe="")


@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=40))  # any code point but lone surrogates
@example("站12345")
@example("a" * 100)
def test_quote_all_equals_urllib_quote(text):
    assert quote_all(text) == quote(text, safe="")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("站a1 %/~-._😀;:|,é中"), max_size=30))
def test_quote_all_equals_urllib_quote_on_mixed_runs(text):
    assert quote_all(text) == quote(text, safe="")


@pytest.mark.parametrize("text", ["\ud800", "a\udfff", "站\ud83d"])
def test_lone_surrogates_fail_as_in_urllib(text):
    with pytest.raises(UnicodeEncodeError):
        quote(text, safe="")
    with pytest.raises(UnicodeEncodeError):
        quote_all(text)


# ---- nav_links ---------------------------------------------------------------------------------
_MARKS = str.maketrans({";": "；", ":": "：", "|": "｜", ",": "，"})


def _reference_links(lon: float, lat: float, name: str, address: str | None) -> dict[str, str]:
    """The links as first written: urllib's quote, the generic formulas, nothing shared."""
    name = name or "驿站"
    if crs.in_mainland_china(lon, lat):
        glon, glat = crs._gcj_forward(float(lon), float(lat), crs._SCALAR)
        blon, blat = crs._bd_forward(glon, glat, crs._SCALAR)
    else:
        glon, glat = blon, blat = float(lon), float(lat)
    def q(text: str) -> str:
        return quote(text, safe="")

    return {
        "amap": f"https://uri.amap.com/marker?position={glon:.6f},{glat:.6f}&name={q(name)}"
                "&src=yizhan&coordinate=gaode&callnative=1",
        "baidu": f"https://api.map.baidu.com/marker?location={blat:.6f},{blon:.6f}&title={q(name)}"
                 f"&content={q(address or name)}&output=html&coord_type=bd09ll&src={q('webapp.yizhan.stations')}",
        "tencent": f"https://apis.map.qq.com/uri/v1/marker?marker=coord:{glat:.6f},{glon:.6f};"
                   f"title:{q(name.translate(_MARKS))};addr:{q((address or name).translate(_MARKS))}&referer=yizhan",
    }


texts = st.one_of(st.sampled_from(TRICKY), st.text(max_size=25))


@settings(max_examples=500, deadline=None)
@given(st.floats(70, 140), st.floats(0, 57), texts, st.one_of(st.none(), texts))
@example(106.71, 26.58, "玉环;窗口:1|2,3", "观山湖区;1号")
@example(2.35, 48.85, "", "")
@example(72.004, 0.8293, "edge", None)
@example(137.8347, 55.8271, "edge", None)
def test_nav_links_equal_the_reference(lon, lat, name, address):
    assert nav_links(lon, lat, name, address) == _reference_links(lon, lat, name, address)


# ---- CRS fast path -----------------------------------------------------------------------------
@settings(max_examples=3000, deadline=None)
@given(st.floats(71.9, 138.0), st.floats(0.7, 56.0))
@example(105.0, 35.0)
@example(72.004, 0.8293)
@example(137.8347, 55.8271)
@example(105, 35)
def test_gcj02_and_bd09_together_are_bit_identical_to_the_generic_formulas(lon, lat):
    got = crs.wgs84_to_gcj02_and_bd09(lon, lat)
    if crs.in_mainland_china(lon, lat):
        gcj = crs._gcj_forward(float(lon), float(lat), crs._SCALAR)
        want = (gcj, crs._bd_forward(*gcj, crs._SCALAR))
    else:
        want = ((float(lon), float(lat)), (float(lon), float(lat)))
    assert got == want
    assert all(type(v) is float for pair in got for v in pair)
    assert got[0] == crs.wgs84_to_gcj02(lon, lat) and got[1] == crs.wgs84_to_bd09(lon, lat)


def test_gcj02_and_bd09_together_outside_china_and_at_infinity():
    assert crs.wgs84_to_gcj02_and_bd09(-105, 40) == ((-105.0, 40.0), (-105.0, 40.0))
    inf = crs.wgs84_to_gcj02_and_bd09(math.inf, 30)
    assert inf == ((math.inf, 30.0), (math.inf, 30.0))


# ---- station answers ---------------------------------------------------------------------------
def _reference_answer(station: Station, at: datetime, distance_m: float | None) -> dict:
    extra: dict = {}
    if distance_m is not None:
        extra["distance_m"] = distance_m
    extra.update(hours_summary(station, at))
    extra["nav"] = nav_links(station.lon, station.lat, station.name, station.address)
    props = {name: (list(v) if isinstance(v, tuple) else v)
             for name in STATION_FIELDS if name not in ("id", "lon", "lat") for v in [getattr(station, name)]}
    props.update(extra)
    return {"type": "Feature", "id": station.id,
            "geometry": {"type": "Point", "coordinates": [station.lon, station.lat]}, "properties": props}


HOURS = [None, "24/7", "Mo-Fr 09:00-17:00; Sa 09:00-12:00; PH off", "Mo-Su 08:00-12:00,14:00-18:00",
         "Mo-Fr 22:00-02:00", "off"]


@settings(max_examples=300, deadline=None)
@given(st.floats(70, 140), st.floats(0, 57), st.sampled_from(TRICKY[1:]), st.one_of(st.none(), texts),
       st.sampled_from(HOURS), st.sampled_from(["open", "temporarily_closed", "removed"]),
       st.lists(st.sampled_from(["water", "rest", "toilet"]), unique=True).map(tuple),
       st.integers(0, 365 * 24 * 60 * 60), st.integers(0, 999_999),
       st.one_of(st.none(), st.floats(0, 2e7)))
def test_station_answer_equals_the_reference(lon, lat, name, address, hours, status, services, seconds, micro,
                                             distance_m):
    station = Station(id="s1", lon=lon, lat=lat, name=name, layer="rest_station", address=address, hours=hours,
                      status=status, services=services, origins=("520102",), items=())
    at = datetime(2026, 1, 1, tzinfo=SHANGHAI) + timedelta(seconds=seconds, microseconds=micro)
    got = station_answer(station, at, distance_m)
    want = _reference_answer(station, at, distance_m)
    assert got == want
    assert list(got) == list(want) and list(got["properties"]) == list(want["properties"])  # same key order
    assert list(got["properties"]["nav"]) == ["amap", "baidu", "tencent"]


def test_station_answers_do_not_share_mutable_parts():
    station = Station(id="s1", lon=106.7, lat=26.5, name="站", layer="rest_station", hours="24/7",
                      services=("water",))
    at = datetime(2026, 11, 30, 10, 0, 30, tzinfo=SHANGHAI)
    first = station_answer(station, at, 1.0)
    first["properties"]["nav"]["amap"] = "changed"
    first["properties"]["hours_today"].append("changed")
    first["properties"]["services"].append("changed")
    second = station_answer(station, at, 1.0)
    assert second["properties"]["nav"]["amap"].startswith("https://")
    assert second["properties"]["hours_today"] == ["00:00-24:00"]
    assert second["properties"]["services"] == ["water"]
    assert _hours_summary.cache_info().currsize >= 1


def test_properties_are_the_fields_in_order_with_lists():
    station = Station(id="s1", lon=1.0, lat=2.0, name="n", layer="rest_station", services=("a", "b"))
    props = station.properties()
    assert list(props) == [f for f in STATION_FIELDS if f not in ("id", "lon", "lat")]
    assert props["services"] == ["a", "b"] and props["origins"] == [] and props["items"] == []
    assert station.to_feature({"x": 1})["properties"]["x"] == 1
    object.__setattr__(station, "_memo", "not a field")  # something stored on an instance is no property
    assert station.properties() == props
