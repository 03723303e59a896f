"""What a card says about how far to trust a station: an approximate position (placed from its
address at a town's or county's centre), hours kept as the source wrote them, and an entry no
editor has confirmed for more than STALE_AFTER_DAYS days."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from layers.ingest.place import AddressPlacer, Placed
from web import i18n

STALE_AFTER_DAYS = 180
# the dashed ring drawn round an approximate position: about how far the place may be from the point
APPROX_RADIUS_M = {"town": 3000.0, "county": 15000.0}


@lru_cache(maxsize=1)
def _placer() -> AddressPlacer:
    return AddressPlacer()


@lru_cache(maxsize=4096)
def _area_of(address: str) -> str | None:
    where = _placer().place(address)
    return where.place if isinstance(where, Placed) else None


def approx_text(props: Mapping[str, Any], lang: str) -> str:
    """'位置大致在沙南街道，到附近请打电话问' for a station placed at an area's centre, else ''."""
    precision = props.get("location_precision") or "exact"
    if precision == "exact":
        return ""
    area = _area_of(props["address"]) if props.get("address") else None
    return i18n.translate(lang, "card.approx", place=area or props.get("address") or "")


def stale_text(props: Mapping[str, Any], at: datetime | date, lang: str) -> str:
    """'信息可能过期（上次核实：2026-03-01）' when the last confirmation is older than 180 days, else ''."""
    checked = props.get("verified_at")
    if not checked:
        return ""
    try:
        day = date.fromisoformat(checked)
    except ValueError:
        return ""
    today = at.date() if isinstance(at, datetime) else at
    return i18n.translate(lang, "card.stale", date=checked) if (today - day).days > STALE_AFTER_DAYS else ""


def notes(props: Mapping[str, Any], at: datetime, lang: str) -> dict[str, Any]:
    """The card's trust notes: approx, approx_radius_m, hours_text, stale."""
    precision = props.get("location_precision") or "exact"
    return {"approx": approx_text(props, lang), "approx_radius_m": APPROX_RADIUS_M.get(precision, 0.0),
            "hours_text": props.get("hours_text") if not props.get("hours") else None,
            "stale": stale_text(props, at, lang)}
