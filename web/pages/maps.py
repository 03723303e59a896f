"""Folium maps for the pages, with every script and style served by the app itself.

Folium builds the map; the page template embeds its three parts (header, html, script).
Folium's stock `Map` links Leaflet, jQuery, Bootstrap and Font Awesome from CDNs, spreads
objects (`...`) in its script and sets `user-scalable=no`; `YizhanMap` replaces that template
and those links with local ones. Folium's `Popup` puts its HTML into a JS template literal
(`${...}` inside a station name would run) through jQuery, so markers here bind popups from
a JSON string instead. Positions are converted to the tile provider's CRS for display only.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import folium
from branca.element import JavascriptLink, MacroElement
from folium.plugins import MarkerCluster
from folium.template import Template
from markupsafe import Markup, escape

from geo.crs import to_wgs84
from layers.layerdefs import Layer
from layers.store import MAX_LIMIT, StationStore
from web import assets
from web.pages.tiles import TileProvider

CHINA_CENTRE = (104.5, 34.0)  # (lon, lat) WGS-84
CHINA_BOX = (73.5, 18.0, 135.0, 53.5)  # (minlon, minlat, maxlon, maxlat) WGS-84, the first view of `/`
_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$")
_FALLBACK_COLOUR = "#495057"


def vendor_url(package: str, filename: str) -> str:
    """The app's URL of a file of a vendored xstatic package (leaflet, leaflet_markercluster)."""
    return assets.vendor_url(package, filename)


def safe_colour(colour: str) -> str:
    """A layer colour fit to put into a style attribute (layer files are data, not trusted CSS)."""
    return colour if _HEX_COLOUR.match(colour or "") else _FALLBACK_COLOUR


@dataclass(frozen=True)
class MapParts:
    """A rendered map cut for a page: CSS for <head>, the map's div, scripts for the end of <body>."""

    head: Markup
    html: Markup
    scripts: Markup
    config: Mapping[str, Any] = field(default_factory=dict)


class YizhanMap(folium.Map):
    """folium.Map with local Leaflet, plain ES5 script, no viewport lock and a text-only attribution."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
            <style>#{{ this.get_name() }} { position: relative; width: 100%; height: 100%; }</style>
        {% endmacro %}
        {% macro html(this, kwargs) %}
            <div class="folium-map yz-map" id={{ this.get_name()|tojson }}></div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.map({{ this.get_name()|tojson }},
                L.extend({center: {{ this.location|tojson }}}, {{ this.options|tojavascript }}));
            {{ this.get_name() }}.attributionControl.setPrefix(false);
            if ({{ this.get_name() }}.zoomControl) { {{ this.get_name() }}.zoomControl.setPosition("bottomright"); }
        {% endmacro %}
        """
    )

    def __init__(self, location: Sequence[float], zoom: int, min_zoom: int = 3, max_zoom: int = 18) -> None:
        super().__init__(location=location, zoom_start=zoom, tiles=None)
        self.options.update(min_zoom=min_zoom, max_zoom=max_zoom)  # the cluster plugin needs the map's own
        self.default_js = [("leaflet", vendor_url("leaflet", "leaflet.js"))]
        self.default_css = [("leaflet_css", vendor_url("leaflet", "leaflet.css"))]


class LocalMarkerCluster(MarkerCluster):
    """Leaflet.markercluster from the app's own static files."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.default_js = [("markerclusterjs", vendor_url("leaflet_markercluster", "leaflet.markercluster.js"))]
        self.default_css = [("markerclustercss", vendor_url("leaflet_markercluster", "MarkerCluster.css"))]


class PlainLayerControl(folium.LayerControl):
    """folium's layer control with `var` instead of `let` (old in-app browsers)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.control.layers(
                { {%- for key, val in this.base_layers.items() %}{{ key|tojson }}: {{ val }},{% endfor %} },
                { {%- for key, val in this.overlays.items() %}{{ key|tojson }}: {{ val }},{% endfor %} },
                {{ this.options|tojavascript }}
            ).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )


