"""The `/planner` page: a form, the coverage summary, a map and the suggested sites, zh-CN first.

Routes go on `web.planner.plans.bp` (endpoint `planner.planner_page`). Thin: parse the form, call the
same functions as the API, render `planner.html` through `web.pages.render.render` (translations, language
switch). Uncovered demand is drawn as a heat layer by the app's own `static/heat.js` (no CDN).
"""
from __future__ import annotations

import base64
import json
import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import folium
from flask import request
from folium.elements import JSCSSMixin
from folium.template import Template
from markupsafe import escape

from layers.errors import InvalidQuery
from layers.ingest import demand as demand_io
from layers.ingest.demand import TooLarge
from web import i18n
from web.assets import static_url
from web.pages import maps
from web.pages import routes as pages
from web.planner.plans import (
    Setting,
    bp,
    coverage_result,
    parse_crs,
    parse_setting,
    sites_result,
    store,
    to_csv,
)

LOGGER = logging.getLogger(__name__)
STATION_COLOUR = "#d9480f"
SITE_COLOUR = "#7048e8"
COVERED_COLOUR = "#2f9e44"
MAP_STATIONS = 300  # nearest stations drawn (with their coverage circles) at most
MAP_DEMAND = 3000  # demand points drawn at most (uncovered and heaviest first)
MAX_UPLOAD = 8_000_000  # bytes
CHOSEN = ("crs", "radius_m", "p", "objective", "grid", "spacing_m", "layer", "candidates")


