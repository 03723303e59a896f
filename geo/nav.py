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
_TENCENT_MARKS = {";": "；", ":": "：", "|": "｜", ",": "，"}  # structure Tencent's marker value: full-width twins
_TENCENT_RESERVED = str.maketrans(_TENCENT_MARKS)
_ANY_TENCENT_MARK = re.compile("[" + re.escape("".join(_TENCENT_MARKS)) + "]")
_PHONE_SEPARATORS = re.compile(r"[\s\-‐‑‒–—()（）.]")
_PHONE = re.compile(r"\+?\d{3,15}")
# The constant ends of nav_links' three links.
_AMAP_TAIL = f"&src={APP_NAME}&coordinate=gaode&callnative=1"
_BAIDU_TAIL = f"&output=html&coord_type=bd09ll&src={quote(BAIDU_SRC, safe='')}"
_TENCENT_TAIL = f"&referer={APP_NAME}"


# What urllib.parse.quote(s, safe="") leaves alone: ASCII letters, digits and "_.-~" (RFC 3986 unreserved).
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
_ANY_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]")
_ESCAPES_KEPT = 20_000  # characters whose escape is remembered (~100 bytes each; CJK in common use is ~7,000)


class _Escapes(dict):
    """Code point -> its text in a URL (itself, or the %XX of its UTF-8 bytes), learnt on first sight."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        escaped = char if char in _UNRESERVED else "%" + char.encode().hex("%").upper()
        if len(self) < _ESCAPES_KEPT:
            self[code] = escaped
        return escaped


_ESCAPES = _Escapes()


def quote_all(value: str) -> str:
    """Exactly `urllib.parse.quote(value, safe="")` (UTF-8, upper-case hex), several times faster.

    The standard function escapes the UTF-8 bytes one by one in Python. Here a text with nothing
    to keep (e.g. all Chinese) is escaped whole in C, and any other goes through `str.translate`
    with a table of per-character escapes. Lone surrogates raise UnicodeEncodeError, as there.
    """
    if _ANY_UNRESERVED.search(value) is None:
        return "%" + value.encode().hex("%").upper() if value else value
    return value.translate(_ESCAPES)


def _q(value: str, safe: str = "") -> str:
    return quote_all(value) if not safe else quote(value, safe=safe)


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

    Same links as `amap_url`, `baidu_url` and `tencent_url`; the GCJ-02 point, the formatted
    coordinates and the quoted texts are computed once for all three (this runs for every station
    of every answer).
    """
    return nav_from_parts(nav_parts(lon, lat, name, address))


_SEP = "\x00"  # never in a coordinate or a percent-encoded text


def nav_parts(lon: float, lat: float, name: str, address: str | None = None) -> str:
    """What the three links of a WGS-84 point and its texts need, packed in one ASCII string.

    The coordinates in GCJ-02 and BD-09 (formatted) and the percent-encoded texts: a store keeps
    this per station (a few hundred bytes) so that an answer only assembles the links
    (`nav_from_parts`); converting and encoding again for every station of every answer cost
    about a sixth of a nearest request. An empty Tencent text means "the same as the other".
    """
    name = name or "驿站"
    (glon, glat), (blon, blat) = wgs84_to_gcj02_and_bd09(lon, lat)
    qname = quote_all(name)
    # Tencent's texts: as quoted above unless they hold a mark to replace (a search is far cheaper than translate)
    qtitle = "" if _ANY_TENCENT_MARK.search(name) is None else quote_all(name.translate(_TENCENT_RESERVED))
    if address:
        qcontent = quote_all(address)
        qaddr = "" if _ANY_TENCENT_MARK.search(address) is None else quote_all(address.translate(_TENCENT_RESERVED))
    else:
        qcontent, qaddr = "", qtitle
    return _SEP.join((f"{glon:.6f}", f"{glat:.6f}", f"{blon:.6f}", f"{blat:.6f}", qname, qtitle, qcontent, qaddr))


def nav_from_parts(parts: str) -> dict[str, str]:
    """The {"amap", "baidu", "tencent"} links from `nav_parts`."""
    glon, glat, blon, blat, qname, qtitle, qcontent, qaddr = parts.split(_SEP)
    qtitle = qtitle or qname
    if not qcontent:  # no address: the name stands in for it
        qcontent, qaddr = qname, qaddr or qtitle
    else:
        qaddr = qaddr or qcontent
    return {
        "amap": f"https://uri.amap.com/marker?position={glon},{glat}&name={qname}{_AMAP_TAIL}",
        "baidu": f"https://api.map.baidu.com/marker?location={blat},{blon}&title={qname}&content={qcontent}{_BAIDU_TAIL}",
        "tencent": f"https://apis.map.qq.com/uri/v1/marker?marker=coord:{glat},{glon};title:{qtitle};addr:{qaddr}{_TENCENT_TAIL}",
    }


def tel_link(phone: str | None) -> str | None:
    """`tel:` URI for a phone number (spaces, dashes, brackets, dots dropped; leading + kept), None for junk."""
    if not phone or not isinstance(phone, str):
        return None
    compact = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", phone).strip())
    if not _PHONE.fullmatch(compact):
        return None
    return f"tel:{compact}"
