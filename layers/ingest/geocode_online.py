"""An optional online geocoder for import addresses: Amap's geocoding web service (restapi.amap.com
/v3/geocode/geo, a key from configuration). Off by default; when configured it refines the offline
placing (layers.ingest.place): an answer at door-number, point-of-interest or crossing level is
`exact`, at road, village or town level `town`, at county level `county`; coarser answers and every
failure fall back to the offline result. Answers are cached per address, and calls are spaced by
`min_interval_s` (Amap's free quota is a few calls per second). Amap answers in GCJ-02: converted
to WGS-84 before use.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import urllib.parse
import urllib.request
from collections import OrderedDict

from geo.crs import to_wgs84
from layers.ingest.place import Placed

LOGGER = logging.getLogger(__name__)
AMAP_URL = "https://restapi.amap.com/v3/geocode/geo"
# Amap's `level` of an answer -> our location_precision (coarser levels are not used)
LEVELS = {"门牌号": "exact", "兴趣点": "exact", "道路交叉路口": "exact", "单元号": "exact", "楼栋号": "exact",
          "道路": "town", "村庄": "town", "乡镇": "town", "开发区": "town", "热点商圈": "town", "区县": "county"}
CACHE_SIZE = 50_000
TIMEOUT_S = 5.0


class AmapGeocoder:
    """geocode(address) -> Placed or None (no usable answer); thread-safe, cached, rate-limited."""

    def __init__(self, key: str, url: str = AMAP_URL, min_interval_s: float = 0.34, timeout_s: float = TIMEOUT_S) -> None:
        self.key, self.url, self.min_interval_s, self.timeout_s = key, url, min_interval_s, timeout_s
        self._cache: OrderedDict[str, Placed | None] = OrderedDict()
        self._lock = threading.Lock()
        self._last = 0.0
        self.calls = 0

    def _wait_turn(self) -> None:
        with self._lock:
            delay = self._last + self.min_interval_s - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._last = time.monotonic()

    def _fetch(self, address: str) -> dict | None:
        query = urllib.parse.urlencode({"key": self.key, "address": address, "output": "JSON"})
        self._wait_turn()
        self.calls += 1
        try:
            with urllib.request.urlopen(f"{self.url}?{query}", timeout=self.timeout_s) as answer:
                return json.loads(answer.read().decode("utf-8"))
        except (OSError, ValueError) as exc:
            LOGGER.warning("online geocoder failed for one address: %s", type(exc).__name__)
            return None

    def geocode(self, address: str) -> Placed | None:
        """The best answer for `address` as a Placed (WGS-84), or None."""
        with self._lock:
            if address in self._cache:
                self._cache.move_to_end(address)
                return self._cache[address]
        placed = parse_answer(self._fetch(address))
        with self._lock:
            self._cache[address] = placed
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return placed


def parse_answer(doc: dict | None) -> Placed | None:
    """A Placed from an Amap geocode answer (status "1", geocodes[0].location "lon,lat" in GCJ-02)."""
    if not isinstance(doc, dict) or doc.get("status") != "1" or not doc.get("geocodes"):
        return None
    first = doc["geocodes"][0]
    precision = LEVELS.get(first.get("level") or "")
    try:
        lon, lat = (float(v) for v in str(first.get("location") or "").split(","))
    except ValueError:
        return None
    if precision is None:
        return None
    wlon, wlat = to_wgs84(lon, lat, "gcj02")
    adcode = str(first.get("adcode") or "")
    name = first.get("township") or first.get("district") or first.get("formatted_address") or ""
    name = name if isinstance(name, str) else ""  # Amap sends [] for a missing township
    return Placed(round(wlon, 6), round(wlat, 6), precision, adcode if len(adcode) == 6 else "", name)
