"""Imports of real files into real stores (embedded and PostGIS): formats, CRS, encodings, every
kind of rejected row (nothing written), dry runs, and export -> import being a no-op."""
from __future__ import annotations

import json

import numpy as np
import pytest

from geo.crs import from_wgs84
from geo.distance import destination, geodesic_m
from layers.embedded.store import EmbeddedStore
from layers.ingest.coords import CrsConflict
from layers.ingest.csv_file import read_csv
from layers.ingest.export import csv_chunks, exported, geojson_chunks, write_gpkg
from layers.ingest.importer import check_table, import_table
from layers.ingest.read import read_body, read_file
from layers.ingest.seed import SAMPLE_STATIONS, read_geojson_stations
from layers.ingest.table import InvalidImportFile
from layers.model import Station
from tests.ingest_files import KNOWN, csv_bytes, rows_in, write_file

STORES = ["embedded", "postgis"]


@pytest.fixture(params=STORES)
def store(request, tmp_path_factory, layers):
    """An empty store of each kind."""
    if request.param == "embedded":
        made = EmbeddedStore(tmp_path_factory.mktemp("embedded"), layers, seed=None)
    else:
        from layers.postgis.store import PostgisStore

        made = PostgisStore(request.getfixturevalue("postgis_url"), layers, seed=None)
    yield made
    made.close()


def assert_at_known_positions(store) -> None:
    for sid, _, _, lon, lat, _, _ in KNOWN:
        got = store.get(sid)
        assert geodesic_m(lon, lat, got.lon, got.lat) < 0.5, (sid, got.lon, got.lat)


@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "bd09"])
@pytest.mark.parametrize("fmt", ["csv", "geojson", "gpkg", "shp"])
def test_each_format_in_each_crs_lands_at_the_known_wgs84_point(store, tmp_path, fmt, crs):
    label = "EPSG:4326" if crs == "wgs84" else None  # GCJ-02/BD-09 have no EPSG code: the file carries none
    path = write_file(rows_in(crs), fmt, tmp_path, crs_label=label)
    report = import_table(read_file(path), store, crs=crs, actor="test")
    assert report.ok and report.written, report.rejected
    assert (report.inserted, report.updated, report.unchanged) == (len(KNOWN), 0, 0)
    assert report.format == fmt and report.crs == crs
    assert_at_known_positions(store)
    assert store.get("imp-gy-1").services == ("toilet", "hot_water")


def test_gbk_csv_with_chinese_headers(store):
    header = ("编号", "名称", "类型", "经度", "纬度", "服务项目", "开放时间")
    body = csv_bytes(rows_in("gcj02"), encoding="gbk", header=header)
    table = read_csv(body)
    assert table.encoding == "gb18030"
    report = import_table(table, store, crs="gcj02")
    assert report.ok, report.rejected
    assert store.get("imp-gy-1").name == "南明区测试驿站"
    assert_at_known_positions(store)


def test_utf8_bom_csv_with_variant_headers_and_list_separators(store):
    rows = rows_in("wgs84")
    rows[0]["services"] = "toilet、热水"  # 、 and a word's Chinese label
    header = ("id", "name", "layer", "lng", "Latitude", "services", "opening_hours")
    report = import_table(read_csv(csv_bytes(rows, "utf-8-sig", header)), store)
    assert report.ok and report.encoding == "utf-8", report.rejected
    assert store.get("imp-gy-1").services == ("toilet", "hot_water")


def test_epsg_4490_and_a_projected_cgcs2000_zone(store):
    from pyproj import Transformer

    rows = rows_in("wgs84")
    report = import_table(read_csv(csv_bytes(rows)), store, crs="EPSG:4490")
    assert report.ok and report.crs == "EPSG:4490"
    assert_at_known_positions(store)  # CGCS2000 and WGS-84 agree to well under 0.5 m
    to_zone = Transformer.from_crs("EPSG:4326", "EPSG:4545", always_xy=True)  # CGCS2000 3-degree GK CM 105E
    near = [dict(r) for r in rows if r["id"] == "imp-gy-1"]
    near[0]["lon"], near[0]["lat"] = (float(v) for v in to_zone.transform(near[0]["lon"], near[0]["lat"]))
    report = import_table(read_csv(csv_bytes(near)), store, crs="EPSG:4545")
    assert report.ok and report.inserted == 0, report.rejected
    assert_at_known_positions(store)


