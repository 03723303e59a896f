"""geo.nav: each map link carries the right CRS, in the provider's coordinate order, and the name intact."""
from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.crs import convert
from geo.nav import amap_url, baidu_url, nav_links, tel_link, tencent_url

GUIYANG = (106.630153, 26.647661)  # lon far from lat, so a swapped order cannot pass
NAME = "花果园户外劳动者服务站 A&B #1"


def _query(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    return {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True, strict_parsing=True).items()}


def _pair(text: str) -> tuple[float, float]:
    a, b = text.split(",")
    return float(a), float(b)


def _tencent_marker(url: str) -> dict[str, str]:
    return dict(item.split(":", 1) for item in _query(url)["marker"].split(";"))


def test_amap_is_gcj02_lon_lat():
    url = nav_links(*GUIYANG, NAME)["amap"]
    assert url.startswith("https://uri.amap.com/marker?")
    q = _query(url)
    lon, lat = _pair(q["position"])  # Amap: longitude first
    want = convert(*GUIYANG, "wgs84", "gcj02")
    assert abs(lon - want[0]) <= 5e-7 and abs(lat - want[1]) <= 5e-7
    assert q["coordinate"] == "gaode" and q["name"] == NAME and q["src"]


def test_baidu_is_bd09_lat_lng_with_its_coord_type():
    url = nav_links(*GUIYANG, NAME)["baidu"]
    assert url.startswith("https://api.map.baidu.com/marker?")
    q = _query(url)
    lat, lng = _pair(q["location"])  # Baidu: latitude first
    want = convert(*GUIYANG, "wgs84", "bd09")
    assert abs(lng - want[0]) <= 5e-7 and abs(lat - want[1]) <= 5e-7
    assert q["coord_type"] == "bd09ll" and q["output"] == "html"
    assert q["title"] == NAME and q["content"] and q["src"]


def test_tencent_is_gcj02_lat_lng_with_a_referer():
    url = nav_links(*GUIYANG, NAME)["tencent"]
    assert url.startswith("https://apis.map.qq.com/uri/v1/marker?")
    marker = _tencent_marker(url)
    lat, lng = _pair(marker["coord"])  # Tencent: latitude first
    want = convert(*GUIYANG, "wgs84", "gcj02")
    assert abs(lng - want[0]) <= 5e-7 and abs(lat - want[1]) <= 5e-7
    assert marker["title"] == NAME and _query(url)["referer"] == "yizhan"


def test_the_links_really_moved_the_point():
    links = nav_links(*GUIYANG, NAME)
    amap = _pair(_query(links["amap"])["position"])
    assert abs(amap[0] - GUIYANG[0]) > 1e-3  # GCJ-02 shifts Guiyang by ~500 m


def test_names_cannot_break_the_urls():
    name = "站;title:x|y,z&q=1 100%"
    links = nav_links(*GUIYANG, name, address="观山湖区;1号")
    assert _query(links["amap"])["name"] == name
    assert _query(links["baidu"])["title"] == name
    assert _query(links["baidu"])["content"] == "观山湖区;1号"
    marker = _tencent_marker(links["tencent"])
    assert set(marker) == {"coord", "title", "addr"}
    assert "title" in marker["title"] and marker["addr"].startswith("观山湖区")
    for url in links.values():
        assert " " not in url and "&q=" not in url


@settings(max_examples=100, deadline=None)
@given(st.floats(-180, 180), st.floats(-89, 89), st.text(min_size=1, max_size=30))
def test_every_link_decodes_to_the_converted_point(lon, lat, name):
    links = nav_links(lon, lat, name)
    gcj = convert(lon, lat, "wgs84", "gcj02")
    bd = convert(lon, lat, "wgs84", "bd09")
    amap = _pair(_query(links["amap"])["position"])
    baidu = _pair(_query(links["baidu"])["location"])
    tencent = _pair(_tencent_marker(links["tencent"])["coord"])
    assert abs(amap[0] - gcj[0]) <= 5e-7 and abs(amap[1] - gcj[1]) <= 5e-7
    assert abs(baidu[1] - bd[0]) <= 5e-7 and abs(baidu[0] - bd[1]) <= 5e-7
    assert abs(tencent[1] - gcj[0]) <= 5e-7 and abs(tencent[0] - gcj[1]) <= 5e-7
    assert unquote(urlsplit(links["amap"]).query).count("position=") == 1


@pytest.mark.parametrize(("raw", "expected"), [
    ("0851-8552 1234", "tel:085185521234"),
    ("+86 138-0013-8000", "tel:+8613800138000"),
    ("(010) 6512.3456", "tel:01065123456"),
    ("１２３５１", "tel:12351"),  # full-width digits (the national worker hotline)
    ("12333", "tel:12333"),
    ("110", "tel:110"),
])
def test_tel_link_cleans_numbers(raw, expected):
    assert tel_link(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "   ", "call us", "12", "0851-1234567转8001", "1+2", "++86123",
                                 "0851-1234567/13800138000", "1" * 16])
def test_tel_link_rejects_junk(raw):
    assert tel_link(raw) is None


@pytest.mark.parametrize("lon,lat,name,address", [
    (106.71, 26.58, "贵阳驿站", "南明区 1 号"), (121.26, 28.14, "玉环;窗口:1|2,3", None),
    (73.60, 39.30, "edge", ""), (2.35, 48.85, "Paris", "outside China"), (121.47, 31.23, "", None),
])
def test_nav_links_equal_the_single_provider_links(lon, lat, name, address):
    links = nav_links(lon, lat, name, address)
    shown = name or "驿站"
    assert links == {"amap": amap_url(lon, lat, shown), "baidu": baidu_url(lon, lat, shown, address),
                     "tencent": tencent_url(lon, lat, shown, address)}
