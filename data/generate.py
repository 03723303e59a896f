"""Write the bundled sample data set: `python -m data.generate [OUT_DIR]` (default: this folder)."""
from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from data.parks import park_features
from data.places import load_gazetteer
from data.records import Context, Record
from data.stations import rest_stations, rights_posts
from data.windows import service_windows, worker_centres
from data.work import gig_markets, training_centres
from layers.layerdefs import load_layers
from layers.model import validate_station

LOGGER = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
STATIONS_FILE = "sample_stations.geojson"
PARKS_FILE = "sample_parks.geojson"


def build_records(ctx: Context) -> list[Record]:
    """Every sample station of every layer, sorted by id (ids must be unique)."""
    records = (rights_posts(ctx) + rest_stations(ctx) + service_windows(ctx) + worker_centres(ctx)
               + gig_markets(ctx) + training_centres(ctx))
    ids = [r.id for r in records]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate station ids in the sample data")
    return sorted(records, key=lambda r: r.id)


def station_features(ctx: Context) -> list[dict[str, Any]]:
    """The records validated as Stations and turned into Features without empty properties."""
    features = []
    for rec in build_records(ctx):
        station = validate_station(rec.id, rec.lon, rec.lat, rec.props, ctx.layers)
        feature = station.to_feature()
        feature["properties"] = {k: v for k, v in feature["properties"].items() if v not in (None, [])}
        features.append(feature)
    return features


def collection_text(features: Iterable[dict[str, Any]]) -> str:
    """A FeatureCollection with one compact feature per line, UTF-8 text, ending in a newline."""
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"


def write_all(out_dir: Path) -> dict[str, Path]:
    """Write the stations and parks files into `out_dir`; the same bytes on every run."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = Context(gaz=load_gazetteer(), layers=load_layers())
    written = {}
    for name, features in ((STATIONS_FILE, station_features(ctx)), (PARKS_FILE, park_features())):
        path = out_dir / name
        path.write_bytes(collection_text(features).encode("utf-8"))
        written[name] = path
        LOGGER.info("wrote %d features to %s", len(features), path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: write the files into the given folder or into data/."""
    args = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    write_all(Path(args[0]) if args else HERE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