def test_a_file_crs_that_conflicts_with_the_declared_one(store, tmp_path):
    path = write_file(rows_in("gcj02"), "gpkg", tmp_path, crs_label="EPSG:4326")  # GCJ-02 labelled WGS-84
    with pytest.raises(CrsConflict, match="force"):
        import_table(read_file(path), store, crs="gcj02")
    assert store.count() == 0
    report = import_table(read_file(path), store, crs="gcj02", force_crs=True)
    assert report.ok
    assert_at_known_positions(store)


BAD_ROWS = [  # (row change, expected (field, code))
    ({"lon": ""}, ("lon", "missing_coordinates")),
    ({"lat": "北纬26"}, ("lat", "invalid_coordinates")),
    ({"lon": 26.575633, "lat": 106.709974}, ("lat", "swapped_coordinates")),
    ({"lon": 2.35, "lat": 48.85}, ("lon", "outside_china")),
    ({"layer": "bus_stop"}, ("layer", "unknown_layer")),
    ({"services": "toilet;legal_aid"}, ("services", "unknown_service")),
    ({"hours": "Mo-Fr 25:00-26:00"}, ("hours", "invalid_hours")),
    ({"id": "imp-yh-1"}, ("id", "duplicate_id")),
    ({"name": "南明区测试驿站", "id": "imp-gy-2"}, ("name", "likely_duplicate")),
]


@pytest.mark.parametrize(("change", "expected"), BAD_ROWS, ids=[e[1] for _, e in BAD_ROWS])
def test_each_kind_of_bad_row_is_reported_and_nothing_is_written(store, change, expected):
    rows = rows_in("wgs84")
    bad = {**rows[0], "id": "imp-bad-1", "name": "另一个测试站", **change}
    if expected[1] == "likely_duplicate":
        bad["lon"], bad["lat"] = destination(rows[0]["lon"], rows[0]["lat"], 45.0, 7.0)  # 7 m away
    body = csv_bytes([*rows, bad])
    report = import_table(read_csv(body), store, actor="test")
    assert not report.ok and not report.written
    assert [(e["line"], e["field"], e["code"]) for e in report.rejected] == [(len(rows) + 2, *expected)]
    assert report.rows_rejected == 1 and report.to_json()["rows_valid"] == len(rows)
    assert store.count() == 0


def test_likely_duplicate_of_a_stored_station_and_allowing_it(store):
    import_table(read_csv(csv_bytes(rows_in("wgs84"))), store)
    near = dict(rows_in("wgs84")[0], id="imp-gy-9")
    near["lon"], near["lat"] = destination(near["lon"], near["lat"], 200.0, 9.0)
    report = import_table(read_csv(csv_bytes([near])), store)
    assert [(e["line"], e["code"]) for e in report.rejected] == [(2, "likely_duplicate")]
    assert "imp-gy-1" in report.rejected[0]["message"]
    far = dict(near)
    far["lon"], far["lat"] = destination(near["lon"], near["lat"], 200.0, 12.0)  # 21 m from the stored one
    assert import_table(read_csv(csv_bytes([far])), store, dry_run=True).ok
    allowed = import_table(read_csv(csv_bytes([near])), store, allow_duplicates=True)
    assert allowed.ok and allowed.inserted == 1 and allowed.warnings[0]["code"] == "likely_duplicate"


def test_every_bad_row_of_one_file_is_listed(store):
    rows = rows_in("wgs84")
    rows[1]["lat"] = ""
    rows[2]["hours"] = "whenever"
    rows[3]["layer"] = ""
    report = import_table(read_csv(csv_bytes(rows)), store)
    assert [(e["line"], e["field"], e["code"]) for e in report.rejected] == [
        (3, "lat", "missing_coordinates"), (4, "hours", "invalid_hours"), (5, "layer", "missing_value")]
    assert report.rejected[0]["id"] == "imp-yh-1"
    assert store.count() == 0


def test_default_layer_fills_blanks_and_refuses_another(store):
    rows = [dict(r, layer="") for r in rows_in("wgs84") if r["layer"] == "rest_station"]
    assert import_table(read_csv(csv_bytes(rows)), store, layer="rest_station").ok
    rows[0]["layer"] = "rights_post"
    report = import_table(read_csv(csv_bytes(rows)), store, layer="rest_station")
    assert [e["code"] for e in report.rejected] == ["layer_conflict"]


