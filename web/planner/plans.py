"""The planner's requests and answers, shared by its JSON API, the /planner page and the `flask plan` CLI.

The blueprint `bp` is here too: the API (`web.planner.api`) and the page (`web.planner.page`) both put
their routes on it, and app.py imports both; neither imports the other.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from flask import Blueprint, Response, current_app, jsonify, request

from geo.plan.coverage import Coverage, assess_coverage
from geo.plan.grid import GRID_KINDS, GridTooLarge, grid_candidates
from geo.plan.sites import MAX_P, METHODS, OBJECTIVES, SitePlan, choose_sites
from layers.errors import InvalidQuery
from layers.ingest import demand as demand_io
from layers.ingest.demand import MAX_CANDIDATES, PointSet, TooLarge
from layers.model import Station
from layers.plan_stations import stations_near_demand
from layers.store import StationStore
from web import params

LOGGER = logging.getLogger(__name__)


bp = Blueprint("planner", __name__)


DEFAULT_LAYER = "rest_station"


MAX_RADIUS_M = 100_000.0


MAX_TIME_LIMIT_S = 60.0


DEFAULT_TIME_LIMIT_S = 10.0


COMMON = ("demand", "crs", "radius_m", "layer", "service", "open_at")


SITES_ONLY = ("p", "objective", "candidates", "method", "time_limit_s", "gap")


def store() -> StationStore:
    """The configured store."""
    return current_app.extensions["yizhan.store"]


# ---- parsing a JSON body ------------------------------------------------------------------------
def _number(body: Mapping[str, Any], name: str, low: float, high: float, default: float | None) -> float | None:
    raw = body.get(name)
    if raw is None or raw == "":
        return default
    try:  # text (a form field, "５００"): ASCII or full-width digits, as every numeric parameter
        value = math.nan if isinstance(raw, bool) else params.to_float(raw) if isinstance(raw, str) else float(raw)
    except (TypeError, ValueError, OverflowError):
        raise InvalidQuery(f"{name} must be a number", name) from None
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidQuery(f"{name} must be between {low:g} and {high:g}", name)
    return value


def _words(body: Mapping[str, Any], name: str, allowed: set[str]) -> tuple[str, ...]:
    raw = body.get(name) or []
    words = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise InvalidQuery(f"{name} must be a list of words", name)
    out = tuple(dict.fromkeys(w.strip() for w in words if w.strip()))
    for word in out:
        if word not in allowed:
            raise InvalidQuery(f"unknown {name} {word[:40]!r}", name)
    return out


def _moment(body: Mapping[str, Any], name: str = "open_at") -> datetime | None:
    raw = body.get(name)
    if raw in (None, ""):
        return None
    if not isinstance(raw, str):
        raise InvalidQuery(f"{name} must be an ISO 8601 time like 2026-11-28T20:30", name)
    return params.parse_moment(raw, name)


def _choice(value: str, name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidQuery(f"{name} must be one of {', '.join(allowed)}", name)
    return value


def parse_crs(body: Mapping[str, Any]) -> str:
    """The `crs` of a request: wgs84 (default), gcj02 or bd09."""
    return _choice(str(body.get("crs") or "wgs84").strip().lower(), "crs", ("wgs84", "gcj02", "bd09"))


def _json_body(allowed: tuple[str, ...]) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidQuery("the body must be a JSON object", "body")
    for name in body:
        if name not in allowed:
            raise InvalidQuery(f"unknown parameter {name[:40]!r}; allowed: {', '.join(sorted(allowed))}", name)
    return body


@dataclass(frozen=True)
class Setting:
    """What both planner questions share: the demand, the radius and which stations count."""

    demand: PointSet
    crs: str
    radius_m: float
    layers: tuple[str, ...]
    services: tuple[str, ...]
    open_at: datetime | None


def parse_setting(body: Mapping[str, Any], demand: PointSet | None = None) -> Setting:
    """The common parameters of a planner request (demand parsed here unless given)."""
    crs = parse_crs(body)
    layers = _words(body, "layer", set(store().layers)) or (DEFAULT_LAYER,)
    services = _words(body, "service", {w for lid in layers for w in store().layers[lid].services})
    default_radius = max(store().layers[lid].coverage_radius_m for lid in layers)
    radius_m = _number(body, "radius_m", 1.0, MAX_RADIUS_M, default_radius)
    if demand is None:
        if body.get("demand") is None:
            raise InvalidQuery("demand is required: a FeatureCollection of Points or \"parks\"", "demand")
        demand = demand_io.from_request_value(body["demand"], crs, "demand")
    return Setting(demand, crs, float(radius_m), layers, services, _moment(body))


def existing_stations(setting: Setting) -> list[Station]:
    """Serving stations near the demand, from the store's index (`layers.plan_stations`): never all of them."""
    d = setting.demand
    return stations_near_demand(store(), d.lon, d.lat, setting.radius_m, setting.layers, setting.services,
                                setting.open_at)


