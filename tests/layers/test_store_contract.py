"""One contract, every store: each case runs against the embedded store and PostGIS alike."""
from __future__ import annotations

import re
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.hours import SHANGHAI
from layers.embedded.store import EmbeddedStore
from layers.errors import Conflict, InvalidQuery, StationNotFound
from layers.model import Station
from layers.present import hours_summary, station_answer
from layers.store import NearestQuery
from tests.stations import ORIGINS, brute_nearest, random_stations

N_STATIONS = 2500
STORES = ["embedded", "postgis", "postgis-sql"]  # postgis: nearest from its mirror; -sql: by KNN in SQL


def make_store(kind: str, request, tmp_path_factory, layers, seed, db_fixture: str):
    if kind == "embedded":
        return EmbeddedStore(tmp_path_factory.mktemp("embedded"), layers, seed=seed)
    from layers.postgis.store import PostgisStore

    url = request.getfixturevalue(db_fixture)
    return PostgisStore(url, layers, seed=seed, mirror=kind == "postgis")


@pytest.fixture(scope="module", params=STORES)
def loaded(request, tmp_path_factory, layers):
    """A store holding N_STATIONS random stations, shared by the read-only cases."""
    stations = random_stations(layers, N_STATIONS)
    store = make_store(request.param, request, tmp_path_factory, layers, stations, "postgis_module_url")
    yield store, stations
    store.close()


@pytest.fixture(params=STORES)
def fresh(request, tmp_path_factory, layers):
    """An empty store for the write cases."""
    store = make_store(request.param, request, tmp_path_factory, layers, None, "postgis_url")
    yield store
    store.close()


def ids_and_distances(hits):
    return [(h.station.id, h.distance_m) for h in hits]


queries = st.builds(
    dict,
    lon=st.floats(73, 135), lat=st.floats(18, 53),
    k=st.integers(1, 30),
    layers=st.sampled_from([(), ("rest_station",), ("rights_post", "service_window"), ("worker_center",)]),
    services=st.sampled_from([(), ("toilet",), ("legal_aid",), ("hot_water", "toilet")]),
    open_now=st.booleans(),
    radius_m=st.one_of(st.none(), st.floats(100, 300_000)),
    origin=st.one_of(st.none(), st.sampled_from(ORIGINS)),
    hour=st.integers(0, 23),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=queries)
def test_nearest_equals_brute_force(loaded, q):
    store, stations = loaded
    hour = q.pop("hour")
    at = datetime(2026, 11, 27, hour, 30, tzinfo=SHANGHAI)
    services = q.pop("services")
    layer_ids = q["layers"] or tuple(store.layers)
    # a service filter only makes sense for layers whose vocabulary has every word
    if services and not any(set(services) <= set(store.layers[lid].services) for lid in layer_ids):
        services = ()
    query = NearestQuery(services=services, at=at, **q)
    assert ids_and_distances(store.nearest(query)) == brute_nearest(stations, query, at)


def test_nearest_near_points_close_together(loaded):
    """Cluster points 2 m apart: degrees and the sphere disagree with the ellipsoid there."""
    store, stations = loaded
    at = datetime(2026, 11, 27, 10, tzinfo=SHANGHAI)
    for s in stations[:40]:
        query = NearestQuery(lon=s.lon + 1e-5, lat=s.lat - 1e-5, k=10, at=at)
        assert ids_and_distances(store.nearest(query)) == brute_nearest(stations, query, at)


def test_never_fewer_than_k_when_k_match(loaded):
    store, stations = loaded
    at = datetime(2026, 11, 27, 3, tzinfo=SHANGHAI)
    query = NearestQuery(lon=106.71, lat=26.58, k=25, layers=("service_window",), open_now=True, at=at)
    expected = brute_nearest(stations, query, at)
    assert len(expected) == 25 or len(expected) == len([s for s in stations if s.layer == "service_window"])
    assert ids_and_distances(store.nearest(query)) == expected


def test_unknown_layer_is_invalid_query(loaded):
    store, _ = loaded
    with pytest.raises(InvalidQuery):
        store.nearest(NearestQuery(lon=106.7, lat=26.5, layers=("no_such_layer",)))


def test_within_equals_brute_force(loaded):
    store, stations = loaded
    at = datetime(2026, 11, 27, 10, tzinfo=SHANGHAI)
    for lon, lat, radius in [(106.71, 26.58, 5000), (121.23, 28.14, 40000), (100.0, 30.0, 1000)]:
        got = [(h.station.id, h.distance_m) for h in store.within(lon, lat, radius)]
        query = NearestQuery(lon=lon, lat=lat, k=10**6, radius_m=radius)
        assert got == brute_nearest(stations, query, at)


def test_bbox_paging(loaded):
    store, stations = loaded
    box = (106.0, 26.0, 107.5, 27.2)
    inside = sorted(s.id for s in stations if box[0] <= s.lon <= box[2] and box[1] <= s.lat <= box[3]
                    and s.status != "removed")
    seen = []
    offset = 0
    while True:
        page = store.in_bbox(box, limit=37, offset=offset)
        assert page.number_matched == len(inside)
        seen += [s.id for s in page.stations]
        if not page.stations:
            break
        offset += 37
    assert seen == inside
    only = store.in_bbox(box, layers=("rights_post",), limit=1000)
    assert [s.id for s in only.stations] == [sid for sid in inside if sid in
                                             {s.id for s in stations if s.layer == "rights_post"}]


