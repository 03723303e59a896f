"""Stored rows in memory: a row read back is exactly the Station that was written."""
from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from layers.memory.stored_rows import StoredRows, row_of, station_from_row
from layers.model import STATION_FIELDS, Station

texts = st.one_of(st.none(), st.text(max_size=12))
words = st.lists(st.text(min_size=1, max_size=6), max_size=3).map(tuple)
stations = st.builds(
    Station, id=st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), lon=st.floats(-180, 180), lat=st.floats(-90, 90),
    name=st.text(min_size=1, max_size=10), layer=st.sampled_from(["rest_station", "rights_post"]), name_en=texts,
    address=texts, adcode=st.one_of(st.none(), st.just("520102")), phone=texts, hours=texts, services=words,
    access=st.sampled_from(["open", "staff"]), status=st.sampled_from(["open", "removed"]), origins=words, items=words,
    operator=texts, source=texts, verified_at=st.one_of(st.none(), st.just("2026-01-02")))


@settings(max_examples=400, deadline=None)
@given(stations)
def test_a_row_reads_back_as_the_same_station_field_for_field(station):
    back = station_from_row(*row_of(station))
    assert back == station and hash(back) == hash(station) and repr(back) == repr(station)
    assert [getattr(back, f) for f in STATION_FIELDS] == [getattr(station, f) for f in STATION_FIELDS]
    assert all(type(getattr(back, f)) is type(getattr(station, f)) for f in ("services", "origins", "items"))
    assert dataclasses.replace(back, name="x") == dataclasses.replace(station, name="x")


def test_the_table_follows_puts_and_removals():
    table = StoredRows()
    a = Station(id="a", lon=1.0, lat=2.0, name="甲", layer="rest_station", services=("water",))
    b = Station(id="b", lon=3.0, lat=4.0, name="乙", layer="rights_post")
    table.replace_all([row_of(a), row_of(b)])
    assert table.stations(["b", "a", "nobody"]) == {"a": a, "b": b} and len(table) == 2
    moved = a.with_changes(lon=5.0)
    table.put_many([row_of(moved)])
    table.remove("b")
    assert table.stations(["a", "b"]) == {"a": moved}
    table.replace_all([])
    assert len(table) == 0