def test_dry_run_writes_nothing(store):
    report = import_table(read_csv(csv_bytes(rows_in("bd09"))), store, crs="bd09", dry_run=True)
    assert report.ok and report.dry_run and not report.written and report.inserted is None
    assert store.count() == 0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_unreadable_files_are_refused_as_a_whole(tmp_path):
    with pytest.raises(InvalidImportFile, match="lon and lat"):
        read_csv(b"id,name\nx,y\n")
    with pytest.raises(InvalidImportFile):
        read_body(b'{"type": "Feature"', "application/geo+json")
    (tmp_path / "bad.gpkg").write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    with pytest.raises(InvalidImportFile):
        read_file(tmp_path / "bad.gpkg")


def test_checked_rows_equal_what_the_model_makes(layers):
    """The column-wise checks give exactly the Station validate_station gives (sample data set)."""
    expected = list(read_geojson_stations(SAMPLE_STATIONS, layers))
    checked = check_table(read_file(SAMPLE_STATIONS), layers)
    assert checked.report.ok
    assert checked.stations() == expected


def _bytes(chunks) -> bytes:
    return b"".join(chunks)


@pytest.mark.parametrize("fmt", ["csv", "geojson", "gpkg"])
def test_export_then_import_is_a_no_op(store, layers, tmp_path, fmt):
    sample = list(read_geojson_stations(SAMPLE_STATIONS, layers))[:1500]
    sample[0] = sample[0].with_changes(name="=HYPERLINK(1)", phone="+86 851 8698 7660")  # Excel-escaped
    sample[1] = sample[1].with_changes(status="removed")
    store.import_rows(sample, actor="seed")
    before = list(store.iter_all())
    path = tmp_path / f"out.{fmt}"
    if fmt == "gpkg":
        write_gpkg(exported(store, include_removed=True), path)
    else:
        chunks = csv_chunks if fmt == "csv" else geojson_chunks
        path.write_bytes(_bytes(chunks(exported(store, include_removed=True))))
    report = import_table(read_file(path), store, actor="again")
    assert report.ok, report.rejected[:3]
    assert (report.inserted, report.updated, report.unchanged) == (0, 0, len(sample))
    assert list(store.iter_all()) == before


def test_export_leaves_out_removed_stations_and_filters_layers(store, layers):
    stations = [Station(id=f"x{i}", lon=106.7 + i / 100, lat=26.5, name=f"站{i}", layer=layer,
                        status="removed" if i == 0 else "open")
                for i, layer in enumerate(["rest_station", "rest_station", "rights_post"])]
    store.import_rows(stations)
    assert [s.id for s in exported(store)] == ["x1", "x2"]
    assert [s.id for s in exported(store, ("rights_post",))] == ["x2"]
    doc = json.loads(_bytes(geojson_chunks(exported(store, include_removed=True))))
    assert [f["id"] for f in doc["features"]] == ["x0", "x1", "x2"]
    text = _bytes(csv_chunks(exported(store))).decode("utf-8")
    assert text.startswith("\ufeffid,layer,name") and text.count("\r\n") == 3


def test_many_rows_stay_linear_and_find_close_same_name_pairs(layers):
    """20,000 rows, 3 planted duplicates among many same-name rows farther apart than 10 m."""
    rng = np.random.default_rng(7)
    n = 20_000
    lon, lat = rng.uniform(100, 120, n).tolist(), rng.uniform(22, 40, n).tolist()
    names = [f"驿站{i % 50}" for i in range(n)]
    lines = ["id,name,layer,lon,lat"] + [f"r{i},{names[i]},rest_station,{lon[i]!r},{lat[i]!r}" for i in range(n)]
    for k, i in enumerate((10, 500, 7000)):
        x, y = destination(lon[i], lat[i], 90.0, 3.0 + k)
        lines.append(f"d{k},{names[i]},rest_station,{x!r},{y!r}")
    checked = check_table(read_csv(("\n".join(lines) + "\n").encode()), layers)
    found = [(e["line"], e["code"]) for e in checked.report.rejected]
    assert found == [(n + 2, "likely_duplicate"), (n + 3, "likely_duplicate"), (n + 4, "likely_duplicate")]


def test_gcj02_round_trip_is_sub_millimetre(layers):
    rows = rows_in("gcj02")
    checked = check_table(read_csv(csv_bytes(rows)), layers, crs="gcj02")
    for sid, _, _, lon, lat, _, _ in KNOWN:
        i = list(checked.values["id"]).index(sid)
        assert geodesic_m(lon, lat, checked.values["lon"][i], checked.values["lat"][i]) < 0.001
    assert from_wgs84(KNOWN[0][3], KNOWN[0][4], "gcj02") != (KNOWN[0][3], KNOWN[0][4])


