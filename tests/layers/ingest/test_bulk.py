"""The bulk load of an import into an empty store (layers.ingest.bulk, embedded_bulk, postgis_bulk): its
column-wise text equals what the row-wise code makes, a chunked check reports exactly what the
check of the whole file did, and a file rejected after chunks were written leaves the store as it was."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.distance import destination
from layers.audit import snapshot_array_json
from layers.embedded.store import _PROPS_FIELDS, _props_json
from layers.ingest import importer as ingest
from layers.ingest.bulk import props_texts
from layers.ingest.check import check_columns
from layers.ingest.coords import check_points, resolve_crs
from layers.ingest.csv_file import read_csv
from layers.ingest.dupes import duplicate_ids
from layers.ingest.hours import check_hours
from layers.ingest.importer import (
    WARNING_CODES,
    ImportReport,
    _duplicate_message,
    _entry,
    _likely_duplicates,
    check_table,
    import_table,
    made_id,
)
from layers.ingest.place import AddressPlacer
from layers.ingest.placing import place_rows, placed_counts
from layers.memory.index import SphereIndex
from layers.model import STATION_FIELDS, Station
from layers.postgis.bulk import audit_copy_text, copy_text
from layers.postgis.rows import COLUMNS, _copy_text
from tests.ingest_files import csv_bytes, rows_in
from tests.layers.test_store_contract import STORES, make_store
from tests.stations import random_stations

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=10)  # any character but lone surrogates
WORDS = st.lists(TEXT.filter(bool), max_size=3).map(tuple)
COORD = st.one_of(st.floats(-180, 180, allow_nan=False), st.integers(-179, 179).map(float),
                  st.sampled_from([1e-05, -0.0, 0.1 + 0.2, 116.0, 1.5e-07]))
STATION = st.builds(Station, id=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.~-]{0,8}", fullmatch=True), lon=COORD,
                    lat=COORD.map(lambda v: v / 2), name=TEXT, layer=st.sampled_from(["rest_station", "rights_post"]),
                    name_en=st.none() | TEXT, address=st.none() | TEXT, phone=st.none() | TEXT,
                    hours=st.none() | st.sampled_from(["24/7", "Mo-Fr 08:00-12:00"]), services=WORDS,
                    status=st.sampled_from(["open", "removed"]), origins=WORDS, items=WORDS,
                    verified_at=st.none() | st.just("2026-03-01"))


def chunk_of(stations: list[Station]) -> dict[str, np.ndarray]:
    """The stations as the columns a check hands to a bulk load."""
    out = {}
    for name in STATION_FIELDS:
        column = np.empty(len(stations), dtype=object)
        column[:] = [getattr(s, name) for s in stations]
        out[name] = column.astype(float) if name in ("lon", "lat") else column
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(STATION, min_size=1, max_size=12))
def test_props_texts_are_the_props_json_of_each_station(stations):
    assert props_texts(chunk_of(stations), _PROPS_FIELDS) == [_props_json(s) for s in stations]


@settings(max_examples=300, deadline=None)
@given(st.lists(STATION, min_size=1, max_size=12))
def test_copy_text_by_columns_is_the_copy_text_of_the_stations(stations):
    assert copy_text(chunk_of(stations), COLUMNS) == _copy_text(stations)


def _copy_unescaped(field: str) -> str:
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\":
            out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}[field[i + 1]])
            i += 2
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(st.lists(STATION, min_size=1, max_size=12), st.none() | TEXT)
def test_audit_copy_lines_hold_each_stations_snapshot_array(stations, actor):
    lines = audit_copy_text(chunk_of(stations), actor).split("\n")
    assert lines[-1] == "" and len(lines) == len(stations) + 1
    for line, station in zip(lines, stations):
        sid, who, action, before, after = line.split("\t")
        assert (sid, action, before) == (station.id, "import", "\\N")
        assert who == ("\\N" if actor is None else actor.translate(str.maketrans(
            {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})))
        assert json.loads(_copy_unescaped(after)) == json.loads(snapshot_array_json(station))


# ---- the chunked check against the check of the whole file (the code before chunks, kept as the oracle)
def reference_check(table, layers, *, crs=None, layer=None, allow_duplicates=False):
    source = resolve_crs(crs, table.file_crs, False)
    n = len(table)
    lon, lat, issues = check_points(table.x, table.y, source)
    issues += [(row, "geometry", "invalid_geometry", why) for row, why in table.geometry_errors.items()]
    values, found = check_columns(table.columns, n, layers, layer)
    issues += found
    values["hours"], values["hours_text"], found = check_hours(table.columns.get("hours", np.full(n, None, object)),
                                                               table.columns.get("hours_text"))
    issues += found
    issues = place_rows(lon, lat, values, issues, AddressPlacer())
    values["lon"], values["lat"] = lon, lat
    ids = values["id"]
    no_id = np.fromiter((v is None for v in ids), bool, n)
    report = ImportReport(table.format, source.name, n, table.position_kind, table.encoding,
                          columns=table.column_map, header_row=table.header_row)
    point_ok = np.isfinite(lon) & np.fromiter((v is not None for v in values["name"]), bool, n)
    named = no_id & point_ok & np.fromiter((v is not None for v in values["layer"]), bool, n)
    for row in np.flatnonzero(named):
        ids[row] = made_id(values["layer"][row], values["name"][row], lon[row], lat[row])
    report.ids_made = int(named.sum())
    dupes = _likely_duplicates(table, values, point_ok, None, named, report)
    target = report.warnings if allow_duplicates else issues
    for row, message in dupes:
        target.append((row, "name", "likely_duplicate", message) if target is issues else
                      _entry(table, ids, row, "name", "likely_duplicate", message))
    id_ok = np.fromiter((isinstance(v, str) and bool(v) for v in ids), bool, n)
    issues += [(row, "id", "duplicate_id", _duplicate_message(table, ids, no_id, row, first))
               for row, first in duplicate_ids(ids, id_ok)]
    warned = [issue for issue in issues if issue[2] in WARNING_CODES]
    issues = [issue for issue in issues if issue[2] not in WARNING_CODES]
    report.rejected = [_entry(table, ids, *issue) for issue in sorted(issues, key=lambda it: (it[0], it[1]))]
    report.warnings += [_entry(table, ids, *issue) for issue in sorted(warned, key=lambda it: (it[0], it[1]))]
    report.placed = placed_counts(values["location_precision"], values.pop("placed"))
    report.warnings[:0] = [{"field": c, "code": "ignored_column", "message": f"column {c!r} is not a station "
                            "field; ignored"} for c in table.ignored_columns]
    return values, report


FIELDS = ("id", "name", "layer", "lon", "lat", "services", "hours", "phone", "adcode", "status", "verified_at",
          "origins", "address")
BREAKS = [  # one way each to spoil a row (None: leave it as it is)
    None, None, None, {"lon": ""}, {"lat": "北纬26"}, {"lon": 26.5, "lat": 106.7}, {"lon": 2.35, "lat": 48.85},
    {"lon": 200.0}, {"layer": "bus_stop"}, {"layer": ""}, {"services": "toilet;legal_aid"}, {"hours": "whenever"},
    {"phone": "call me"}, {"adcode": "12345"}, {"status": "gone"}, {"verified_at": "2026-13-01"},
    {"origins": "520322"}, {"name": ""}, {"name": "x" * 130}, {"address": "a\x01b"}, {"id": "bad id!"},
    {"id": ""}, {"id": "same-id"}, {"twin": True}, {"id": "", "twin": True},
]


def _rows(picks: list[int]) -> list[dict]:
    base = rows_in("wgs84")
    rows, points = [], []
    for i, pick in enumerate(picks):
        row = dict(base[i % len(base)], id=f"r{i}", name=f"站{i}", phone="0851-1", adcode="520102",
                   status="open", verified_at="2026-03-01", origins="", address="某路")
        row["lon"], row["lat"] = destination(row["lon"], row["lat"], 90.0, 100.0 * i)  # 100 m apart
        change = dict(BREAKS[pick] or {})
        if change.pop("twin", False) and rows:  # same name 5 m from the row before: a likely duplicate
            row.update(name=rows[-1]["name"], layer=rows[-1]["layer"])
            row["lon"], row["lat"] = destination(*points[-1], 0.0, 5.0)
        points.append((row["lon"], row["lat"]))
        row.update(change)
        rows.append(row)
    return rows


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, len(BREAKS) - 1), min_size=1, max_size=40), st.integers(1, 12), st.booleans())
def test_a_chunked_check_reports_exactly_what_the_whole_file_check_did(layers, picks, chunk_rows, allow):
    body = csv_bytes(_rows(picks), keys=FIELDS, header=FIELDS)
    values, expected = reference_check(read_csv(body), layers, allow_duplicates=allow)
    fed: list[list[str]] = []

    class Sink:
        aborted = False

        def add(self, chunk):
            assert not self.aborted
            fed.append(chunk["id"].tolist())

        def abort(self):
            self.aborted = True

        def done_adding(self):
            assert not self.aborted

    sink = Sink()
    checked = check_table(read_csv(body), layers, allow_duplicates=allow, sink=sink, chunk_rows=chunk_rows)
    assert checked.report.to_json() == expected.to_json()
    assert checked.report.ids_made == expected.ids_made
    for name in STATION_FIELDS:
        assert checked.values[name].tolist() == values[name].tolist() or name in ("lon", "lat")
    assert np.array_equal(checked.values["lon"], values["lon"], equal_nan=True)
    # the sink got the leading clean chunks only, and was aborted once a chunk was not clean
    sent = [sid for ids in fed for sid in ids]
    assert sent == values["id"].tolist()[:len(sent)] and len(set(sent)) == len(sent)
    first_bad = min([e["line"] - 2 for e in expected.rejected if e["code"] not in ("likely_duplicate",
                                                                                    "duplicate_id")], default=None)
    if first_bad is not None:
        assert len(sent) <= first_bad and sink.aborted


def test_load_columns_builds_the_index_load_builds(layers):
    stations = random_stations(layers, 3000, seed=4)
    by_records, by_columns = SphereIndex(layers), SphereIndex(layers)
    by_records.load(stations)
    chunk = chunk_of(stations)
    by_columns.load_columns(chunk["id"].tolist(), chunk["lon"], chunk["lat"], chunk["layer"], chunk["services"],
                            chunk["hours"], chunk["status"], chunk["origins"])
    assert by_columns._ids == by_records._ids and by_columns._pos == by_records._pos
    assert by_columns._origins == by_records._origins and by_columns._hours_table == by_records._hours_table
    for name in ("lon", "lat", "xyz", "layer", "services", "hours", "status", "alive", "visible"):
        assert np.array_equal(getattr(by_columns._cols, name), getattr(by_records._cols, name)), name


# ---- the stores ---------------------------------------------------------------------------------
@pytest.fixture(params=STORES)
def store(request, tmp_path_factory, layers):
    opened = make_store(request.param, request, tmp_path_factory, layers, None, "postgis_url")
    yield opened
    opened.close()


def _sheet(n: int, twin_last: bool = False) -> bytes:
    rows = [{"id": f"b{i}", "name": f"站{i}", "layer": "rest_station", "lon": 106.0 + i * 1e-3, "lat": 26.5,
             "services": "toilet", "hours": "24/7"} for i in range(n)]
    if twin_last:  # the last row: same name 3 m from the first one, found only by the whole-file check
        rows[-1].update(name=rows[0]["name"], lon=rows[0]["lon"] + 3e-5, lat=rows[0]["lat"])
    return csv_bytes(rows)


def test_a_file_rejected_after_chunks_were_written_leaves_the_store_as_it_was(store, layers, monkeypatch):
    monkeypatch.setattr(ingest, "CHUNK_ROWS", 7)
    gone = Station(id="b3", lon=106.003, lat=26.5, name="旧站", layer="rest_station")
    store.put(gone, actor="t")
    store.delete("b3", actor="t")  # empty again, but with history
    history = [(e.seq, e.action) for e in store.history("b3")]
    loader_writes = []
    real = store.bulk_loader
    monkeypatch.setattr(store, "bulk_loader", lambda *a, **k: loader_writes.append(1) or real(*a, **k))
    report = import_table(read_csv(_sheet(30, twin_last=True)), store, actor="t")
    assert loader_writes and not report.ok and not report.written
    assert [(e["line"], e["code"]) for e in report.rejected] == [(31, "likely_duplicate")]
    assert store.count() == 0 and [(e.seq, e.action) for e in store.history("b3")] == history
    good = import_table(read_csv(_sheet(30)), store, actor="t")
    assert good.ok and good.inserted == 30 and store.count() == 30
    assert store.get("b3").name == "站3" and store.history("b3")[0].after == store.get("b3")
    assert [h.station.id for h in store.within(106.0, 26.5, 1.0)] == ["b0"]  # the index serves them


def test_a_failing_write_is_reported_and_nothing_is_kept(store, layers, monkeypatch):
    monkeypatch.setattr(ingest, "CHUNK_ROWS", 5)
    from layers.embedded import bulk as embedded_bulk
    from layers.postgis import bulk as postgis_bulk

    def broken(self, *args):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(embedded_bulk.EmbeddedBulkLoad, "_write", broken)
    monkeypatch.setattr(postgis_bulk.PostgisBulkLoad, "_write", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        import_table(read_csv(_sheet(12)), store, actor="t")
    assert store.count() == 0
    store.put(Station(id="after", lon=106.0, lat=26.5, name="之后", layer="rest_station"), actor="t")  # not locked
    assert store.count() == 1


def test_postgis_audit_rows_of_a_bulk_load_are_the_jsonb_sql_builds(request, layers):
    from layers.postgis.audit import snapshot_sql
    from layers.postgis.bulk import PostgisBulkLoad
    from layers.postgis.store import PostgisStore

    url = request.getfixturevalue("postgis_url")
    store = PostgisStore(url, layers, seed=None)
    odd = [Station(id="o1", lon=110.0, lat=30.0, name='引"号\\斜杠', layer="rest_station", name_en="Tab\there"),
           Station(id="o2", lon=1e-05, lat=-0.0, name="小", layer="rights_post", items=("a", "b\\c")),
           Station(id="o3", lon=0.1 + 0.2, lat=1.5e-07, name="ü", layer="service_window", origins=("520322",),
                   verified_at="2026-03-01")]
    stations = [*odd, *random_stations(layers, 200, seed=9)]
    loader = store.bulk_loader(len(stations), actor="bench")
    assert isinstance(loader, PostgisBulkLoad)
    loader.add(chunk_of(stations))
    loader.finish()
    conn = store._primary.acquire()[0]
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT a.after::text, {snapshot_sql('s')}::text, a.actor FROM station_audit a "
                        "JOIN stations s ON s.id = a.station_id")
            rows = cur.fetchall()
    finally:
        store._primary.release(conn)
    assert len(rows) == len(stations)
    assert all(after == built and actor == "bench" for after, built, actor in rows)
    assert [store.get(s.id) for s in odd] == odd
    store.close()


# ---- a CSV read a chunk at a time ---------------------------------------------------------------
def _sheet_file(tmp_path, picks, encoding="utf-8", blank_every=0, sep=","):
    rows = _rows(picks)
    rows[0]["address"] = "'=SUM(A1)"  # the export's Excel escape: taken off by the reader
    text = csv_bytes(rows, encoding, keys=FIELDS, header=FIELDS).decode(encoding)
    lines = text.split("\r\n")
    if blank_every:  # rows of bare commas, as Excel leaves them
        lines = [x for i, line in enumerate(lines) for x in ([line, "," * (len(FIELDS) - 1)]
                                                             if i and i % blank_every == 0 else [line])]
    if sep == "\t":
        lines = [line.replace(",", "\t") for line in lines]
    path = tmp_path / "sheet.csv"
    path.write_bytes("\r\n".join(lines).encode(encoding))
    return path


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, len(BREAKS) - 1), min_size=1, max_size=30), st.integers(1, 9),
       st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]), st.integers(0, 4))
def test_a_streamed_csv_is_checked_exactly_as_the_whole_file(layers, tmp_path_factory, picks, rows, encoding, blank):
    from layers.ingest.csv_file import CsvStream
    from layers.ingest.read import read_file

    path = _sheet_file(tmp_path_factory.mktemp("csv"), picks, encoding, blank)
    whole = read_file(path)
    stream = read_file(path, stream_rows=rows)
    assert isinstance(stream, CsvStream) and stream.encoding == whole.encoding
    parts = list(stream.parts())
    for name in whole.columns:
        assert np.concatenate([p.columns[name] for p in parts]).tolist() == whole.columns[name].tolist()
    assert np.concatenate([p.x for p in parts]).tolist() == whole.x.tolist()
    assert np.array_equal(stream.finished().positions, whole.positions)
    expected = check_table(read_file(path), layers).report.to_json()
    assert check_table(read_file(path, stream_rows=rows), layers, chunk_rows=rows).report.to_json() == expected


def test_a_streamed_csv_imports_as_the_whole_file_does(store, layers, tmp_path):
    from layers.ingest.read import read_file

    path = tmp_path / "s.csv"
    path.write_bytes(_sheet(40))
    report = import_table(read_file(path, stream_rows=7), store, actor="t")
    assert report.ok and report.inserted == 40 and store.count() == 40
    again = import_table(read_file(path, stream_rows=7), store, actor="t")  # not empty: the upsert path
    assert again.ok and again.unchanged == 40
    header_only = tmp_path / "h.csv"
    header_only.write_bytes(_sheet(0))
    assert import_table(read_file(header_only, stream_rows=7), store).rows_read == 0
