"""A station as a query answer: the stored feature plus distance, open-now and navigation links."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from functools import lru_cache
from typing import Any

from geo.hours import parse_hours, rfc3339
from geo.nav import nav_links
from layers.model import _PROPERTY_ORDER, Station
from layers.store import is_open_at


def hours_summary(station: Station, at: datetime) -> dict[str, Any]:
    """open_now (true/false/null), today's spans as "HH:MM-HH:MM" and the next opening (ISO, Asia/Shanghai).

    Opening hours have minute resolution, so the answer for a moment equals the answer for its
    minute: it is cached per (hours, status, minute) — many stations share the same hours.
    """
    if at.second or at.microsecond:
        at = at.replace(second=0, microsecond=0)
    open_now, hours_today, next_open = _hours_summary(station.hours, station.status, at)
    return {"open_now": open_now, "hours_today": list(hours_today) if hours_today is not None else None,
            "next_open": next_open}


@lru_cache(maxsize=4096)
def _hours_summary(spec: str | None, status: str, at: datetime
                   ) -> tuple[bool | None, tuple[str, ...] | None, str | None]:
    """(open_now, today's spans or None, next opening or None) at the minute `at`; immutable, so cacheable."""
    probe = Station(id="x", lon=0.0, lat=0.0, name="x", layer="x", hours=spec, status=status)
    open_now = is_open_at(probe, at)
    if not spec:
        return open_now, None, None
    hours = parse_hours(spec)
    spans = [f"{a.strftime('%H:%M')}-{'24:00' if b == time(0) else b.strftime('%H:%M')}"
             for a, b in hours.spans_on(at.date())]
    next_open = None
    if open_now is False and status == "open":
        moment = hours.next_open(at)
        next_open = rfc3339(moment) if moment else None  # RFC 3339 needs the seconds
    return open_now, tuple(spans), next_open


def station_answer(station: Station, at: datetime, distance_m: float | None = None,
                   nav: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The contract's Feature for a query answer (WGS-84), with distance_m when given; `nav`, the
    station's links when the store had them ready (a Hit's), else they are made here.

    Equal to `station.to_feature(extra)` with extra = distance_m (when given), open_now,
    hours_today, next_open and nav, keys in that order. This runs for every station of every
    answer, so the properties are one dict display (built at its final size, no copies).
    """
    if at.second or at.microsecond:
        at = at.replace(second=0, microsecond=0)
    open_now, hours_today, next_open = _hours_summary(station.hours, station.status, at)
    services, origins, items = station.services, station.origins, station.items
    props = {
        "name": station.name, "layer": station.layer, "name_en": station.name_en, "address": station.address,
        "adcode": station.adcode, "phone": station.phone, "hours": station.hours,
        "services": list(services) if isinstance(services, tuple) else services,
        "access": station.access, "status": station.status,
        "origins": list(origins) if isinstance(origins, tuple) else origins,
        "items": list(items) if isinstance(items, tuple) else items,
        "operator": station.operator, "source": station.source, "verified_at": station.verified_at,
        "verified_by": station.verified_by, "location_precision": station.location_precision,
        "hours_text": station.hours_text,
        "distance_m": distance_m, "open_now": open_now,
        "hours_today": list(hours_today) if hours_today is not None else None, "next_open": next_open,
        "nav": dict(nav) if nav is not None else _nav(station.lon, station.lat, station.name, station.address).copy(),
    }
    if distance_m is None:
        del props["distance_m"]
    return station.feature_with(props)


# station_answer spells the properties out: it must name every one Station.properties() has, in its order.
_ANSWER_KEYS = ("name", "layer", "name_en", "address", "adcode", "phone", "hours", "services", "access", "status",
                "origins", "items", "operator", "source", "verified_at", "verified_by", "location_precision",
                "hours_text")
if _ANSWER_KEYS != _PROPERTY_ORDER:
    raise RuntimeError("layers.present.station_answer is out of step with the Station fields")


@lru_cache(maxsize=4096)  # ~1 kB an entry: a few MB per worker (65,536 entries grew a worker by 60 MB)
def _nav(lon: float, lat: float, name: str, address: str | None) -> dict[str, str]:
    """Navigation links depend on the station alone: computed once per station (callers get a copy)."""
    return nav_links(lon, lat, name, address)