class StationMarker(MacroElement):
    """A numbered round pin in the layer's colour; popup HTML (already escaped) goes in as a JSON string,
    never as code; `tooltip` is plain text (escaped here)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.marker({{ this.location|tojson }}, {
                icon: L.divIcon({{ this.icon|tojson }}),
                title: {{ this.title|tojson }}, alt: {{ this.title|tojson }},
                stationId: {{ this.station_id|tojson }}, zIndexOffset: {{ this.z_index|tojson }}
            }).addTo({{ this._parent.get_name() }});
            {%- if this.popup %}
            {{ this.get_name() }}.bindPopup({{ this.popup|tojson }}, {maxWidth: 230,
                autoPanPaddingTopLeft: [16, 16], autoPanPaddingBottomRight: [72, 16]});  /* the controls sit at the right */
            {%- endif %}
            {%- if this.tooltip %}
            {{ this.get_name() }}.bindTooltip({{ this.tooltip|tojson }}, {direction: "top", offset: [0, -18]});
            {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(self, lat: float, lon: float, station_id: str, title: str, icon: Mapping[str, Any],
                 popup: str | None = None, tooltip: str | None = None, z_index: int = 0) -> None:
        super().__init__()
        self._name = "StationMarker"
        self.location = [round(lat, 7), round(lon, 7)]
        self.station_id, self.title, self.icon = station_id, title, dict(icon)
        # Leaflet shows a tooltip as HTML: the text (a station's name) is escaped here, once for every caller
        self.popup, self.tooltip, self.z_index = popup, str(escape(tooltip)) if tooltip else None, z_index


def pin_icon(colour: str, label: str | int = "", size: int = 36, shape: str = "") -> dict:
    """A Leaflet divIcon spec: a pin with a short label (list number); with `shape` (open, reported, unknown,
    closed, paused) its form and colour say the open state, else it is round in the layer's `colour`."""
    kind = f" shape-{escape(shape)}" if shape else ""
    html = (f'<span class="yz-pin-dot{kind}" style="background:{safe_colour(colour)}">'
            f'<span>{escape(str(label))}</span></span>')
    return {"className": "yz-pin", "html": html, "iconSize": [size, size], "iconAnchor": [size // 2, size // 2],
            "popupAnchor": [0, -(size // 2)]}


def here_icon() -> dict:
    """The "you are here" pin: a dark ring, bigger than the stations' pins."""
    return {"className": "yz-here", "html": '<span class="yz-here-dot"></span>', "iconSize": [20, 20],
            "iconAnchor": [10, 10]}


def new_map(provider: TileProvider, lang: str, centre: tuple[float, float], zoom: int) -> YizhanMap:
    """An empty map on `provider`'s tiles centred on `centre` (lon, lat already in display CRS)."""
    lon, lat = centre
    fmap = YizhanMap([lat, lon], zoom, max_zoom=provider.max_zoom, min_zoom=3)
    for i, spec in enumerate(provider.layers):
        folium.TileLayer(
            tiles=spec.url, attr=str(escape(provider.attribution.get(lang) or provider.attribution["zh"])) if i == 0
            else " ", subdomains=spec.subdomains or "abc", max_zoom=provider.max_zoom, control=False,
            overlay=i > 0, name=f"tiles{i}",
        ).add_to(fmap)
    return fmap


def layer_groups(fmap: folium.Map, layers: Iterable[Layer], lang: str, cluster: bool = False) -> dict[str, Any]:
    """One overlay per layer (clustered on the big map), named for the layer control."""
    groups: dict[str, Any] = {}
    for layer in layers:
        name = str(escape(layer.label(lang)))
        if cluster:
            colour = safe_colour(layer.colour)
            make_icon = ("function (c) { return L.divIcon({className: 'yz-cluster', iconSize: [46, 46], html: "
                         f"'<span style=\"background:{colour};border-color:{colour}\">' + c.getChildCount() + '</span>'}}); }}")
            group = LocalMarkerCluster(name=name, icon_create_function=make_icon, show=True,
                                       options={"maxClusterRadius": 70, "chunkedLoading": True})
        else:
            group = folium.FeatureGroup(name=name, overlay=True, control=True, show=True)
        group.add_to(fmap)
        groups[layer.id] = group
    return groups


def finish(fmap: folium.Map, groups: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> MapParts:
    """Add the layer control and cut the rendered map into head CSS, html and end-of-body scripts."""
    if groups:
        PlainLayerControl(position="topright", collapsed=True).add_to(fmap)
    figure = fmap.get_root()
    for child in list(figure._children.values()):
        child.render()
    figure.header._children.pop("meta_http", None)
    head, scripts = [], []
    for child in figure.header._children.values():
        if isinstance(child, JavascriptLink):
            scripts.append(f'<script src="{escape(child.url)}" defer></script>')
        else:
            head.append(child.render())
    config = {"map": fmap.get_name(), "groups": {lid: g.get_name() for lid, g in groups.items()}, **(extra or {})}
    return MapParts(head=Markup("\n".join(head)), html=Markup(figure.html.render()),
                    scripts=Markup("\n".join(scripts) + "\n" + _deferred_script(figure.script.render(), config)),
                    config=config)


def _deferred_script(code: str, config: Mapping[str, Any]) -> str:
    """The map's own script run once the deferred library scripts have loaded (DOMContentLoaded), its
    map and groups published as globals for the page script (which listens for the same event, later)."""
    names = [config["map"], *config["groups"].values()]
    publish = "".join(f"window[{json.dumps(n)}] = {n};" for n in names)
    return ("<script>\ndocument.addEventListener(\"DOMContentLoaded\", function () {\n" + code + "\n" + publish
            + "\n});\n</script>")


def home_map(provider: TileProvider, layers: Mapping[str, Layer], lang: str, feed_url: str) -> MapParts:
    """The big map of `/`: one cluster group per layer, filled by the page script from `feed_url`."""
    lons, lats = provider.to_display([CHINA_CENTRE[0]], [CHINA_CENTRE[1]])
    fmap = new_map(provider, lang, (float(lons[0]), float(lats[0])), 4)
    groups = layer_groups(fmap, layers.values(), lang, cluster=True)
    corners = provider.to_display([CHINA_BOX[0], CHINA_BOX[2]], [CHINA_BOX[1], CHINA_BOX[3]])
    folium.FitBounds([[float(corners[1][0]), float(corners[0][0])], [float(corners[1][1]), float(corners[0][1])]]
                     ).add_to(fmap)
    colours = {lid: safe_colour(layer.colour) for lid, layer in layers.items()}
    return finish(fmap, groups, {"feed": feed_url, "crs": provider.crs, "colours": colours})


@dataclass(frozen=True)
class Pin:
    """One station to draw: WGS-84 position, list number, its layer, popup HTML (already escaped)."""

    station_id: str
    lon: float
    lat: float
    layer: Layer
    title: str
    popup: str
    label: str = ""
    shape: str = ""
    approx_radius_m: float = 0.0  # > 0: the point is an area's centre; a dashed ring of this radius says so


def results_map(provider: TileProvider, lang: str, pins: Sequence[Pin], here: tuple[float, float] | None = None,
                here_label: str = "") -> MapParts:
    """A map of a result list (numbered pins) and "you are here", fitted to show them all."""
    points = [(p.lon, p.lat) for p in pins] + ([here] if here else [])
    if not points:
        points = [CHINA_CENTRE]
    lons, lats = provider.to_display([p[0] for p in points], [p[1] for p in points])
    fmap = new_map(provider, lang, (float(lons[-1]), float(lats[-1])), 14 if len(points) > 1 else 15)
    layers = {p.layer.id: p.layer for p in pins}
    groups = layer_groups(fmap, layers.values(), lang)
    for i, pin in enumerate(pins):
        StationMarker(float(lats[i]), float(lons[i]), pin.station_id, pin.title, pin_icon(pin.layer.colour, pin.label, 32, pin.shape),
                      popup=pin.popup, z_index=10 * (len(pins) - i)).add_to(groups[pin.layer.id])  # #1 on top
        if pin.approx_radius_m > 0:
            folium.Circle([float(lats[i]), float(lons[i])], radius=pin.approx_radius_m, color=safe_colour(pin.layer.colour),
                          weight=2, dash_array="6 6", fill=False, class_name="approx-ring").add_to(groups[pin.layer.id])
    if here:
        StationMarker(float(lats[-1]), float(lons[-1]), "", here_label, here_icon(), tooltip=here_label,
                      z_index=-1000).add_to(fmap)  # under the stations' pins: those are what one taps
    if len(points) > 1:
        bounds = [[float(lats.min()), float(lons.min())], [float(lats.max()), float(lons.max())]]
        # room for the layer switch (top right) and the zoom buttons (bottom right): no pin under a control
        folium.FitBounds(bounds, padding_top_left=(64, 64), padding_bottom_right=(64, 32), max_zoom=16).add_to(fmap)
    return finish(fmap, groups, {"crs": provider.crs})


FEED_CAP = 10_000  # dots sent to the big map at most; clustering keeps this many smooth
_PAD_DEG = 0.02  # GCJ-02 moves points by < 0.01 degrees; pad the converted box so none is lost at an edge


def _wgs84_box(bbox: tuple[float, float, float, float] | None, provider: TileProvider):
    """A display-CRS box as a (padded) WGS-84 box for the store."""
    if bbox is None or provider.crs == "wgs84":
        return bbox
    minlon, minlat, maxlon, maxlat = bbox
    corners = [to_wgs84(x, y, provider.crs) for x in (minlon, maxlon) for y in (minlat, maxlat)]
    return (max(-180.0, min(c[0] for c in corners) - _PAD_DEG), max(-90.0, min(c[1] for c in corners) - _PAD_DEG),
            min(180.0, max(c[0] for c in corners) + _PAD_DEG), min(90.0, max(c[1] for c in corners) + _PAD_DEG))


def feed(store: StationStore, provider: TileProvider, bbox, layers: tuple[str, ...]) -> dict:
    """Stations in a display-CRS box as compact dots in the tiles' CRS: [id, lon, lat, layer index]."""
    box = _wgs84_box(bbox, provider)
    stations: list = []
    while len(stations) < FEED_CAP:
        page = store.in_bbox(box, layers, MAX_LIMIT, len(stations))
        stations.extend(page.stations)
        if not page.stations or len(stations) >= page.number_matched:
            break
    layer_ids = list(store.layers)
    lons, lats = provider.to_display([s.lon for s in stations], [s.lat for s in stations])
    dots = [[s.id, round(float(x), 5), round(float(y), 5), layer_ids.index(s.layer)]
            for s, x, y in zip(stations, lons, lats)]
    return {"crs": provider.crs, "layers": layer_ids, "points": dots, "truncated": len(stations) >= FEED_CAP}
