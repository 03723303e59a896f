"""Random but reproducible station sets and a brute-force geodesic oracle for the store tests."""
from __future__ import annotations

from datetime import datetime

import numpy as np
from pyproj import Geod

from layers.model import Station
from layers.store import NearestQuery, full_match

HOURS = [None, "24/7", "Mo-Fr 08:30-12:00,14:00-17:30", "Mo-Su 07:00-21:00",
         "Mo-Fr 09:00-17:00; Sa 09:00-12:00; PH off", "22:00-06:00", "Mo-Sa 08:00-20:00; Su off"]
ORIGINS = ["520322", "522622", "520102", "510104", "411502"]
_GEOD = Geod(ellps="WGS84")


def random_stations(layers, n: int, seed: int = 7) -> list[Station]:
    """n stations clustered around a few Chinese cities, with duplicates and near-ties."""
    rng = np.random.default_rng(seed)
    centres = np.array([[106.71, 26.58], [121.23, 28.14], [113.75, 23.02], [120.58, 31.30], [87.6, 43.8],
                        [126.6, 45.75], [109.5, 18.25]])
    layer_ids = list(layers)
    out = []
    for i in range(n):
        c = centres[rng.integers(len(centres))]
        spread = rng.choice([0.002, 0.05, 0.6])
        lon, lat = c + rng.normal(0, spread, 2)
        if i % 97 == 5 and out:  # exact duplicates of an earlier point: ties broken by id
            lon, lat = out[-1].lon, out[-1].lat
        layer = layers[layer_ids[rng.integers(len(layer_ids))]]
        vocab = list(layer.services)
        services = tuple(sorted(rng.choice(vocab, size=rng.integers(0, 5), replace=False)))
        origins = tuple(sorted(set(rng.choice(ORIGINS, size=rng.integers(1, 3))))) if layer.has_origins else ()
        status = "temporarily_closed" if i % 41 == 0 else ("removed" if i % 53 == 0 else "open")
        out.append(Station(
            id=f"t{i:05d}", lon=round(float(lon), 6), lat=round(float(lat), 6), name=f"测试站 {i}",
            layer=layer.id, services=services, hours=HOURS[int(rng.integers(len(HOURS)))],
            origins=origins, status=status, source="test",
        ))
    return out


def brute_nearest(stations: list[Station], query: NearestQuery, at: datetime) -> list[tuple[str, float]]:
    """The exact answer: every station's WGS-84 geodesic distance, filtered, sorted by (distance, id)."""
    ranked = []
    for s in stations:
        if not full_match(s, query, at):
            continue
        d = round(_GEOD.inv(query.lon, query.lat, s.lon, s.lat)[2], 3)
        if query.radius_m is not None and d > query.radius_m:
            continue
        ranked.append((d, s.id))
    ranked.sort()
    return [(sid, d) for d, sid in ranked[: query.k]]
