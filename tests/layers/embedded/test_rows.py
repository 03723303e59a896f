"""The embedded store's stored row text: orjson must write what json.dumps wrote before it, or
re-importing rows stored by an older version would count every one of them as changed."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from layers.audit import station_from_snapshot
from layers.embedded.reads import _row_to_station
from layers.embedded.store import _PROPS_FIELDS, _props_json, _snapshot
from layers.model import Station

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)  # lone surrogates are not UTF-8


@settings(max_examples=400, deadline=None)
@given(name=TEXT, address=st.none() | TEXT, words=st.lists(TEXT, max_size=3))
def test_props_text_is_what_json_dumps_wrote(name, address, words):
    station = Station(id="a1", lon=116.5, lat=39.9, name=name, layer="rest_station", address=address,
                      services=tuple(words), items=tuple(words))
    props = {k: getattr(station, k) for k in _PROPS_FIELDS
             if getattr(station, k) is not None and getattr(station, k) != ()}
    expected = json.dumps({k: list(v) if isinstance(v, tuple) else v for k, v in props.items()},
                          ensure_ascii=False, separators=(",", ":"))
    text = _props_json(station)
    assert text == expected
    row = ("a1", "rest_station", 116.5, 39.9, text)
    assert _row_to_station(row) == station
    assert station_from_snapshot(_snapshot(row)) == station


def test_a_big_import_into_an_empty_store_adopts_the_index_built_beside_the_write(tmp_path, layers):
    import numpy as np

    from layers.embedded.store import EmbeddedStore
    from layers.store import NearestQuery

    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(100, 120, 60_000), rng.uniform(22, 40, 60_000)
    rows = [Station(id=f"s{i}", lon=float(x), lat=float(y), name=f"站{i}", layer="rest_station")
            for i, (x, y) in enumerate(zip(lon, lat))]
    store = EmbeddedStore(tmp_path, layers, seed=None)
    index_before = store._index
    assert store.import_rows(rows, actor="t").inserted == 60_000
    assert store._index is not index_before and len(store._index) == 60_000  # the one built in the thread
    reopened = EmbeddedStore(tmp_path, layers, seed=None)  # its index loaded from the file
    for x, y in zip(rng.uniform(100, 120, 50), rng.uniform(22, 40, 50)):
        query = NearestQuery(lon=float(x), lat=float(y), k=3)
        assert [(h.station.id, h.distance_m) for h in store.nearest(query)] == \
               [(h.station.id, h.distance_m) for h in reopened.nearest(query)]
    late = Station(id="late", lon=110.0, lat=30.0, name="后来", layer="rest_station")
    store.import_rows([late], actor="t")  # not empty any more: the index is followed, not replaced
    assert store.nearest(NearestQuery(lon=110.0, lat=30.0, k=1))[0].station.id == "late"
    store.close()
    reopened.close()


def test_import_audit_rows_built_by_sqlite_read_back_as_the_exact_stations(tmp_path, layers):
    import random

    from layers.embedded.store import EmbeddedStore

    rng = random.Random(9)
    stations = [Station(id=f"r{i}", lon=rng.uniform(73, 135), lat=rng.uniform(18, 53), name=f"站{i}",
                        layer="rest_station", address=None if i % 2 else "路\"1\"号\\", services=("toilet",) * (i % 2))
                for i in range(300)]
    stations += [Station(id="round", lon=116.0, lat=40.0, name="整", layer="rest_station"),
                 Station(id="tiny", lon=100.1, lat=1e-7 + 20, name="小", layer="rest_station")]
    store = EmbeddedStore(tmp_path, layers, seed=None)
    store.import_rows(stations, actor="t")
    for station in stations:
        (entry,) = store.history(station.id)
        assert entry.action == "import" and entry.before is None and entry.after == station
    moved = [Station(**{**s.__dict__, "lon": s.lon + 1e-6}) for s in stations[:50]]
    result = store.import_rows(moved + stations[50:], actor="t2")
    assert (result.inserted, result.updated, result.unchanged) == (0, 50, len(stations) - 50)
    for old, new in zip(stations[:50], moved):
        latest, first = store.history(old.id)
        assert (latest.actor, latest.before, latest.after) == ("t2", old, new)
        assert first.after == old
    assert all(len(store.history(s.id)) == 1 for s in stations[50:])
    store.close()
