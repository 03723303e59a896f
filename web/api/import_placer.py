"""The address placer of one import: offline, plus Amap's geocoder when YIZHAN_GEOCODER=amap and
YIZHAN_AMAP_KEY are set (one cached, rate-limited geocoder per app; a fresh placer per import)."""
from __future__ import annotations

from flask import Flask

from layers.errors import YizhanError
from layers.ingest.geocode_online import AMAP_URL, AmapGeocoder
from layers.ingest.place import AddressPlacer


class GeocoderMisconfigured(YizhanError):
    status = 503
    code = "geocoder_misconfigured"


def import_placer(app: Flask) -> AddressPlacer | None:
    """A placer with the online geocoder when one is configured, else None (offline, the default)."""
    kind = (app.config.get("GEOCODER") or "").strip().lower()
    if not kind or kind == "none":
        return None
    if kind != "amap" or not app.config.get("AMAP_KEY"):
        raise GeocoderMisconfigured("YIZHAN_GEOCODER must be 'amap' (with YIZHAN_AMAP_KEY) or unset")
    geocoder = app.extensions.get("yizhan.geocoder")
    if geocoder is None:
        geocoder = app.extensions["yizhan.geocoder"] = AmapGeocoder(
            app.config["AMAP_KEY"], url=app.config.get("AMAP_GEOCODE_URL") or AMAP_URL)
    return AddressPlacer(online=geocoder.geocode)
