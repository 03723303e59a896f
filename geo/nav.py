"""Links that open a WGS-84 point in Chinese map apps (each in the CRS it needs) and `tel:` links.

Parameter names and coordinate order, from each provider's URI API documentation:
- Amap (高德) web URI `https://uri.amap.com/marker`: `position=lon,lat` (longitude FIRST),
  `coordinate=gaode` (GCJ-02), `name`, `src`, `callnative=1` (open the app when installed).
- Baidu (百度) URI `https://api.map.baidu.com/marker`: `location=lat,lng` (latitude FIRST), `title`,
  `content`, `output=html` (required on the web), `coord_type=bd09ll` (we send BD-09 converted here),
  `src` (required, "webapp.company.app").
- Tencent (腾讯) URI `https://apis.map.qq.com/uri/v1/marker`: `marker=coord:lat,lng;title:…;addr:…`
  (latitude FIRST, GCJ-02 = its default coord_type 2), `referer` (required: the caller's name).
Coordinates carry 6 decimals (~0.1 m; Baidu's URI API takes no more).
"""
from __future__ import annotations

import logging
import re
import unicodedata
from urllib.parse import quote

from geo.crs import wgs84_to_bd09, wgs84_to_gcj02, wgs84_to_gcj02_and_bd09

LOGGER = logging.getLogger(__name__)

APP_NAME = "yizhan"
BAIDU_SRC = "webapp.yizhan.stations"
_TENCENT_RESERVED = str.maketrans({";": "；", ":": "：", "|": "｜", ",": "，"})
_PHONE_SEPARATORS = re.compile(r"[\s\-‐‑‒–—()（）.]")
_PHONE = re.compile(r"\+?\d{3,15}")


def _q(value: str, safe: str = "") -> str:
    return quote(value, safe=safe)


def _deg(value: float) -> str:
    return f"{value:.6f}"


def amap_url(lon: float, lat: float, name: str) -> str:
    """Amap marker link for a WGS-84 (lon, lat) point, sent as GCJ-02 `position=lon,lat`."""
    glon, glat = wgs84_to_gcj02(lon, lat)
    return (f"https://uri.amap.com/marker?position={_deg(glon)},{_deg(glat)}&name={_q(name)}"
            f"&src={APP_NAME}&coordinate=gaode&callnative=1")


def baidu_url(lon: float, lat: float, name: str, address: str | None = None) -> str:
    """Baidu marker link for a WGS-84 (lon, lat) point, sent as BD-09 `location=lat,lng` with coord_type=bd09ll."""
    blon, blat = wgs84_to_bd09(lon, lat)
    return (f"https://api.map.baidu.com/marker?location={_deg(blat)},{_deg(blon)}&title={_q(name)}"
            f"&content={_q(address or name)}&output=html&coord_type=bd09ll&src={_q(BAIDU_SRC)}")


def tencent_url(lon: float, lat: float, name: str, address: str | None = None) -> str:
    """Tencent marker link for a WGS-84 (lon, lat) point, sent as GCJ-02 `coord:lat,lng`."""
    glon, glat = wgs84_to_gcj02(lon, lat)
    title = _q(name.translate(_TENCENT_RESERVED))  # ; : | , structure the marker value
    addr = _q((address or name).translate(_TENCENT_RESERVED))
    return (f"https://apis.map.qq.com/uri/v1/marker?marker=coord:{_deg(glat)},{_deg(glon)};title:{title};"
            f"addr:{addr}&referer={APP_NAME}")


def nav_links(lon: float, lat: float, name: str, address: str | None = None) -> dict[str, str]:
    """{"amap", "baidu", "tencent"} links for a WGS-84 (lon, lat) point, each converted to the CRS it needs.

    Same links as `amap_url`, `baidu_url` and `tencent_url`; the GCJ-02 point and the quoted
    texts are computed once for all three (this runs for every station of every answer).
    """
    name = name or "驿站"
    (glon, glat), (blon, blat) = wgs84_to_gcj02_and_bd09(lon, lat)
    qname = _q(name)
    qcontent = _q(address) if address else qname
    gpos = f"{_deg(glon)},{_deg(glat)}"
    return {
        "amap": f"https://uri.amap.com/marker?position={gpos}&name={qname}&src={APP_NAME}&coordinate=gaode&callnative=1",
        "baidu": (f"https://api.map.baidu.com/marker?location={_deg(blat)},{_deg(blon)}&title={qname}"
                  f"&content={qcontent}&output=html&coord_type=bd09ll&src={_q(BAIDU_SRC)}"),
        "tencent": (f"https://apis.map.qq.com/uri/v1/marker?marker=coord:{_deg(glat)},{_deg(glon)};"
                    f"title:{_q(name.translate(_TENCENT_RESERVED))};"
                    f"addr:{_q((address or name).translate(_TENCENT_RESERVED))}&referer={APP_NAME}"),
    }


def tel_link(phone: str | None) -> str | None:
    """`tel:` URI for a phone number (spaces, dashes, brackets, dots dropped; leading + kept), None for junk."""
    if not phone or not isinstance(phone, str):
        return None
    compact = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", phone).strip())
    if not _PHONE.fullmatch(compact):
        return None
    return f"tel:{compact}"
