"""The PostGIS store's in-process mirror: every process answers from memory and still sees every
committed write at once — its own, another process's (another store object on the same database),
and one made behind the store's back in SQL — and falls back to the database when it cannot prove
itself current."""
from __future__ import annotations

import time

import pytest

from layers.errors import Conflict, StoreUnavailable
from layers.postgis.store import PostgisStore
from layers.store import NearestQuery
from tests.pgfixtures import run_sql
from tests.stations import brute_nearest, random_stations


def nearest_ids(store, station, k=1):
    return [h.station.id for h in store.nearest(NearestQuery(lon=station.lon, lat=station.lat, k=k))]


def eventually(check, seconds: float = 2.0):
    """check() soon: another process hears of a commit when its listener receives the notification
    (about a millisecond later); the writing process itself reads its write at once."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the other mirror never saw the write"
        time.sleep(0.005)


@pytest.fixture
def pair(postgis_url, layers):
    """Two mirrored stores on one database (two gunicorn workers) and one that reads by SQL."""
    seed = random_stations(layers, 400, seed=31)
    a = PostgisStore(postgis_url, layers, seed=seed)
    b = PostgisStore(postgis_url, layers)
    sql = PostgisStore(postgis_url, layers, mirror=False)
    yield a, b, sql, seed
    for store in (a, b, sql):
        store.close()


def test_mirrors_answer_like_the_database(pair, layers):
    a, b, sql, seed = pair
    assert a.health()["mirror"] == {"synced": True, "stations": 400}
    for station in seed[:60]:
        query = NearestQuery(lon=station.lon + 0.05, lat=station.lat - 0.03, k=7)
        want = brute_nearest(seed, query, query.moment())
        assert [(h.station.id, h.distance_m) for h in a.nearest(query)] == want
        assert [(h.station.id, h.distance_m) for h in b.nearest(query)] == want
        assert [(h.station.id, h.distance_m) for h in sql.nearest(query)] == want


def test_every_write_reaches_both_mirrors(pair, layers):
    a, b, _, _ = pair
    new = random_stations(layers, 1, seed=77)[0].with_changes(id="fresh-1", lon=101.0, lat=25.0, status="open")
    assert a.put(new) is True
    assert nearest_ids(a, new) == ["fresh-1"]  # the writer reads its own write
    eventually(lambda: nearest_ids(b, new) == ["fresh-1"])  # another process
    moved = new.with_changes(lon=121.5, lat=31.2, name="挪过的站")
    b.put(moved, actor="editor")
    assert b.nearest(NearestQuery(lon=121.5, lat=31.2, k=1))[0].station == moved
    eventually(lambda: a.nearest(NearestQuery(lon=121.5, lat=31.2, k=1))[0].station == moved)
    (hit,) = a.nearest(NearestQuery(lon=121.5, lat=31.2, k=1))
    assert hit.distance_m == 0.0 and nearest_ids(a, new)[0] != "fresh-1"
    a.delete("fresh-1")
    assert "fresh-1" not in nearest_ids(a, moved, k=3)
    eventually(lambda: "fresh-1" not in nearest_ids(b, moved, k=3))
    entry = b.history("fresh-1")[1]  # the update by "editor": its `before` is the first version
    a.revert("fresh-1", entry.seq, actor="admin")
    eventually(lambda: b.nearest(NearestQuery(lon=101.0, lat=25.0, k=1))[0].station == new)


def test_a_refused_write_changes_no_mirror(pair):
    a, b, _, seed = pair
    with pytest.raises(Conflict):
        a.put(seed[0].with_changes(name="不该写入"), create_only=True)
    assert a._mirror._pending == {}
    (hit,) = b.nearest(NearestQuery(lon=seed[0].lon, lat=seed[0].lat, k=1))
    assert hit.station == seed[0]


def test_a_write_behind_the_stores_back_reloads_the_mirrors(pair, postgis_url):
    a, b, _, seed = pair
    victim = seed[5]
    there = victim.with_changes(lon=88.8, lat=44.4)
    run_sql(postgis_url, "UPDATE stations SET lon = 88.8, lat = 44.4 WHERE id = %s", (victim.id,))
    eventually(lambda: nearest_ids(b, there) == [victim.id])
    assert b.nearest(NearestQuery(lon=88.8, lat=44.4, k=1))[0].distance_m == 0.0
    run_sql(postgis_url, "DELETE FROM stations WHERE id = %s", (victim.id,))
    eventually(lambda: victim.id not in nearest_ids(a, there, k=3))
    run_sql(postgis_url, "TRUNCATE stations")
    eventually(lambda: a.nearest(NearestQuery(lon=100, lat=30, k=3)) == [])
    eventually(lambda: b.health()["mirror"]["stations"] == 0)


def test_a_large_import_reaches_the_other_mirror(pair, layers):
    a, b, sql, _ = pair
    batch = [s.with_changes(id=f"bulk-{i}") for i, s in enumerate(random_stations(layers, 3000, seed=5))]
    a.import_rows(batch, actor="import")
    assert a.health()["mirror"]["stations"] == 3400  # the importing process: at once
    eventually(lambda: b.health()["mirror"]["stations"] == 3400)
    for station in batch[:: 300]:
        query = NearestQuery(lon=station.lon, lat=station.lat, k=3)
        assert [(h.station, h.distance_m) for h in b.nearest(query)] == [(h.station, h.distance_m) for h in sql.nearest(query)]


def test_a_lost_listener_falls_back_to_the_database_and_resyncs(pair, postgis_url, layers):
    a, b, sql, seed = pair
    # kill b's listening connection (the server stays up): b cannot prove itself current
    run_sql(postgis_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE query LIKE 'LISTEN %%' AND pid = %s", (b._mirror._listen.info.backend_pid,))
    time.sleep(0.2)
    late = seed[9].with_changes(id="while-deaf", lon=99.9, lat=22.2)
    a.put(late)  # b's listener is gone: b never hears of this write
    assert nearest_ids(b, late) == ["while-deaf"]  # the mirror found its listener gone: answered by SQL
    assert b._mirror._synced is False
    assert nearest_ids(b, late) == ["while-deaf"]  # by SQL again: the resync runs behind, never in a request
    eventually(lambda: b._mirror._synced is True, 15)  # listening again and reloaded, in the resync thread
    assert nearest_ids(b, late) == ["while-deaf"]  # answered from memory
    assert b.health()["mirror"] == {"synced": True, "stations": 401}
    assert nearest_ids(sql, late) == ["while-deaf"]


def test_changes_that_could_not_be_read_are_not_lost(pair, postgis_url, monkeypatch):
    a, b, _, seed = pair
    real = b._mirror._read_ids
    monkeypatch.setattr(b._mirror, "_read_ids", lambda ids: (_ for _ in ()).throw(StoreUnavailable("down")))
    moved = seed[3].with_changes(lon=77.7, lat=33.3)
    a.put(moved)
    query = NearestQuery(lon=77.7, lat=33.3, k=1)
    # b takes the notification in but cannot read the row: it answers from SQL and counts as unsynced
    eventually(lambda: b.nearest(query)[0].station == moved and b._mirror._synced is False)
    monkeypatch.setattr(b._mirror, "_read_ids", real)
    eventually(lambda: b.nearest(query)[0].station == moved and b._mirror._synced is True)


def test_a_bulk_load_into_an_empty_table_reaches_every_mirror(postgis_url, layers, monkeypatch):
    from layers.ingest import importer as ingest
    from layers.ingest.csv_file import read_csv
    from layers.ingest.importer import import_table
    from tests.ingest_files import csv_bytes

    monkeypatch.setattr(ingest, "CHUNK_ROWS", 50)
    a, b = PostgisStore(postgis_url, layers), PostgisStore(postgis_url, layers)
    try:
        rows = [{"id": f"k{i}", "name": f"站{i}", "layer": "rest_station", "lon": 110.0 + i * 1e-3, "lat": 30.0,
                 "hours": "24/7"} for i in range(300)]
        loads = []
        real = a.bulk_loader
        monkeypatch.setattr(a, "bulk_loader", lambda *args, **kw: loads.append(1) or real(*args, **kw))
        report = import_table(read_csv(csv_bytes(rows)), a, actor="t")
        assert loads and report.ok and report.inserted == 300
        query = NearestQuery(lon=110.1505, lat=30.0, k=2)
        assert [h.station.id for h in a.nearest(query)] == ["k150", "k151"]  # the loading process: at once
        eventually(lambda: [h.station.id for h in b.nearest(query)] == ["k150", "k151"])
        assert a.health()["mirror"] == b.health()["mirror"] == {"synced": True, "stations": 300}
    finally:
        a.close()
        b.close()
