"""The PostGIS store against a real cluster: schema, faults, replicas, and the embedded store as oracle."""
from __future__ import annotations

import random
import threading
import time
from datetime import datetime

import pytest

from geo.hours import SHANGHAI
from layers.embedded.store import EmbeddedStore
from layers.errors import Conflict, InvalidQuery, StationNotFound, StoreUnavailable
from layers.postgis.reads import KNN_SPHERE_RADIUS_M
from layers.postgis.store import PostgisStore, migrations, upgrade
from layers.store import NearestQuery
from tests.pgfixtures import PgCluster, run_sql, start_cluster
from tests.stations import ORIGINS, random_stations

N_STATIONS = 3000


def pairs(hits):
    return [(h.station.id, h.distance_m) for h in hits]


@pytest.fixture(scope="module")
def stations(layers):
    return random_stations(layers, N_STATIONS, seed=21)


@pytest.fixture(scope="module")
def both(postgis_module_url, layers, stations, tmp_path_factory):
    """The same stations in a PostGIS store and in an embedded store."""
    pg = PostgisStore(postgis_module_url, layers, seed=stations)
    embedded = EmbeddedStore(tmp_path_factory.mktemp("embedded"), layers, seed=stations)
    yield pg, embedded
    pg.close()
    embedded.close()


# ---- schema ------------------------------------------------------------------------------
def test_postgis_extension_exists(postgis_url, layers):
    PostgisStore(postgis_url, layers).close()
    (version,), = run_sql(postgis_url, "SELECT postgis_full_version()")
    assert "POSTGIS=" in version
    (geog_type,), = run_sql(postgis_url, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                                      "WHERE attrelid = 'stations'::regclass AND attname = 'geog'")
    assert geog_type == "geography(Point,4326)"


def test_upgrade_creates_postgis_in_a_plain_database_once(pg_cluster):
    url = pg_cluster.create_database("plain_upgrade")  # from template1: no postgis yet
    try:
        assert upgrade(url) == [v for v, _ in migrations()]
        assert upgrade(url) == []
        assert run_sql(url, "SELECT extname FROM pg_extension WHERE extname = 'postgis'") == [("postgis",)]
        assert [r[0] for r in run_sql(url, "SELECT version FROM schema_migrations ORDER BY 1")] == ["0001", "0002", "0003", "0004", "0005"]
    finally:
        pg_cluster.drop_database("plain_upgrade")


def test_missing_postgis_permission_is_store_unavailable(pg_cluster, layers):
    url = pg_cluster.create_database("plain_noext")
    pg_cluster.execute("DO $$BEGIN CREATE ROLE yizhan_app LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$")
    pg_cluster.execute('GRANT ALL ON DATABASE "plain_noext" TO yizhan_app')
    try:
        with pytest.raises(StoreUnavailable, match="PostGIS extension cannot be created"):
            PostgisStore(url.replace("postgres@", "yizhan_app@"), layers)
    finally:
        pg_cluster.drop_database("plain_noext")


def test_knn_operator_measures_the_mean_radius_sphere(postgis_url, layers):
    """`<->` on geography is great-circle distance on a sphere of radius KNN_SPHERE_RADIUS_M."""
    PostgisStore(postgis_url, layers).close()
    (d,), = run_sql(postgis_url, "SELECT 'SRID=4326;POINT(0 0)'::geography <-> 'SRID=4326;POINT(90 0)'::geography")
    assert d == pytest.approx(KNN_SPHERE_RADIUS_M * 3.141592653589793 / 2, rel=1e-12)


# ---- the embedded store as oracle ----------------------------------------------------------
def test_same_answers_as_embedded_store(both, layers):
    pg, embedded = both
    rng = random.Random(5)
    centres = [(106.71, 26.58), (121.23, 28.14), (113.75, 23.02), (87.6, 43.8), (100.0, 30.0)]
    layer_sets = [(), ("rest_station",), ("rights_post", "service_window"), ("worker_center",)]
    for _ in range(300):
        cx, cy = rng.choice(centres)
        lids = rng.choice(layer_sets)
        vocab = sorted({w for lid in (lids or layers) for w in layers[lid].services})
        query = NearestQuery(
            lon=cx + rng.gauss(0, 1), lat=cy + rng.gauss(0, 1), k=rng.randint(1, 40), layers=lids,
            services=tuple(rng.sample(vocab, rng.choice([0, 0, 1, 2]))), open_now=rng.random() < 0.3,
            at=datetime(2026, 11, 27, rng.randint(0, 23), 30, tzinfo=SHANGHAI),
            radius_m=rng.choice([None, None, 2000.0, 50_000.0, 400_000.0]),
            origin=rng.choice([None, None, rng.choice(ORIGINS)]),
        )
        assert pairs(pg.nearest(query)) == pairs(embedded.nearest(query)), query


