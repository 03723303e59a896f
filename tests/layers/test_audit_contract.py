"""The audit trail, every store alike: each write audited in its own transaction, history, revert."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from layers.audit import AuditEntryNotFound
from layers.errors import Conflict, InvalidQuery, StationNotFound
from layers.store import NearestQuery
from tests.layers.test_store_contract import STORES, make_store
from tests.stations import random_stations


@pytest.fixture(params=STORES)
def store(request, tmp_path_factory, layers):
    opened = make_store(request.param, request, tmp_path_factory, layers, None, "postgis_url")
    yield opened
    opened.close()


def open_stations(layers, n, seed=21):
    return [s.with_changes(status="open") for s in random_stations(layers, n, seed=seed)]


def actions(store, station_id):
    return [(e.action, e.actor) for e in store.history(station_id)]


def test_put_and_delete_are_audited_with_before_and_after(store, layers):
    station = open_stations(layers, 1)[0]
    started = datetime.now(UTC) - timedelta(seconds=5)
    assert store.put(station, actor="张三") is True
    renamed = station.with_changes(name="改名后 <b>'; DROP TABLE stations;--")
    assert store.put(renamed, actor="李四") is False
    store.delete(station.id, actor="王五")
    entries = store.history(station.id)
    assert [(e.action, e.actor) for e in entries] == [("delete", "王五"), ("update", "李四"), ("create", "张三")]
    delete, update, create = entries
    assert (create.before, create.after) == (None, station)
    assert (update.before, update.after) == (station, renamed)
    assert (delete.before, delete.after) == (renamed, None)
    assert delete.seq > update.seq > create.seq
    assert all(e.station_id == station.id and e.at.utcoffset() == timedelta(0) and e.at >= started
               for e in entries)
    assert [e.seq for e in store.history(station.id, limit=2)] == [delete.seq, update.seq]


def test_unchanged_put_writes_no_audit_row(store, layers):
    station = open_stations(layers, 1)[0]
    store.put(station, actor="a")
    store.put(station, actor="b")
    assert actions(store, station.id) == [("create", "a")]


def test_history_of_unknown_station_is_not_found(store, layers):
    with pytest.raises(StationNotFound):
        store.history("never-seen")
    with pytest.raises(InvalidQuery):
        store.history("never-seen", limit=0)


def test_import_audits_each_changed_row_and_skips_unchanged(store, layers):
    stations = open_stations(layers, 40)
    first = store.import_rows(stations[:30], actor="importer")
    assert (first.inserted, first.updated, first.unchanged) == (30, 0, 0)
    again = store.import_rows(stations[:30], actor="importer")  # re-importing an export: a no-op
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 30)
    moved = stations[4].with_changes(lon=stations[4].lon + 0.001)
    third = store.import_rows([moved, *stations[5:40]], actor="second")
    assert (third.inserted, third.updated, third.unchanged) == (10, 1, 25)
    assert actions(store, stations[4].id) == [("import", "second"), ("import", "importer")]
    latest = store.history(stations[4].id)[0]
    assert (latest.before, latest.after) == (stations[4], moved)
    assert actions(store, stations[5].id) == [("import", "importer")]
    fresh = store.history(stations[35].id)
    assert [(e.before, e.after, e.actor) for e in fresh] == [(None, stations[35], "second")]


def test_failing_import_leaves_neither_rows_nor_audit(store, layers):
    stations = open_stations(layers, 20)
    store.import_rows(stations[:5], actor="a")

    def broken():
        yield stations[0].with_changes(name="不该写入")
        yield from stations[5:15]
        raise RuntimeError("the source broke mid-way")

    with pytest.raises(RuntimeError):
        store.import_rows(broken(), actor="b")
    assert store.count() == 5
    assert actions(store, stations[0].id) == [("import", "a")]
    with pytest.raises(StationNotFound):
        store.history(stations[7].id)


def test_failing_put_leaves_no_audit_row(store, layers):
    station = open_stations(layers, 1)[0]
    store.put(station, actor="a")
    with pytest.raises(Conflict):
        store.put(station.with_changes(name="重复"), create_only=True, actor="b")
    assert actions(store, station.id) == [("create", "a")]
    assert store.get(station.id) == station


def test_revert_of_an_update_restores_the_before_state(store, layers):
    station = open_stations(layers, 1)[0]
    store.put(station, actor="a")
    store.put(station.with_changes(name="错的名字", services=()), actor="b")
    update = store.history(station.id)[0]
    assert store.revert(station.id, update.seq, actor="editor") == station
    assert store.get(station.id) == station
    newest = store.history(station.id)[0]
    assert (newest.action, newest.actor, newest.before, newest.after) == ("revert", "editor", update.after, station)
    hit = store.nearest(NearestQuery(lon=station.lon, lat=station.lat, k=1))
    assert hit[0].station == station


def test_revert_of_a_delete_recreates_and_of_a_create_deletes(store, layers):
    station = open_stations(layers, 1)[0]
    store.put(station, actor="a")
    create_seq = store.history(station.id)[0].seq
    store.delete(station.id, actor="b")
    delete_seq = store.history(station.id)[0].seq
    assert store.revert(station.id, delete_seq, actor="c") == station
    assert store.get(station.id) == station
    assert store.nearest(NearestQuery(lon=station.lon, lat=station.lat, k=1))[0].station.id == station.id
    assert store.revert(station.id, create_seq, actor="d") is None
    with pytest.raises(StationNotFound):
        store.get(station.id)
    assert store.nearest(NearestQuery(lon=station.lon, lat=station.lat, k=1)) == []
    assert actions(store, station.id) == [("revert", "d"), ("revert", "c"), ("delete", "b"), ("create", "a")]


def test_revert_checks_the_sequence_number(store, layers):
    one, two = open_stations(layers, 2)
    store.put(one, actor="a")
    store.put(two, actor="a")
    seq_two = store.history(two.id)[0].seq
    with pytest.raises(Conflict):
        store.revert(one.id, seq_two, actor="x")
    with pytest.raises(AuditEntryNotFound):
        store.revert(one.id, seq_two + 1000, actor="x")
    for bad in (0, -1, 2**63, "1", 1.0, True):
        with pytest.raises(InvalidQuery):
            store.revert(one.id, bad, actor="x")
    assert actions(store, one.id) == [("create", "a")]