def _coords(stations: list[Station]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([s.lon for s in stations], dtype=float), np.array([s.lat for s in stations], dtype=float)


def _finite(value: float | None, digits: int = 3) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), digits)


# ---- coverage -----------------------------------------------------------------------------------
def coverage_result(setting: Setting) -> dict[str, Any]:
    """The coverage answer as a GeoJSON FeatureCollection of the demand points with a summary."""
    stations = existing_stations(setting)
    lon, lat = _coords(stations)
    d = setting.demand
    cov = assess_coverage(d.lon, d.lat, d.weight, lon, lat, setting.radius_m)
    return {"type": "FeatureCollection", "features": _demand_features(d, cov, stations),
            "summary": _coverage_summary(setting, cov, len(stations))}


def _demand_features(d: PointSet, cov: Coverage, stations: list[Station]) -> list[dict[str, Any]]:
    features = []
    for k in range(len(d)):
        j = int(cov.nearest_index[k])
        nearest = None if j < 0 else {"id": stations[j].id, "name": stations[j].name, "layer": stations[j].layer}
        features.append({"type": "Feature", "id": d.ids[k],
                         "geometry": {"type": "Point", "coordinates": [float(d.lon[k]), float(d.lat[k])]},
                         "properties": {"name": d.names[k], "weight": float(d.weight[k]),
                                        "covered": bool(cov.covered[k]), "distance_m": _finite(cov.nearest_m[k]),
                                        "nearest": nearest}})
    return features


def _coverage_summary(setting: Setting, cov: Coverage, n_stations: int) -> dict[str, Any]:
    uncovered = ~cov.covered
    return {
        "radius_m": setting.radius_m, "layers": list(setting.layers), "services": list(setting.services),
        "open_at": setting.open_at.isoformat(timespec="minutes") if setting.open_at else None,
        "stations_considered": n_stations, "demand_points": len(setting.demand),
        "total_weight": cov.total_weight, "covered_weight": cov.covered_weight,
        "covered_share": _finite(cov.covered_share, 6), "uncovered_points": int(uncovered.sum()),
        "uncovered_weight": float(setting.demand.weight[uncovered].sum()),
        "uncovered_ids": [setting.demand.ids[k] for k in np.flatnonzero(uncovered)],
        "histogram": [{"lower_m": b.lower_m, "upper_m": _finite(b.upper_m), "weight": b.weight, "count": b.count}
                      for b in cov.bins],
        "percentiles_m": {f"p{p}": _finite(v) for p, v in cov.percentiles_m.items()},
    }


# ---- sites --------------------------------------------------------------------------------------
def candidates_from(body: Mapping[str, Any], setting: Setting) -> PointSet:
    """Candidates: a FeatureCollection, "demand" (the demand points) or a grid {grid, spacing_m}."""
    raw = body.get("candidates") or {"grid": "hex"}
    if raw == "demand":
        if len(setting.demand) > MAX_CANDIDATES:
            raise TooLarge(f"candidates: the demand has {len(setting.demand)} points; at most {MAX_CANDIDATES} "
                           "candidates are accepted", "candidates")
        return setting.demand
    if isinstance(raw, dict) and raw.get("type") == "FeatureCollection":
        return demand_io.from_geojson(raw, setting.crs, "candidates", MAX_CANDIDATES, weighted=False)
    if not isinstance(raw, dict) or set(raw) - {"grid", "spacing_m"} or raw.get("grid", "hex") not in GRID_KINDS:
        raise InvalidQuery('candidates must be a FeatureCollection, "demand", or {"grid": "hex"|"square", '
                           '"spacing_m": metres}', "candidates")
    spacing = _number(raw, "spacing_m", 10.0, 50_000.0, setting.radius_m / 2)
    try:
        lon, lat = grid_candidates(setting.demand.lon, setting.demand.lat, spacing, raw.get("grid", "hex"),
                                   max(setting.radius_m, spacing), MAX_CANDIDATES)
    except GridTooLarge as exc:
        raise TooLarge(f"candidates: {exc}; choose a larger spacing_m", "candidates.spacing_m") from None
    ids = tuple(f"g{k + 1}" for k in range(lon.size))
    return PointSet(ids, (None,) * lon.size, lon, lat, np.ones(lon.size))


