"""The order of result cards: open now first, then honestly labelled others.

One ordering for `/near`, the home page's results and `/p/<slug>`: by state, then distance, then id.
States, in order: `open` (open now, no lock reports), `reported` (open, but several people found it
locked), `unknown` (no hours), `closed` (with when it opens), `temporarily_closed` (greyed, last);
`removed` stations are never shown.

The nearest open station may lie beyond the k nearest (at 01:00 most offices are shut): it is
looked for separately, per layer within that layer's cap (`cap_m`, layer data), and put first. When none is open within
the caps, the answer says so and names the nearest open one beyond them.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from layers.layerdefs import Layer
from layers.parks import LOCKED_WINDOW
from layers.present import station_answer
from layers.store import NearestQuery, StationStore

STATES = ("open", "reported", "unknown", "closed", "temporarily_closed")
_RANK = {state: i for i, state in enumerate(STATES)}
OPEN_FETCH = 6  # open candidates fetched per layer (some may be flagged)


@dataclass(frozen=True)
class Flag:
    """Lock reports on one station: how many people, the latest report (Asia/Shanghai)."""

    count: int
    last_at: datetime | None = None


def state_of(props: Mapping[str, Any], flags: Mapping[str, Flag] | set[str], station_id: str) -> str | None:
    """The card state of a station answer's properties; None for a removed station."""
    status = props.get("status")
    if status == "removed":
        return None
    if status == "temporarily_closed":
        return "temporarily_closed"
    if props.get("open_now") is True:
        return "reported" if station_id in flags else "open"
    if props.get("open_now") is None:
        return "unknown"
    return "closed"


def order(features: Iterable[dict], flags: Mapping[str, Flag] | set[str]) -> list[dict]:
    """Features (station answers with distance_m) sorted by state, distance, id; removed ones dropped."""
    keyed = []
    for feature in features:
        state = state_of(feature["properties"], flags, feature["id"])
        if state is not None:
            keyed.append(((_RANK[state], feature["properties"].get("distance_m") or 0.0, feature["id"]), feature))
    return [feature for _key, feature in sorted(keyed, key=lambda pair: pair[0])]


def cap_m(layer: Layer) -> float:
    """How far to look for an open station of `layer`, in metres: its `cap_m` (layer data, layers/defs/*.json;
    layers.layerdefs.DEFAULT_CAP_M when the file gives none)."""
    return float(layer.cap_m)


def nearest_open(store: StationStore, query: NearestQuery, flags: Mapping[str, Flag] | set[str],
                 capped: bool = True) -> dict | None:
    """The nearest station open at `query.at` and not flagged, over the query's layers (each within its
    cap when `capped`), as a station answer; None when there is none."""
    at = query.moment()
    best = None
    for lid in query.layers or tuple(store.layers):
        radius = cap_m(store.layers[lid]) if capped else None
        probe = replace(query, layers=(lid,), open_now=True, k=OPEN_FETCH, radius_m=radius)
        for hit in store.nearest(probe):
            if hit.station.id in flags:
                continue
            if best is None or (hit.distance_m, hit.station.id) < (best.distance_m, best.station.id):
                best = hit
            break
    return station_answer(best.station, at, best.distance_m, best.nav) if best else None


@dataclass(frozen=True)
class Answer:
    """Ordered features for a result list, and what to say when nothing near is open."""

    features: Sequence[dict]
    nothing_open: bool = False
    open_beyond: dict | None = None
    cap_m: float = 0.0
    flags: Mapping[str, Flag] = field(default_factory=dict)


def answer(store: StationStore, query: NearestQuery, flags: Mapping[str, Flag]) -> Answer:
    """The k nearest for `query` ordered by state, with the nearest open one put in when none of them is
    open within its layer's cap; when none is open within the caps, the nearest open one beyond them."""
    at = query.moment()
    features = [station_answer(h.station, at, h.distance_m, h.nav) for h in store.nearest(query)]
    if any(state_of(f["properties"], flags, f["id"]) == "open"
           and f["properties"]["distance_m"] <= cap_m(store.layers[f["properties"]["layer"]]) for f in features):
        return Answer(order(features, flags), flags=flags)
    found = nearest_open(store, query, flags)
    if found is not None:
        return Answer(order([found, *features], flags), flags=flags)
    beyond = nearest_open(store, query, flags, capped=False)
    widest = max(cap_m(store.layers[lid]) for lid in query.layers or tuple(store.layers))
    return Answer(order(features, flags), nothing_open=True, open_beyond=beyond, cap_m=widest, flags=flags)


def flag_details(parks: Any, now: datetime | None = None) -> dict[str, Flag]:
    """Flagged stations (the park store's decision) with how many people reported and when, latest."""
    if parks is None:
        return {}
    flagged = parks.flagged()
    if not flagged:
        return {}
    since = (now or datetime.now(UTC)) - LOCKED_WINDOW
    counts = parks.locked_counts(since)
    out = {}
    for sid in flagged:
        times = [r.created_at for r in parks.list_reports(status="open", station_id=sid, limit=50)
                 if getattr(r, "kind", "") == "locked" and getattr(r, "created_at", None)]
        out[sid] = Flag(counts.get(sid, 0), max(times) if times else None)
    return out