def test_a_small_file_against_a_large_store_asks_the_store_per_row(store):
    """Few rows, many stored stations: the store's own `within` finds the stored twin."""
    from layers.ingest.dupes import STORE_QUERY_RATIO

    filler = [Station(id=f"f{i:04d}", lon=100 + i * 0.01, lat=30.0, name=f"填充{i}", layer="rest_station")
              for i in range(STORE_QUERY_RATIO + 10)]
    store.import_rows(filler)
    import_table(read_csv(csv_bytes(rows_in("wgs84")[:1])), store)
    near = dict(rows_in("wgs84")[0], id="imp-gy-7")
    near["lon"], near["lat"] = destination(near["lon"], near["lat"], 10.0, 4.0)
    report = import_table(read_csv(csv_bytes([near])), store)
    assert [(e["line"], e["code"]) for e in report.rejected] == [(2, "likely_duplicate")]
    assert "'imp-gy-1'" in report.rejected[0]["message"]


def _without_ids(rows: list[dict]) -> list[dict]:
    return [dict(r, id="") for r in rows]


@pytest.mark.parametrize("fmt", ["csv", "geojson", "gpkg"])
def test_rows_without_ids_get_stable_ids_and_a_second_import_changes_nothing(store, tmp_path, fmt):
    rows = [{k: v for k, v in r.items() if k != "id"} if fmt == "csv" else dict(r, id=None)
            for r in rows_in("gcj02")]
    if fmt == "csv":
        body = csv_bytes(rows, keys=tuple(k for k in ("id", "name", "layer", "lon", "lat", "services", "hours")
                                          if k != "id"), header=("name", "layer", "lon", "lat", "services", "hours"))
        first = import_table(read_csv(body), store, crs="gcj02")
        again = import_table(read_csv(body), store, crs="gcj02")
    else:
        path = write_file(rows, fmt, tmp_path, crs_label=None)  # GCJ-02 has no code
        first = import_table(read_file(path), store, crs="gcj02")
        again = import_table(read_file(path), store, crs="gcj02")
    assert first.ok and first.inserted == len(KNOWN) and first.ids_made == len(KNOWN), first.rejected
    assert again.ok and (again.inserted, again.updated, again.unchanged) == (0, 0, len(KNOWN))
    assert again.ids_made + again.ids_matched == len(KNOWN) and store.count() == len(KNOWN)
    ids = sorted(s.id for s in store.iter_all())
    assert all(sid.split("-")[0] in {r[2] for r in KNOWN} and len(sid.split("-")[1]) == 12 for sid in ids), ids
    guiyang = next(s for s in store.iter_all() if s.name == "南明区测试驿站")
    assert geodesic_m(KNOWN[0][3], KNOWN[0][4], guiyang.lon, guiyang.lat) < 0.5


def test_a_row_without_id_updates_its_stored_twin_and_not_a_twin_of_another_layer(store):
    import_table(read_csv(csv_bytes(rows_in("wgs84"))), store)
    moved = dict(rows_in("wgs84")[0], id="", hours="Mo-Su 06:00-22:00")  # the same 驿站, 6 m away, new hours
    moved["lon"], moved["lat"] = destination(moved["lon"], moved["lat"], 90.0, 6.0)
    report = import_table(read_csv(csv_bytes([moved])), store)
    assert report.ok and (report.inserted, report.updated, report.ids_matched, report.ids_made) == (0, 1, 1, 0)
    assert store.get("imp-gy-1").hours == "Mo-Su 06:00-22:00" and store.count() == len(KNOWN)
    other_layer = dict(moved, layer="rights_post", services="legal_aid")
    report = import_table(read_csv(csv_bytes([other_layer])), store)
    assert [(e["field"], e["code"]) for e in report.rejected] == [("name", "likely_duplicate")]
    assert "imp-gy-1" in report.rejected[0]["message"] and store.count() == len(KNOWN)


def test_two_rows_without_ids_for_one_place_are_refused(store):
    row = dict(rows_in("wgs84")[0], id="")
    report = import_table(read_csv(csv_bytes([row, dict(row)])), store, allow_duplicates=True)
    assert [(e["line"], e["field"], e["code"]) for e in report.rejected] == [(3, "id", "duplicate_id")]
    assert "no id given" in report.rejected[0]["message"] and "line 2" in report.rejected[0]["message"]
    assert store.count() == 0
    unusable = dict(row, lat="")
    report = import_table(read_csv(csv_bytes([unusable])), store)
    assert [(e["field"], e["code"]) for e in report.rejected] == [("lat", "missing_coordinates")]
    assert report.rejected[0]["id"] is None