def test_within_same_as_embedded_store(both):
    pg, embedded = both
    for lon, lat, radius, lids in [(106.71, 26.58, 5000, ()), (121.23, 28.14, 40000, ("rest_station",)),
                                   (100.0, 30.0, 1000, ()), (113.75, 23.02, 0.5, ())]:
        assert pairs(pg.within(lon, lat, radius, lids)) == pairs(embedded.within(lon, lat, radius, lids))


def test_bbox_pages_equal_brute_force(both, stations):
    pg, _ = both
    for box, lids, limit, offset in [((106.0, 26.0, 107.5, 27.2), (), 37, 74), (None, (), 50, 100),
                                     ((120, 27, 122, 29), ("worker_center",), 1000, 0),
                                     ((0, 0, 1, 1), (), 10, 0), ((106.0, 26.0, 107.5, 27.2), (), 10, 10**6)]:
        inside = sorted((s for s in stations if s.status != "removed" and (not lids or s.layer in lids)
                         and (box is None or (box[0] <= s.lon <= box[2] and box[1] <= s.lat <= box[3]))),
                        key=lambda s: s.id)
        page = pg.in_bbox(box, lids, limit, offset)
        assert (page.number_matched, page.stations) == (len(inside), tuple(inside[offset: offset + limit]))


def test_points_on_the_bbox_edge_are_inside(both, stations):
    pg, _ = both
    s = next(s for s in stations if s.status == "open")
    page = pg.in_bbox((s.lon, s.lat, s.lon, s.lat))
    assert s.id in [x.id for x in page.stations]


def test_bad_queries_are_invalid(both):
    pg, _ = both
    with pytest.raises(InvalidQuery):
        pg.nearest(NearestQuery(lon=106.7, lat=26.5, layers=("no_such_layer",)))
    with pytest.raises(InvalidQuery):
        pg.nearest(NearestQuery(lon=106.7, lat=95))
    with pytest.raises(InvalidQuery):
        pg.in_bbox((107, 26, 106, 27))


def test_concurrent_reads_share_the_pool(both):
    pg, embedded = both
    query = NearestQuery(lon=106.7, lat=26.6, k=10)
    expected = pairs(embedded.nearest(query))
    results, errors = [], []

    def reader():
        try:
            for _ in range(20):
                results.append(pairs(pg.nearest(query)))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 240 and all(r == expected for r in results)


# ---- writes ---------------------------------------------------------------------------------
def test_awkward_text_round_trips(postgis_url, layers):
    store = PostgisStore(postgis_url, layers)
    base = random_stations(layers, 1, seed=4)[0]
    odd = base.with_changes(
        id="odd-1", name='名\t"引号" \\ 反斜杠\n换行', address="{a,b}", items=('a,"b"', "c\\d", "{}", "NULL", ""),
        operator=r"\N", verified_at="2025-02-28", lon=-179.999999999, lat=-89.5,
    )
    store.import_rows([odd, base])
    assert store.get("odd-1") == odd
    assert store.get(base.id) == base
    store.put(odd.with_changes(id="odd-2"))
    assert store.get("odd-2") == odd.with_changes(id="odd-2")
    store.import_rows([odd.with_changes(id="odd-3")])  # a non-empty table: through the temporary table
    assert store.get("odd-3") == odd.with_changes(id="odd-3")
    assert [s.id for s in store.iter_all()] == sorted(["odd-1", "odd-2", "odd-3", base.id])
    store.close()


def test_import_counts_like_the_embedded_store(postgis_url, layers, tmp_path):
    batch = random_stations(layers, 30, seed=8)
    dupes = batch[:20] + [batch[3].with_changes(name="第二版")] + batch[20:]
    pg = PostgisStore(postgis_url, layers, seed=batch[:5])
    embedded = EmbeddedStore(tmp_path, layers, seed=batch[:5])
    a, b = pg.import_rows(dupes), embedded.import_rows(dupes)
    assert (a.inserted, a.updated, a.unchanged, a.ids) == (b.inserted, b.updated, b.unchanged, b.ids) \
        == (25, 2, 4, tuple(s.id for s in dupes))
    assert pg.get(batch[3].id).name == "第二版"
    with pytest.raises(Conflict):
        pg.put(batch[0], create_only=True)
    assert pg.put(batch[0].with_changes(id="brand-new"), create_only=True) is True
    with pytest.raises(StationNotFound):
        pg.delete("missing")
    pg.close()
    embedded.close()


