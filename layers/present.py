"""A station as a query answer: the stored feature plus distance, open-now and navigation links."""
from __future__ import annotations

from datetime import datetime, time
from functools import lru_cache
from typing import Any

from geo.hours import parse_hours
from geo.nav import nav_links
from layers.model import Station
from layers.store import is_open_at


def hours_summary(station: Station, at: datetime) -> dict[str, Any]:
    """open_now (true/false/null), today's spans as "HH:MM-HH:MM" and the next opening (ISO, Asia/Shanghai).

    Opening hours have minute resolution, so the answer for a moment equals the answer for its
    minute: it is cached per (hours, status, minute) — many stations share the same hours.
    """
    if at.second or at.microsecond:
        at = at.replace(second=0, microsecond=0)
    summary = _hours_summary(station.hours, station.status, at)
    return {**summary, "hours_today": list(summary["hours_today"]) if summary["hours_today"] is not None else None}


@lru_cache(maxsize=4096)
def _hours_summary(spec: str | None, status: str, at: datetime) -> dict[str, Any]:
    probe = Station(id="x", lon=0.0, lat=0.0, name="x", layer="x", hours=spec, status=status)
    open_now = is_open_at(probe, at)
    if not spec:
        return {"open_now": open_now, "hours_today": None, "next_open": None}
    hours = parse_hours(spec)
    spans = [f"{a.strftime('%H:%M')}-{'24:00' if b == time(0) else b.strftime('%H:%M')}"
             for a, b in hours.spans_on(at.date())]
    next_open = None
    if open_now is False and status == "open":
        moment = hours.next_open(at)
        next_open = moment.isoformat(timespec="seconds") if moment else None  # RFC 3339 needs the seconds
    return {"open_now": open_now, "hours_today": tuple(spans), "next_open": next_open}


def station_answer(station: Station, at: datetime, distance_m: float | None = None) -> dict[str, Any]:
    """The contract's Feature for a query answer (WGS-84), with distance_m when given."""
    extra: dict[str, Any] = {}
    if distance_m is not None:
        extra["distance_m"] = distance_m
    extra.update(hours_summary(station, at))
    extra["nav"] = dict(_nav(station.lon, station.lat, station.name, station.address))
    return station.to_feature(extra)


@lru_cache(maxsize=4096)  # ~1 kB an entry: a few MB per worker (65,536 entries grew a worker by 60 MB)
def _nav(lon: float, lat: float, name: str, address: str | None) -> tuple[tuple[str, str], ...]:
    """Navigation links depend on the station alone: computed once per station (as an immutable tuple)."""
    return tuple(nav_links(lon, lat, name, address).items())