def test_get_round_trips_every_field(loaded):
    store, stations = loaded
    for s in stations[::250]:
        assert store.get(s.id) == s
    with pytest.raises(StationNotFound):
        store.get("no-such-id")


def test_count_and_iter_all(loaded):
    store, stations = loaded
    assert store.count() == len(stations)
    assert [s.id for s in store.iter_all()] == sorted(s.id for s in stations)
    assert store.health()["ok"] is True


def test_put_get_delete(fresh, layers):
    station = random_stations(layers, 1, seed=3)[0]
    assert fresh.put(station) is True
    assert fresh.get(station.id) == station
    moved = station.with_changes(lon=station.lon + 0.01, name="改名后")
    assert fresh.put(moved) is False
    assert fresh.get(station.id) == moved
    hit = fresh.nearest(NearestQuery(lon=moved.lon, lat=moved.lat, k=1))
    assert [h.station.id for h in hit] == ([moved.id] if moved.status != "removed" else [])
    with pytest.raises(Conflict):
        fresh.put(moved, create_only=True)
    fresh.delete(station.id)
    with pytest.raises(StationNotFound):
        fresh.get(station.id)
    with pytest.raises(StationNotFound):
        fresh.delete(station.id)
    assert fresh.nearest(NearestQuery(lon=moved.lon, lat=moved.lat, k=1)) == []


def test_writes_visible_to_nearest_at_once(fresh, layers):
    stations = [s.with_changes(status="open") for s in random_stations(layers, 300, seed=11)]
    fresh.import_rows(stations)
    target = stations[17]
    query = NearestQuery(lon=target.lon, lat=target.lat, k=1)
    assert fresh.nearest(query)[0].station.id == target.id
    fresh.delete(target.id)
    assert all(h.station.id != target.id for h in fresh.nearest(query))
    fresh.put(target)
    assert fresh.nearest(query)[0].station.id == target.id


def test_import_is_all_or_nothing(fresh, layers):
    stations = random_stations(layers, 50, seed=5)
    fresh.import_rows(stations[:10])

    def broken():
        yield from stations[10:40]
        raise RuntimeError("the source broke mid-way")

    with pytest.raises(RuntimeError):
        fresh.import_rows(broken())
    assert fresh.count() == 10
    renamed = stations[5].with_changes(name="改了名")
    result = fresh.import_rows([renamed, *stations[6:50]])
    assert (result.inserted, result.updated, result.unchanged) == (40, 1, 4)
    assert fresh.count() == 50
    assert fresh.get(renamed.id) == renamed


HOLIDAY_MOMENTS = [  # (Asia/Shanghai moment, open?) for "Mo-Fr 09:00-17:00; Sa 09:00-12:00; PH off"
    (datetime(2026, 2, 21, 10, 0), False),  # a Saturday inside the 2026 Spring Festival break (issue 23)
    (datetime(2026, 2, 28, 15, 0), True),  # the Saturday worked for Monday 02-23 (调休): Mo hours
    (datetime(2026, 3, 7, 10, 0), True),  # an ordinary Saturday morning
    (datetime(2026, 3, 7, 15, 0), False),
]


@pytest.mark.parametrize(("moment", "expected"), HOLIDAY_MOMENTS, ids=[m.isoformat() for m, _ in HOLIDAY_MOMENTS])
def test_open_now_follows_the_official_holiday_breaks(fresh, moment, expected):
    post = Station(id="rp-110112-0001", lon=116.644648, lat=39.908244, name="通州区法律援助中心", layer="rights_post",
                   hours="Mo-Fr 09:00-17:00; Sa 09:00-12:00; PH off", status="open", source="sample")
    fresh.put(post)
    at = moment.replace(tzinfo=SHANGHAI)
    found = fresh.nearest(NearestQuery(lon=post.lon, lat=post.lat, k=1, open_now=True, at=at))
    assert [h.station.id for h in found] == ([post.id] if expected else [])
    hit = fresh.nearest(NearestQuery(lon=post.lon, lat=post.lat, k=1, at=at))[0]
    assert station_answer(hit.station, at, hit.distance_m)["properties"]["open_now"] is expected


def test_next_open_is_rfc3339_even_before_1901():
    """Asia/Shanghai's offset before 1901 is +08:05:43, which RFC 3339 cannot write (schemathesis found it)."""
    post = Station(id="rp-1", lon=116.6, lat=39.9, name="x", layer="rights_post", hours="Mo-Fr 09:00-17:00",
                   status="open", source="test")
    for moment in (datetime(1394, 4, 4, 6, 59, tzinfo=SHANGHAI), datetime(1, 1, 1, 6, 0, tzinfo=SHANGHAI)):
        text = hours_summary(post, moment)["next_open"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", text), text
        assert datetime.fromisoformat(text) == datetime(moment.year, 1 if moment.year == 1 else 4,
                                                        1 if moment.year == 1 else 4, 9, 0, tzinfo=SHANGHAI)
