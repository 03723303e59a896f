"""After another process writes many rows, the serving copy is rebuilt once: no delta left for
every later query to scan, no dead rows, and answers equal brute force. Both stores (the embedded
store folds the change in on its next read; PostGIS's mirror reloads on the notification)."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime

import numpy as np
import pytest

from geo.hours import SHANGHAI
from layers.embedded.store import EmbeddedStore
from layers.store import NearestQuery
from tests.conftest import REPO
from tests.stations import brute_nearest, random_stations

BASE, NEW, MOVED, DELETED = 1000, 2500, 400, 30

_WRITER = textwrap.dedent("""
    import sys
    from dataclasses import replace
    from layers.layerdefs import load_layers
    from tests.stations import random_stations
    kind, where, base, new, moved, deleted = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
    layers = load_layers()
    if kind == "embedded":
        from layers.embedded.store import EmbeddedStore
        store = EmbeddedStore(where, layers)
    else:
        from layers.postgis.store import PostgisStore
        store = PostgisStore(where, layers)
    old = random_stations(layers, base)
    fresh = [replace(s, id="other-" + s.id) for s in random_stations(layers, new, seed=11)]
    shifted = [replace(s, lon=s.lon + 0.01, lat=s.lat - 0.01) for s in old[:moved]]
    store.import_rows(fresh + shifted, actor="other-process")
    for s in old[moved: moved + deleted]:
        store.delete(s.id, actor="other-process")
    store.close()
""")


@pytest.fixture(params=["embedded", "postgis"])
def served(request, tmp_path, layers):
    """(store, its in-memory index, kind, where): a serving store holding BASE stations."""
    seed = random_stations(layers, BASE)
    if request.param == "embedded":
        store = EmbeddedStore(tmp_path, layers, seed=seed)
        yield store, lambda: store._index, "embedded", str(tmp_path)
    else:
        from layers.postgis.store import PostgisStore

        url = request.getfixturevalue("postgis_url")
        store = PostgisStore(url, layers, seed=seed, mirror=True)
        yield store, lambda: store._mirror._index, "postgis", url
    store.close()


def test_another_process_big_write_leaves_no_delta_and_answers_stay_exact(served, layers):
    store, index, kind, where = served
    at = datetime(2026, 11, 27, 10, 30, tzinfo=SHANGHAI)
    store.nearest(NearestQuery(lon=106.7, lat=26.5, k=3, at=at))  # served before the write
    subprocess.run([sys.executable, "-c", _WRITER, kind, where, str(BASE), str(NEW), str(MOVED), str(DELETED)],
                   check=True, timeout=300, cwd=REPO)
    rng = np.random.default_rng(5)
    queries = [NearestQuery(lon=float(x), lat=float(y), k=int(k), at=at)
               for x, y, k in zip(rng.uniform(100, 122, 40), rng.uniform(22, 40, 40), rng.integers(1, 20, 40))]
    got = [[(h.station.id, h.distance_m) for h in store.nearest(q)] for q in queries]
    assert all(size == 0 for size in index().deltas().values()), index().deltas()
    assert index().dead_rows() == 0
    stations = list(store.iter_all())
    assert len(index()) == len(stations) == BASE + NEW - DELETED
    assert got == [brute_nearest(stations, q, at) for q in queries]
    box = (100.0, 22.0, 122.0, 40.0)
    inside = sorted(s.id for s in stations if s.status != "removed" and box[0] <= s.lon <= box[2]
                    and box[1] <= s.lat <= box[3])
    assert [s.id for s in store.in_bbox(box, limit=10_000).stations] == inside
