"""Reading stations from GeoJSON files (the bundled sample data, exports)."""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path

from layers.layerdefs import Layer
from layers.model import Station, station_from_feature

SAMPLE_STATIONS = Path(__file__).resolve().parents[2] / "data" / "sample_stations.geojson"


def read_geojson_stations(path: Path, layers: Mapping[str, Layer]) -> Iterator[Station]:
    """Every feature of a WGS-84 GeoJSON FeatureCollection as a validated Station."""
    collection = json.loads(Path(path).read_text(encoding="utf-8"))
    for feature in collection.get("features", []):
        yield station_from_feature(feature, layers)
