"""Reading the shipped gazetteer files in data/gazetteer/ (built by data/build_places.py, WGS-84)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely

GAZETTEER_DIR = Path(__file__).resolve().parents[2] / "data" / "gazetteer"
ATTRIBUTION = "行政区划数据: Vonng/adcode (CC BY 4.0), 2016"
SCALE = 1e5  # int32 units per degree in the .npz files


def read_polygons(name: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(MultiPolygons in WGS-84 degrees, the other arrays) of fences.npz or outline.npz."""
    with np.load(GAZETTEER_DIR / name) as arrays:
        coords = arrays["coords"].astype(np.float64) / SCALE
        offsets = tuple(arrays[f"offsets{i}"].astype(np.int64) for i in range(3))
        rest = {key: arrays[key] for key in arrays.files if key not in ("coords", "offsets0", "offsets1", "offsets2")}
    return shapely.from_ragged_array(shapely.GeometryType.MULTIPOLYGON, coords, offsets), rest
