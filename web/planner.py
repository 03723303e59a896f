"""The planner (issue #8): coverage of demand by stations and suggested new sites.

`POST /api/v1/plan/coverage`, `POST /api/v1/plan/sites` (JSON in, GeoJSON out, `?format=csv` for a
file), the `/planner` page and the `flask plan …` commands. Thin: parse, call `geo.coverage` /
`geo.sites`, render. Existing stations are the store's stations of the chosen layers whose status is
`open` (and, with `open_at`, whose hours say open then; unknown hours do not count).
"""
from __future__ import annotations

import base64
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

from geo.coverage import Coverage, assess_coverage
from geo.hours import SHANGHAI
from geo.plan_grid import GRID_KINDS, GridTooLarge, grid_candidates
from geo.sites import MAX_P, METHODS, OBJECTIVES, SitePlan, choose_sites
from layers import demand as demand_io
from layers.demand import MAX_CANDIDATES, PointSet, TooLarge
from layers.errors import InvalidQuery
from layers.model import Station
from layers.store import NearestQuery, StationStore, attribute_match, is_open_at

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
    try:
        value = float(raw) if not isinstance(raw, bool) else math.nan
    except (TypeError, ValueError):
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
    try:
        value = datetime.fromisoformat(str(raw))
    except ValueError:
        raise InvalidQuery(f"{name} must be an ISO 8601 time like 2026-11-28T20:30", name) from None
    return value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value.astimezone(SHANGHAI)


def _crs(body: Mapping[str, Any]) -> str:
    value = str(body.get("crs") or "wgs84").strip().lower()
    if value not in ("wgs84", "gcj02", "bd09"):
        raise InvalidQuery("crs must be one of wgs84, gcj02, bd09", "crs")
    return value


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
    crs = _crs(body)
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
    """Stations that count as serving: chosen layers and services, status open, open at `open_at` if given."""
    query = NearestQuery(lon=0.0, lat=0.0, layers=setting.layers, services=setting.services)
    out = []
    for station in store().iter_all():
        if station.status != "open" or not attribute_match(station, query):
            continue
        if setting.open_at is not None and is_open_at(station, setting.open_at) is not True:
            continue
        out.append(station)
    return out


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
                 given: PointSet | None = None) -> dict[str, Any]:
    """The suggested sites as a FeatureCollection (rank order) with the plan's summary."""
    objective = str(body.get("objective") or "coverage")
    if objective not in OBJECTIVES:
        raise InvalidQuery(f"objective must be one of {', '.join(OBJECTIVES)}", "objective")
    method = str(body.get("method") or "auto")
    if method not in METHODS:
        raise InvalidQuery(f"method must be one of {', '.join(METHODS)}", "method")
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
                        setting.radius_m, method, limit, gap, progress)
    return {"type": "FeatureCollection", "features": _site_features(plan, cands, d.weight.sum()),
            "summary": _plan_summary(plan, setting, len(cands), lon.size)}


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


