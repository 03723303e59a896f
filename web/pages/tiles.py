"""Tile providers and the coordinate system each one draws in.

Stations are stored in WGS-84. Amap's tiles are drawn in GCJ-02, so on Amap every point is
converted to GCJ-02 *for display only* (with `geo.crs`); Tianditu and OpenStreetMap draw in
WGS-84. `none` draws no tiles at all (tests, offline use). Config `TILES` (YIZHAN_TILES) picks
one; by default Amap, or Tianditu when a key (YIZHAN_TIANDITU_KEY) is set.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from geo.crs import convert_many


@dataclass(frozen=True)
class TileLayerSpec:
    """One tile URL template (Leaflet `{s}`, `{x}`, `{y}`, `{z}`) and its subdomains."""

    url: str
    subdomains: str = ""


@dataclass(frozen=True)
class TileProvider:
    """A tile source: its layers, the CRS its tiles are drawn in, and its attribution (zh, en)."""

    name: str
    crs: str
    layers: tuple[TileLayerSpec, ...]
    attribution: Mapping[str, str]
    max_zoom: int = 18

    def hosts(self) -> set[str]:
        """Every host name the tiles may be fetched from (subdomains expanded)."""
        out: set[str] = set()
        for layer in self.layers:
            for sub in layer.subdomains or [""]:
                host = urlsplit(layer.url.replace("{s}", sub)).hostname
                if host:
                    out.add(host)
        return out

    def to_display(self, lons: Sequence[float], lats: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """WGS-84 lon/lat arrays in the CRS the tiles are drawn in (display only, never stored)."""
        lons_a = np.asarray(lons, dtype=float)
        lats_a = np.asarray(lats, dtype=float)
        if self.crs == "wgs84" or lons_a.size == 0:
            return lons_a, lats_a
        out_lon, out_lat = convert_many(lons_a, lats_a, "wgs84", self.crs)
        return np.asarray(out_lon, dtype=float), np.asarray(out_lat, dtype=float)


_AMAP = TileProvider(
    name="amap", crs="gcj02",
    layers=(TileLayerSpec("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
                          "&x={x}&y={y}&z={z}", "1234"),),
    attribution={"zh": "地图 © 高德地图", "en": "Map © AutoNavi (Amap)"},
)
_OSM = TileProvider(
    name="osm", crs="wgs84",
    layers=(TileLayerSpec("https://tile.openstreetmap.org/{z}/{x}/{y}.png"),),
    attribution={"zh": "地图 © OpenStreetMap 贡献者", "en": "Map © OpenStreetMap contributors"},
    max_zoom=19,
)
_NONE = TileProvider(name="none", crs="wgs84", layers=(), attribution={"zh": "", "en": ""})
_TIANDITU_URL = ("https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                 "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                 "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}")
PROVIDER_NAMES = ("amap", "tianditu", "osm", "none")


def _tianditu(key: str) -> TileProvider:
    """Tianditu's vector base map with its Chinese annotation layer (WGS-84, Web Mercator tiling)."""
    layers = tuple(TileLayerSpec(_TIANDITU_URL.format(layer=name, key=key), "01234567") for name in ("vec", "cva"))
    return TileProvider(name="tianditu", crs="wgs84", layers=layers,
                        attribution={"zh": "地图 © 天地图", "en": "Map © Tianditu"})


def choose_provider(config: Mapping[str, Any]) -> TileProvider:
    """The provider named by config TILES; Amap by default, Tianditu when TIANDITU_KEY is set."""
    key = str(config.get("TIANDITU_KEY") or "").strip()
    name = str(config.get("TILES") or "").strip().lower() or ("tianditu" if key else "amap")
    if name not in PROVIDER_NAMES:
        raise ValueError(f"YIZHAN_TILES must be one of {', '.join(PROVIDER_NAMES)}, got {name!r}")
    if name == "tianditu":
        if not key:
            raise ValueError("YIZHAN_TILES=tianditu needs YIZHAN_TIANDITU_KEY")
        return _tianditu(key)
    return {"amap": _AMAP, "osm": _OSM, "none": _NONE}[name]