class HeatLayer(JSCSSMixin):
    """Weighted points ([lat, lon, weight], display CRS) drawn by `L.yizhanHeat` from static/heat.js."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.yizhanHeat({{ this.points|tojson }}, {{ this.options|tojson }})
                .addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, points: Sequence[Sequence[float]], **options: Any) -> None:
        super().__init__()
        self._name = "YizhanHeat"
        self.points = [[round(float(lat), 6), round(float(lon), 6), float(w)] for lat, lon, w in points]
        self.options = options
        self.default_js = [("yizhan_heat", static_url("heat.js"))]


def _data_uri(text: str, mime: str) -> str:
    return f"data:{mime};charset=utf-8;base64," + base64.b64encode(text.encode("utf-8")).decode("ascii")


def _downloads(coverage: dict[str, Any], sites: dict[str, Any] | None) -> list[dict[str, str]]:
    out = []
    for name, collection in (("coverage", coverage), ("sites", sites)):
        if not collection:
            continue
        label = i18n.gettext(f"planner.download.{name}")
        out += [{"label": f"{label} · GeoJSON", "file": f"{name}.geojson",
                 "href": _data_uri(json.dumps(collection, ensure_ascii=False), "application/geo+json")},
                {"label": f"{label} · CSV", "file": f"{name}.csv", "href": _data_uri(to_csv(collection), "text/csv")}]
    return out


def _groups(fmap: folium.Map) -> dict[str, Any]:
    """The map's overlays, named in the reader's language (Leaflet's layer control shows names as HTML)."""
    return {key: folium.FeatureGroup(name=str(escape(i18n.gettext(f"planner.group.{key}")))).add_to(fmap)
            for key in ("stations", "uncovered", "covered", "sites")}


def planner_map(coverage: dict[str, Any], sites: dict[str, Any] | None, radius_m: float) -> maps.MapParts:
    """Stations nearest the demand with coverage circles, uncovered demand as a heat layer, covered
    demand as green dots, suggested sites numbered by rank; positions in the tile provider's CRS."""
    provider = pages.tiles()
    features = coverage["features"]
    nearest = {f["properties"]["nearest"]["id"] for f in features if f["properties"]["nearest"]}
    stations = [store().get(sid) for sid in sorted(nearest)[:MAP_STATIONS]]
    shown = sorted(features, key=lambda f: (f["properties"]["covered"], -f["properties"]["weight"]))[:MAP_DEMAND]
    picks = sites["features"] if sites else []
    points = ([(s.lon, s.lat) for s in stations] + [tuple(f["geometry"]["coordinates"]) for f in shown]
              + [tuple(f["geometry"]["coordinates"]) for f in picks])
    lons, lats = provider.to_display([p[0] for p in points], [p[1] for p in points])
    at = [(float(y), float(x)) for x, y in zip(lons, lats)]  # [lat, lon] for folium, display CRS
    fmap = maps.new_map(provider, i18n.current_language(), (float(lons.mean()), float(lats.mean())), 11)
    groups = _groups(fmap)
    for (lat, lon), station in zip(at, stations):
        folium.Circle([lat, lon], radius=radius_m, color=STATION_COLOUR, weight=1, fill=True,
                      fill_opacity=0.08).add_to(groups["stations"])
        maps.StationMarker(lat, lon, station.id, station.name, maps.pin_icon(STATION_COLOUR, "", 18),
                           tooltip=station.name).add_to(groups["stations"])
    _draw_demand(shown, at[len(stations):], radius_m, groups)
    for (lat, lon), f in zip(at[len(stations) + len(shown):], picks):
        rank = f["properties"]["rank"]
        folium.Circle([lat, lon], radius=radius_m, color=SITE_COLOUR, weight=2, dash_array="6 4",
                      fill=False).add_to(groups["sites"])
        maps.StationMarker(lat, lon, f["id"], f"#{rank}", maps.pin_icon(SITE_COLOUR, rank), tooltip=f"#{rank}",
                           z_index=1000 - rank).add_to(groups["sites"])
    if len(points) > 1:
        folium.FitBounds([[float(lats.min()), float(lons.min())], [float(lats.max()), float(lons.max())]],
                         padding=(24, 24), max_zoom=15).add_to(fmap)
    return maps.finish(fmap, groups, {"crs": provider.crs})


def _draw_demand(shown: list[dict[str, Any]], at: list[tuple[float, float]], radius_m: float,
                 groups: Mapping[str, Any]) -> None:
    """Uncovered points into one heat layer (weight = workers); covered ones as small green dots."""
    top = max([f["properties"]["weight"] for f in shown] + [1e-9])
    heat = []
    for (lat, lon), f in zip(at, shown):
        weight = max(float(f["properties"]["weight"]), 0.0)
        if not f["properties"]["covered"]:
            heat.append((lat, lon, weight))
            continue
        folium.CircleMarker([lat, lon], radius=3 + 6 * math.sqrt(weight / top), stroke=False, fill=True,
                            fill_color=COVERED_COLOUR, fill_opacity=0.45).add_to(groups["covered"])
    if heat:
        HeatLayer(heat, max=max(w for _, _, w in heat) or 1.0, radiusMeters=radius_m, minRadius=24,
                  maxRadius=80).add_to(groups["uncovered"])


def _page_setting(form: Mapping[str, str]) -> tuple[Setting, dict[str, Any]]:
    """The form's choices (text fields) and the uploaded file, as a Setting and the body of a sites request."""
    body: dict[str, Any] = {k: v for k, v in form.items() if k in ("crs", "radius_m", "layer", "open_at") and v}
    upload = request.files.get("demand_file")
    demand = None
    if upload is not None and upload.filename:
        data = upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise TooLarge("the file is larger than 8 MB", "demand_file")
        demand = demand_io.from_bytes(data, upload.filename, parse_crs(body), "demand_file")
    else:
        body["demand"] = "parks"
    setting = parse_setting(body, demand)
    if form.get("candidates", "grid") != "grid":
        candidates: Any = "demand"
    else:
        candidates = {"grid": form.get("grid") or "hex"}
        if form.get("spacing_m"):
            candidates["spacing_m"] = form.get("spacing_m")
    sites_body = {"p": form.get("p") or 10, "objective": form.get("objective") or "coverage",
                  "candidates": candidates}
    return setting, sites_body


@bp.route("/planner", methods=["GET", "POST"])
def planner_page():
    form = request.form if request.method == "POST" else request.args
    chosen = {k: form.get(k, "") for k in CHOSEN}
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
