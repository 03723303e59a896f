"""A station as a query answer: the stored feature plus distance, open-now and navigation links."""
from __future__ import annotations

from datetime import datetime, time
from typing import Any

from geo.hours import parse_hours
from geo.nav import nav_links
from layers.model import Station
from layers.store import is_open_at


def hours_summary(station: Station, at: datetime) -> dict[str, Any]:
    """open_now (true/false/null), today's spans as "HH:MM-HH:MM" and the next opening (ISO, Asia/Shanghai)."""
    open_now = is_open_at(station, at)
    if not station.hours:
        return {"open_now": open_now, "hours_today": None, "next_open": None}
    hours = parse_hours(station.hours)
    spans = [f"{a.strftime('%H:%M')}-{'24:00' if b == time(0) else b.strftime('%H:%M')}"
             for a, b in hours.spans_on(at.date())]
    next_open = None
    if open_now is False and station.status == "open":
        moment = hours.next_open(at)
        next_open = moment.isoformat(timespec="minutes") if moment else None
    return {"open_now": open_now, "hours_today": spans, "next_open": next_open}


def station_answer(station: Station, at: datetime, distance_m: float | None = None) -> dict[str, Any]:
    """The contract's Feature for a query answer (WGS-84), with distance_m when given."""
    extra: dict[str, Any] = {}
    if distance_m is not None:
        extra["distance_m"] = distance_m
    extra.update(hours_summary(station, at))
    extra["nav"] = nav_links(station.lon, station.lat, station.name, station.address)
    return station.to_feature(extra)
