"""Navigation links kept with the stored rows are the links nav_links makes, prepared or not."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from geo.nav import nav_from_parts, nav_links, nav_parts
from layers.memory.stored_rows import StoredRows, row_of
from layers.model import Station

texts = st.one_of(st.sampled_from(["站;1:2|3,4", "南明区兴业西路社区法律援助工作站", "a b&c=d", "", "%"]),
                  st.text(max_size=15))


@settings(max_examples=500, deadline=None)
@given(st.floats(70, 140), st.floats(0, 57), texts, st.one_of(st.none(), texts))
def test_parts_make_the_same_links(lon, lat, name, address):
    assert nav_from_parts(nav_parts(lon, lat, name, address)) == nav_links(lon, lat, name, address)


def test_rows_answer_with_links_lazily_and_after_prepare():
    stations = [Station(id=f"s{i}", lon=100 + i, lat=30.0, name=f"站{i};:", layer="rest_station",
                        address=None if i % 2 else f"路{i}号") for i in range(6)]
    lazy, prepared = StoredRows(), StoredRows()
    for table in (lazy, prepared):
        table.replace_all(row_of(s) for s in stations)
    prepared.prepare_nav()
    ids = [s.id for s in stations] + ["absent"]
    want = {s.id: (s, nav_links(s.lon, s.lat, s.name, s.address)) for s in stations}
    assert lazy.stations_with_nav(ids) == want == prepared.stations_with_nav(ids)
    assert lazy.stations_with_nav(ids) == want  # the second time from the kept parts
    moved = stations[0].with_changes(lon=120.5, name="新名")
    lazy.put_many([row_of(moved)])  # a changed row forgets its old links
    assert lazy.stations_with_nav(["s0"])["s0"] == (moved, nav_links(120.5, 30.0, "新名", moved.address))