def sites_result(body: Mapping[str, Any], setting: Setting, progress: Callable[[str], None] | None = None,
                 given: PointSet | None = None, started: float | None = None) -> dict[str, Any]:
    """The suggested sites (rank order) with the plan's summary; the time limit counts from `started`."""
    objective = _choice(str(body.get("objective") or "coverage"), "objective", tuple(OBJECTIVES))
    method = _choice(str(body.get("method") or "auto"), "method", tuple(METHODS))
    cands = given if given is not None else candidates_from(body, setting)
    p = _number(body, "p", 1, MAX_P, 10)
    if p != int(p) or p > len(cands):
        raise InvalidQuery(f"p must be a whole number from 1 to {min(MAX_P, len(cands))} (the candidates)", "p")
    limit = _number(body, "time_limit_s", 0.5, MAX_TIME_LIMIT_S, DEFAULT_TIME_LIMIT_S)
    gap = _number(body, "gap", 0.0, 0.5, 1e-3)
    lon, lat = _coords(existing_stations(setting))
    d = setting.demand
    if not (d.weight > 0).any():
        raise InvalidQuery("demand: no point has a weight above 0", "demand")
    plan = choose_sites(d.lon, d.lat, d.weight, lon, lat, cands.lon, cands.lat, int(p), objective,
                        setting.radius_m, method, limit, gap, progress, started)
    return {"type": "FeatureCollection", "features": _site_features(plan, cands, d.weight.sum()),
            "summary": _plan_summary(plan, setting, len(cands), lon.size, limit)}


def _site_features(plan: SitePlan, cands: PointSet, total_weight: float) -> list[dict[str, Any]]:
    out = []
    for pick in plan.picks:
        k = pick.candidate
        out.append({"type": "Feature", "id": f"site-{pick.rank}",
                    "geometry": {"type": "Point", "coordinates": [float(cands.lon[k]), float(cands.lat[k])]},
                    "properties": {"rank": pick.rank, "candidate_id": cands.ids[k], "name": cands.names[k],
                                   "gain": _finite(pick.gain, 6),
                                   "gain_unit": "weight" if plan.objective == "coverage" else "weight_m",
                                   "covered_weight_after": pick.covered_weight_after,
                                   "covered_share_after": _finite(pick.covered_weight_after / total_weight, 6)
                                   if total_weight > 0 else None,
                                   "weighted_distance_m_after": _finite(pick.weighted_distance_after)}})
    return out


def _situation(s: Any) -> dict[str, Any]:
    return {"covered_weight": s.covered_weight, "covered_share": _finite(s.covered_share, 6),
            "weighted_distance_m": _finite(s.weighted_distance), "mean_distance_m": _finite(s.mean_distance_m)}


def _plan_summary(plan: SitePlan, setting: Setting, n_candidates: int, n_existing: int, limit_s: float) -> dict:
    return {
        "objective": plan.objective, "p": plan.p, "radius_m": plan.radius_m, "layers": list(setting.layers),
        "value": _finite(plan.value, 6), "bound": _finite(plan.bound, 6), "gap": plan.gap,
        "proven_optimal": plan.proven_optimal, "method": plan.method, "solver_status": plan.status,
        "value_meaning": ("demand weight newly within radius_m (maximised)" if plan.objective == "coverage"
                          else "sum of weight x geodesic metres to the nearest station (minimised)"),
        "candidates": n_candidates, "existing_stations": n_existing, "demand_points": len(setting.demand),
        "before": _situation(plan.before), "after": _situation(plan.after), "seconds": round(plan.seconds, 3),
        "time_limit_s": limit_s, "time_limited": plan.time_limited, "solver_time_s": _finite(plan.solver_time_s)}


# ---- output -------------------------------------------------------------------------------------
def to_csv(collection: Mapping[str, Any]) -> str:
    """One row per feature: id, lon, lat and the flat properties (nested ones as JSON)."""
    features = collection["features"]
    keys: list[str] = []
    for f in features:
        keys += [k for k in f["properties"] if k not in keys]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "lon", "lat", *keys])
    for f in features:
        lon, lat = f["geometry"]["coordinates"]
        cells = [f["properties"].get(k) for k in keys]
        writer.writerow([f["id"], f"{lon:.7f}", f"{lat:.7f}",
                         *[json.dumps(c, ensure_ascii=False) if isinstance(c, (dict, list)) else ("" if c is None else c)
                           for c in cells]])
    return out.getvalue()


def _answer(collection: dict[str, Any], name: str) -> Response:
    fmt = request.args.get("format", "geojson")
    if fmt == "csv":
        return Response(to_csv(collection), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if fmt not in ("geojson", "json"):
        raise InvalidQuery("format must be geojson or csv", "format")
    response = jsonify(collection)
    response.mimetype = "application/geo+json"
    return response