def test_bulk_import_rebuilds_the_indexes(postgis_url, layers, monkeypatch):
    from layers.postgis import store as postgis

    monkeypatch.setattr(postgis, "BULK_ROWS", 100)
    batch = random_stations(layers, 600, seed=13)
    store = PostgisStore(postgis_url, layers, seed=batch[:10])
    before = run_sql(postgis_url, "SELECT indexdef FROM pg_indexes WHERE tablename = 'stations' ORDER BY 1")
    result = store.import_rows(batch[5:])
    assert (result.inserted, result.updated, result.unchanged) == (590, 0, 5)
    assert run_sql(postgis_url, "SELECT indexdef FROM pg_indexes WHERE tablename = 'stations' ORDER BY 1") == before
    target = next(s for s in batch[300:] if s.status != "removed")
    assert store.nearest(NearestQuery(lon=target.lon, lat=target.lat, k=1))[0].station == target
    store.close()


def test_seed_only_fills_an_empty_table(postgis_url, layers):
    first = random_stations(layers, 40, seed=1)
    PostgisStore(postgis_url, layers, seed=first).close()
    store = PostgisStore(postgis_url, layers, seed=random_stations(layers, 90, seed=2))
    assert store.count() == 40
    store.close()


# ---- faults ---------------------------------------------------------------------------------
@pytest.fixture
def own_cluster():
    """A cluster of this test's own, to be stopped and started without disturbing the others."""
    cluster = start_cluster()
    yield cluster
    cluster.cleanup()


def test_store_survives_the_database_going_away(own_cluster, layers):
    url = own_cluster.create_database("faults")
    store = PostgisStore(url, layers, seed=random_stations(layers, 200, seed=9))
    query = NearestQuery(lon=106.71, lat=26.58, k=3)
    before = pairs(store.nearest(query))
    own_cluster.stop("immediate")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        store.nearest(query)
    assert time.monotonic() - started < 2
    health = store.health()
    assert health["ok"] is False and health["kind"] == "postgis" and "error" in health
    assert time.monotonic() - started < 5
    own_cluster.start()
    assert pairs(store.nearest(query)) == before  # same store object, no restart
    assert store.health()["ok"] is True
    # Restart without any call in between: pooled connections are stale, the read retries.
    own_cluster.stop("immediate")
    own_cluster.start()
    assert pairs(store.nearest(query)) == before
    store.close()


def test_down_at_start_is_store_unavailable(layers):
    url = f"postgresql://postgres@127.0.0.1:{_unused_port()}/nothing"
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="cannot connect"):
        PostgisStore(url, layers)
    assert time.monotonic() - started < 3


def _unused_port() -> int:
    from tests.pgfixtures import free_port

    return free_port()


# ---- replicas -------------------------------------------------------------------------------
def test_reads_go_to_a_hot_standby(own_cluster, layers):
    url = own_cluster.create_database("replicated")
    upgrade(url)
    standby: PgCluster = own_cluster.make_standby()
    try:
        standby.start()
        standby.wait_ready()
        store = PostgisStore(url, layers, read_urls=(standby.url_for("replicated"),))
        station = random_stations(layers, 1, seed=12)[0].with_changes(id="via-primary", status="open")
        assert store.put(station) is True
        deadline = time.monotonic() + 30
        while True:
            try:
                assert store.get("via-primary") == station
                break
            except StationNotFound:
                assert time.monotonic() < deadline, "the standby never showed the write"
                time.sleep(0.05)
        replica = store.health()["replicas"][0]
        assert replica["ok"] is True and replica["standby"] is True
        own_cluster.stop("fast")  # reads keep working from the standby; writes cannot
        assert store.get("via-primary") == station
        assert [h.station.id for h in store.nearest(NearestQuery(lon=station.lon, lat=station.lat, k=1))] \
            == ["via-primary"]
        with pytest.raises(StoreUnavailable):
            store.delete("via-primary")
        store.close()
    finally:
        standby.cleanup()


def test_knn_distance_matches_postgis(postgis_url, layers):
    """The store's own `<->` (for its exactness floor) agrees with PostGIS, far and near."""
    from layers.postgis.reads import knn_distance_m

    PostgisStore(postgis_url, layers).close()
    rng = random.Random(3)
    for i in range(200):
        lon, lat = rng.uniform(-180, 180), rng.uniform(-89, 89)
        scale = [1e-7, 1e-4, 0.1, 10, 200][i % 5]
        lon2, lat2 = max(-180, min(180, lon + rng.gauss(0, scale))), max(-90, min(90, lat + rng.gauss(0, scale)))
        (d,), = run_sql(postgis_url, "SELECT ST_MakePoint(%s, %s)::geography <-> ST_MakePoint(%s, %s)::geography",
                     (lon, lat, lon2, lat2))
        assert knn_distance_m(lon, lat, lon2, lat2) == pytest.approx(d, rel=1e-10, abs=1e-6)