def _plan_summary(plan: SitePlan, setting: Setting, n_candidates: int, n_existing: int) -> dict[str, Any]:
    return {
        "objective": plan.objective, "p": plan.p, "radius_m": plan.radius_m, "layers": list(setting.layers),
        "value": _finite(plan.value, 6), "bound": _finite(plan.bound, 6), "gap": plan.gap,
        "proven_optimal": plan.proven_optimal, "method": plan.method, "solver_status": plan.status,
        "value_meaning": ("demand weight newly within radius_m (maximised)" if plan.objective == "coverage"
                          else "sum of weight x geodesic metres to the nearest station (minimised)"),
        "candidates": n_candidates, "existing_stations": n_existing, "demand_points": len(setting.demand),
        "before": _situation(plan.before), "after": _situation(plan.after), "seconds": round(plan.seconds, 3),
    }


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
        response = Response(to_csv(collection), mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    if fmt not in ("geojson", "json"):
        raise InvalidQuery("format must be geojson or csv", "format")
    response = jsonify(collection)
    response.mimetype = "application/geo+json"
    return response


@bp.post("/api/v1/plan/coverage")
def plan_coverage():
    body = _json_body(COMMON)
    return _answer(coverage_result(parse_setting(body)), "coverage")


@bp.post("/api/v1/plan/sites")
def plan_sites():
    body = _json_body(COMMON + SITES_ONLY)
    return _answer(sites_result(body, parse_setting(body)), "sites")


# ---- the /planner page --------------------------------------------------------------------------
SITE_COLOUR = "#7048e8"
UNCOVERED_COLOUR = "#e03131"
COVERED_COLOUR = "#2f9e44"
MAP_STATIONS = 300  # nearest stations drawn (with their coverage circles) at most
MAP_DEMAND = 3000  # demand dots drawn at most (the heaviest first)


def _data_uri(text: str, mime: str) -> str:
    return f"data:{mime};charset=utf-8;base64," + base64.b64encode(text.encode("utf-8")).decode("ascii")


def _downloads(coverage: dict[str, Any], sites: dict[str, Any] | None) -> list[dict[str, str]]:
    out = [{"label": "覆盖结果 Coverage · GeoJSON", "file": "coverage.geojson",
            "href": _data_uri(json.dumps(coverage, ensure_ascii=False), "application/geo+json")},
           {"label": "覆盖结果 Coverage · CSV", "file": "coverage.csv", "href": _data_uri(to_csv(coverage), "text/csv")}]
    if sites:
        out += [{"label": "建议选址 Suggested sites · GeoJSON", "file": "sites.geojson",
                 "href": _data_uri(json.dumps(sites, ensure_ascii=False), "application/geo+json")},
                {"label": "建议选址 Suggested sites · CSV", "file": "sites.csv", "href": _data_uri(to_csv(sites), "text/csv")}]
    return out


def planner_map(coverage: dict[str, Any], sites: dict[str, Any] | None, radius_m: float) -> Any:
    """Stations nearest the demand with coverage circles, demand dots (uncovered in red, sized by
    weight), suggested sites numbered by rank; positions shown in the tile provider's CRS."""
    import folium

    from web import maps, pages

    provider = pages.tiles()
    features = coverage["features"]
    nearest = {f["properties"]["nearest"]["id"] for f in features if f["properties"]["nearest"]}
    stations = [store().get(sid) for sid in sorted(nearest)[:MAP_STATIONS]]
    heavy = sorted(features, key=lambda f: (f["properties"]["covered"], -f["properties"]["weight"]))[:MAP_DEMAND]
    picks = sites["features"] if sites else []
    points = ([(s.lon, s.lat) for s in stations] + [tuple(f["geometry"]["coordinates"]) for f in heavy]
              + [tuple(f["geometry"]["coordinates"]) for f in picks])
    lons, lats = provider.to_display([p[0] for p in points], [p[1] for p in points])
    fmap = maps.new_map(provider, "zh", (float(lons.mean()), float(lats.mean())), 11)
    groups = {name: folium.FeatureGroup(name=name).add_to(fmap)
              for name in ("现有站点 Stations", "需求点 Demand", "建议选址 Suggested sites")}
    layer_groups = list(groups.values())
    for k, station in enumerate(stations):
        folium.Circle([float(lats[k]), float(lons[k])], radius=radius_m, color=maps.safe_colour("#d9480f"),
                      weight=1, fill=True, fill_opacity=0.08).add_to(layer_groups[0])
        maps.StationMarker(float(lats[k]), float(lons[k]), station.id, station.name,
                           maps.pin_icon("#d9480f", "", 18), tooltip=station.name).add_to(layer_groups[0])
    top = max([f["properties"]["weight"] for f in heavy] + [1e-9])
    for k, f in enumerate(heavy, start=len(stations)):
        covered = f["properties"]["covered"]
        size = 3 + 9 * math.sqrt(max(f["properties"]["weight"], 0.0) / top)
        folium.CircleMarker([float(lats[k]), float(lons[k])], radius=size, stroke=False, fill=True,
                            fill_color=COVERED_COLOUR if covered else UNCOVERED_COLOUR,
                            fill_opacity=0.35 if covered else 0.6).add_to(layer_groups[1])
    for k, f in enumerate(picks, start=len(stations) + len(heavy)):
        rank = f["properties"]["rank"]
        folium.Circle([float(lats[k]), float(lons[k])], radius=radius_m, color=SITE_COLOUR, weight=2,
                      dash_array="6 4", fill=False).add_to(layer_groups[2])
        maps.StationMarker(float(lats[k]), float(lons[k]), f["id"], f"#{rank}", maps.pin_icon(SITE_COLOUR, rank),
                           tooltip=f"#{rank}", z_index=1000 - rank).add_to(layer_groups[2])
    if len(points) > 1:
        folium.FitBounds([[float(lats.min()), float(lons.min())], [float(lats.max()), float(lons.max())]],
                         padding=(24, 24), max_zoom=15).add_to(fmap)
    return maps.finish(fmap, groups, {"crs": provider.crs})


def _page_setting(form: Mapping[str, str]) -> tuple[Setting, dict[str, Any]]:
    """The form's choices (text fields) and the uploaded file, as a Setting and the body of a sites request."""
    body: dict[str, Any] = {k: v for k, v in form.items() if k in ("crs", "radius_m", "layer", "open_at") and v}
    upload = request.files.get("demand_file")
    demand = None
    if upload is not None and upload.filename:
        data = upload.read(8_000_001)
        if len(data) > 8_000_000:
            raise TooLarge("the file is larger than 8 MB", "demand_file")
        demand = demand_io.from_bytes(data, upload.filename, _crs(body), "demand_file")
    else:
        body["demand"] = "parks"
    setting = parse_setting(body, demand)
    sites_body = {"p": form.get("p") or 10, "objective": form.get("objective") or "coverage",
                  "candidates": ({"grid": form.get("grid") or "hex", "spacing_m": form.get("spacing_m")}
                                 if form.get("candidates", "grid") == "grid" else "demand")}
    if not form.get("spacing_m"):
        sites_body["candidates"] = {"grid": form.get("grid") or "hex"} if isinstance(sites_body["candidates"], dict) \
            else "demand"
    return setting, sites_body


@bp.route("/planner", methods=["GET", "POST"])
def planner_page():
    from web import pages

    form = request.form if request.method == "POST" else request.args
    chosen = {k: form.get(k, "") for k in ("radius_m", "p", "objective", "grid", "spacing_m", "layer", "candidates")}
    try:
        setting, sites_body = _page_setting(form)
        coverage = coverage_result(setting)
        sites = sites_result(sites_body, setting) if form.get("p") or request.method == "GET" else None
        parts = planner_map(coverage, sites, setting.radius_m)
    except (InvalidQuery, TooLarge) as exc:
        return pages.render("planner.html", exc.status, error=exc.message, chosen=chosen, parts=None,
                            coverage=None, sites=None, downloads=[])
    return pages.render("planner.html", coverage=coverage, sites=sites, parts=parts, chosen=chosen,
                        downloads=_downloads(coverage, sites), error=None, radius_m=setting.radius_m)


# ---- flask plan … -------------------------------------------------------------------------------
def _read_points(path: str, crs: str, param: str, limit: int, weighted: bool) -> PointSet:
    with open(path, "rb") as handle:
        return demand_io.from_bytes(handle.read(), path, crs, param, limit, weighted)


def _write(collection: dict[str, Any], out: str | None) -> None:
    if not out:
        return
    text = to_csv(collection) if out.lower().endswith(".csv") else json.dumps(collection, ensure_ascii=False, indent=1)
    with open(out, "w", encoding="utf-8") as handle:
        handle.write(text)


def _fmt_share(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def register_plan_cli(app: Any) -> None:
    """`flask plan coverage FILE …` and `flask plan sites FILE …` (CSV or GeoJSON demand files)."""
    import click

    common = [
        click.argument("demand_file", type=click.Path(exists=True, dir_okay=False)),
        click.option("--crs", type=click.Choice(["wgs84", "gcj02", "bd09"]), default="wgs84", show_default=True),
        click.option("--radius-m", type=float, default=None, help="default: the layer's coverage radius"),
        click.option("--layer", default=DEFAULT_LAYER, show_default=True, help="comma-separated layer ids"),
        click.option("--open-at", default=None, help="ISO time (Asia/Shanghai), e.g. 2026-11-28T20:30"),
        click.option("--out", default=None, help="write the result to this .geojson or .csv file"),
    ]

    def with_common(func: Callable) -> Callable:
        for decorator in reversed(common):
            func = decorator(func)
        return func

    def setting_of(demand_file: str, crs: str, radius_m: float | None, layer: str, open_at: str | None) -> Setting:
        demand = _read_points(demand_file, crs, "demand", demand_io.MAX_DEMAND, True)
        return parse_setting({"crs": crs, "radius_m": radius_m, "layer": layer, "open_at": open_at}, demand)

    @app.cli.group("plan")
    def plan_group() -> None:
        """Planner: coverage of demand by stations, and suggested new sites."""

    @plan_group.command("coverage")
    @with_common
    def plan_coverage_cmd(demand_file, crs, radius_m, layer, open_at, out) -> None:
        """What share of the demand has a station within the radius."""
        try:
            result = coverage_result(setting_of(demand_file, crs, radius_m, layer, open_at))
        except (InvalidQuery, TooLarge) as exc:
            raise click.ClickException(exc.message) from None
        s = result["summary"]
        click.echo(f"demand points: {s['demand_points']}, stations considered: {s['stations_considered']}")
        click.echo(f"covered within {s['radius_m']:g} m: {_fmt_share(s['covered_share'])} of the weight "
                   f"({s['covered_weight']:g} of {s['total_weight']:g}); uncovered points: {s['uncovered_points']}")
        click.echo("weighted percentiles (m): " + ", ".join(f"{k}={v}" for k, v in s["percentiles_m"].items()))
        _write(result, out)

    @plan_group.command("sites")
    @with_common
    @click.option("--p", "p", type=int, default=10, show_default=True, help="how many new sites")
    @click.option("--objective", type=click.Choice(OBJECTIVES), default="coverage", show_default=True)
    @click.option("--method", type=click.Choice(METHODS), default="auto", show_default=True)
    @click.option("--candidates", "cand_file", type=click.Path(exists=True, dir_okay=False), default=None,
                  help="candidate sites file (CSV/GeoJSON); default: a grid")
    @click.option("--grid", type=click.Choice(GRID_KINDS), default="hex", show_default=True)
    @click.option("--spacing-m", type=float, default=None, help="grid spacing; default: half the radius")
    @click.option("--time-limit-s", type=float, default=30.0, show_default=True)
    def plan_sites_cmd(demand_file, crs, radius_m, layer, open_at, out, p, objective, method, cand_file, grid,
                       spacing_m, time_limit_s) -> None:
        """Choose p new sites (maximal covering or least weighted distance)."""
        stages = ["existing", "pairs", "greedy", "swap", "mip", "bound", "report"]
        try:
            setting = setting_of(demand_file, crs, radius_m, layer, open_at)
            body: dict[str, Any] = {"p": p, "objective": objective, "method": method,
                                    "time_limit_s": min(time_limit_s, MAX_TIME_LIMIT_S)}
            given = _read_points(cand_file, crs, "candidates", MAX_CANDIDATES, False) if cand_file else None
            body["candidates"] = {"grid": grid, **({"spacing_m": spacing_m} if spacing_m else {})}
            with click.progressbar(length=len(stages), label="planning", show_eta=False) as bar:
                def progress(stage: str) -> None:
                    done = stages.index(stage) + 1 if stage in stages else 0
                    bar.update(max(0, done - bar.pos))
                result = sites_result(body, setting, progress, given)
                bar.update(len(stages) - bar.pos)
        except (InvalidQuery, TooLarge) as exc:
            raise click.ClickException(exc.message) from None
        s = result["summary"]
        click.echo(f"{s['objective']}: value {s['value']}, bound {s['bound']}, gap {100 * s['gap']:.3f}% "
                   f"({s['method']}, {s['seconds']} s); candidates {s['candidates']}")
        click.echo(f"covered share: {_fmt_share(s['before']['covered_share'])} -> {_fmt_share(s['after']['covered_share'])}")
        for f in result["features"]:
            q = f["properties"]
            lon, lat = f["geometry"]["coordinates"]
            click.echo(f"  #{q['rank']}: {lon:.6f}, {lat:.6f}  gain {q['gain']}")
        _write(result, out)

