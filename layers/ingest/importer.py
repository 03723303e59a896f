"""Importing station files: read (layers.ingest.read), check every row (ingest_coords, ingest_check,
ingest_dupes), report every problem, and write all or nothing through `StationStore.import_rows`.

A row is rejected for: missing or unreadable coordinates, lat/lon probably swapped, a point outside
China, an unknown layer, service words outside the layer's vocabulary, unreadable hours, any other
field the model refuses, an id used twice in the file, and (unless allowed) a likely duplicate: the
same name within 10 m of another row or of a stored station. If any row is rejected nothing is
written. Re-importing the same rows writes nothing (the store skips unchanged rows).

Rows need no id (a federation's Excel sheet seldom has one). A row without an id updates the stored
station of its layer with the same name within 10 m, if there is one; otherwise it gets an id made
from its layer, name and position (`made_id`), so importing the same sheet again changes nothing.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from layers.errors import InvalidQuery, YizhanError
from layers.ingest.bulk import BulkLoad
from layers.ingest.check import check_columns
from layers.ingest.coords import SourceCrs, check_points, resolve_crs
from layers.ingest.csv_file import CsvStream
from layers.ingest.dupes import (
    DUPLICATE_RADIUS_M,
    duplicate_ids,
    near_duplicates_in_file,
    near_duplicates_in_store,
)
from layers.ingest.hours import AS_WRITTEN, check_hours
from layers.ingest.place import AddressPlacer
from layers.ingest.placing import PLACED, place_rows, placed_counts
from layers.ingest.read import gc_paused
from layers.ingest.table import RawTable
from layers.layerdefs import Layer
from layers.model import ID_RE, STATION_FIELDS, Station
from layers.store import ImportResult, StationStore

LOGGER = logging.getLogger(__name__)
CHUNK_ROWS = 100_000  # rows checked (and handed to a bulk load) at a time
MAX_REPORTED = 10_000  # rejected rows listed in one report (all are counted)
Progress = Callable[[str, int, int], None]  # (stage, done, total)
WARNING_CODES = frozenset({AS_WRITTEN, PLACED})  # row issues that are reported, not rejected


class ImportRejected(YizhanError):
    """Some rows were rejected: nothing was written; `report` lists every one."""

    status = 400
    code = "import_rejected"

    def __init__(self, report: ImportReport) -> None:
        super().__init__(f"{report.rows_rejected} of {report.rows_read} rows rejected; nothing was written")
        self.report = report

    def to_dict(self) -> dict:
        return {**super().to_dict(), "report": self.report.to_json()}


@dataclass
class ImportReport:
    """What an import read, rejected (row, field, code, message) and wrote."""

    format: str
    crs: str
    rows_read: int
    position_kind: str = "line"
    encoding: str | None = None
    dry_run: bool = False
    rejected: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    written: bool = False
    inserted: int | None = None
    updated: int | None = None
    unchanged: int | None = None
    ids_made: int = 0  # rows without an id given one made from layer, name and position
    ids_matched: int = 0  # rows without an id that took the id of their stored twin
    columns: dict[str, str] = field(default_factory=dict)  # header as written -> the field it fills
    header_row: int | None = None  # a sheet's row holding the headers
    placed: dict[str, int] = field(default_factory=dict)  # rows placed from their address, by precision

    @property
    def rows_rejected(self) -> int:
        return len({entry[self.position_kind] for entry in self.rejected})

    @property
    def ok(self) -> bool:
        return not self.rejected

    def to_json(self, limit: int = MAX_REPORTED) -> dict[str, Any]:
        """The report as the API answers it (at most `limit` rejection entries listed)."""
        by_code: dict[str, int] = {}
        for entry in self.rejected:
            by_code[entry["code"]] = by_code.get(entry["code"], 0) + 1
        return {
            "format": self.format, "encoding": self.encoding, "crs": self.crs, "dry_run": self.dry_run,
            "rows_read": self.rows_read, "rows_rejected": self.rows_rejected,
            "rows_valid": self.rows_read - self.rows_rejected, "written": self.written,
            "inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged,
            "ids_made": self.ids_made, "ids_matched": self.ids_matched,
            "rejected_by_code": by_code, "rejected": self.rejected[:limit],
            "rejected_truncated": len(self.rejected) > limit, "warnings": self.warnings,
            "columns": self.columns, "header_row": self.header_row, "placed": self.placed,
        }


@dataclass
class Checked:
    """A checked table: the clean values of every row (WGS-84 lon/lat) and its report."""

    values: dict[str, np.ndarray]
    report: ImportReport

    def stations(self) -> list[Station]:
        """The rows as Station records (only meaningful when the report has no rejection)."""
        return list(map(Station, *[self.values[name].tolist() for name in STATION_FIELDS]))


def _entry(table: RawTable, ids: np.ndarray, row: int, field_name: str, code: str, message: str) -> dict:
    sid = ids[row] if isinstance(ids[row], str) and ID_RE.match(ids[row]) else None
    return {table.position_kind: int(table.positions[row]), "id": sid, "field": field_name, "code": code,
            "message": message}


def check_table(table: RawTable | CsvStream, layers: Mapping[str, Layer], *, crs: str | None = None, layer: str | None = None,
                force_crs: bool = False, store: StationStore | None = None, allow_duplicates: bool = False,
                progress: Progress | None = None, sink: BulkLoad | None = None, chunk_rows: int = CHUNK_ROWS,
                placer: AddressPlacer | None = None) -> Checked:
    """Check every row of `table`; `store` (when given) is searched for likely duplicates too.

    Row by row checks run on chunks of `chunk_rows` rows; each chunk found clean (and with ids
    not seen before) goes to `sink` while the next one is checked. The first chunk with a
    problem aborts the sink. Checks of the whole file (duplicates) follow; the report is the
    same whatever the chunk size (tested)."""
    if layer is not None and layer not in layers:
        raise InvalidQuery(f"unknown layer {layer!r}; known: {', '.join(layers)}", "layer")
    source = resolve_crs(crs, table.file_crs, force_crs)
    step = progress or (lambda stage, done, total: None)
    stream = isinstance(table, CsvStream)
    mapping, header_row = getattr(table, "column_map", {}), getattr(table, "header_row", None)
    step("checking coordinates", 0, table.estimated_rows if stream else len(table))
    step("checking fields", 0, table.estimated_rows if stream else len(table))
    parts: list[dict[str, np.ndarray]] = []
    issues: list[tuple] = []
    seen: set[str] = set()
    placer = placer or AddressPlacer()
    for lo, part in _streamed(table) if stream else _slices(table, chunk_rows):
        values, found = _check_rows(part, source, layers, layer, lo, placer)
        issues += found
        parts.append(values)
        if sink is not None:
            clean = all(issue[2] in WARNING_CODES for issue in found)
            sink = _fed(sink, values, clean and not table.geometry_errors, seen)
    if sink is not None:
        sink.done_adding()
    table = table.finished() if stream else table
    n = len(table)
    values = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]} if parts else \
        _check_rows(table, source, layers, layer, 0)[0]
    issues += [(row, "geometry", "invalid_geometry", why) for row, why in table.geometry_errors.items()]
    lon, ids, no_id, named = values["lon"], values["id"], values.pop("no_id"), values.pop("named")
    step("looking for duplicates", 0, n)
    report = ImportReport(table.format, source.name, n, table.position_kind, table.encoding,
                          columns=mapping, header_row=header_row)
    point_ok = np.isfinite(lon) & np.fromiter((v is not None for v in values["name"]), bool, n)
    report.ids_made = int(named.sum())
    dupes = _likely_duplicates(table, values, point_ok, store, named, report)
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
    return Checked(values, report)


def _chunks(n: int, size: int) -> list[tuple[int, int]]:
    """(start, end) of the chunks of n rows: a quarter chunk first (the writer starts sooner), then `size`."""
    size = max(size, 1)
    starts = [0, *range(max(size // 4, 1), n, size)] if n else []
    return list(zip(starts, [*starts[1:], n]))


def _slices(table: RawTable, size: int) -> Iterator[tuple[int, RawTable]]:
    """(first row, the table of rows first..) for the chunks of an in-memory table (views)."""
    for lo, hi in _chunks(len(table), size):
        yield lo, RawTable(table.format, {k: v[lo:hi] for k, v in table.columns.items()}, table.x[lo:hi],
                           table.y[lo:hi], table.positions[lo:hi], table.position_kind)


def _streamed(stream: CsvStream) -> Iterator[tuple[int, RawTable]]:
    """(first row, the table of rows first..) as the stream reads them."""
    lo = 0
    for part in stream.parts():
        yield lo, part
        lo += len(part)


def _check_rows(table: RawTable, source: SourceCrs, layers: Mapping[str, Layer], layer: str | None,
                lo: int, placer: AddressPlacer | None = None) -> tuple[dict[str, np.ndarray], list[tuple]]:
    """The row by row checks of a chunk of rows (`table`, starting at row lo of the file): their
    clean values (ids made where none was given; `no_id` and `named` masks beside) and their
    issues, rows counted from the file's start."""
    n = len(table)
    lon, lat, issues = check_points(table.x, table.y, source)
    values, found = check_columns(table.columns, n, layers, layer)
    issues += found
    empty = np.full(n, None, dtype=object)
    values["hours"], values["hours_text"], found = check_hours(table.columns.get("hours", empty),
                                                               table.columns.get("hours_text"))
    issues += found
    issues = place_rows(lon, lat, values, issues, placer)
    values["lon"], values["lat"] = lon, lat
    ids = values["id"]
    no_id = np.fromiter((v is None for v in ids), bool, n)
    point_ok = np.isfinite(lon) & np.fromiter((v is not None for v in values["name"]), bool, n)
    named = no_id & point_ok & np.fromiter((v is not None for v in values["layer"]), bool, n)
    for row in np.flatnonzero(named).tolist():
        ids[row] = made_id(values["layer"][row], values["name"][row], lon[row], lat[row])
    values["no_id"], values["named"] = no_id, named
    return values, [(row + lo, *rest) for row, *rest in issues] if lo else issues


def _fed(sink: BulkLoad, values: dict[str, np.ndarray], clean: bool, seen: set[str]) -> BulkLoad | None:
    """Give a clean chunk whose ids are all new to `sink`; abort it (None) at the first other one."""
    ids = values["id"].tolist()
    size = len(seen)
    seen.update(ids)
    if clean and len(seen) == size + len(ids) and None not in seen:
        sink.add({key: column for key, column in values.items() if key not in ("no_id", "named", "placed")})
        return sink
    sink.abort()
    return None


def made_id(layer: str, name: str, lon: float, lat: float) -> str:
    """The id of a row given without one: the layer and a digest of layer, name and WGS-84 position
    (6 decimals, ~0.1 m), so the same row imported again gets the same id."""
    digest = hashlib.sha1(f"{layer}\n{name}\n{lon:.6f}\n{lat:.6f}".encode()).hexdigest()[:12]
    return f"{layer}-{digest}"


def _duplicate_message(table: RawTable, ids: np.ndarray, no_id: np.ndarray, row: int, first: int) -> str:
    where = f"{table.position_kind} {table.positions[first]}"
    if no_id[row]:
        return f"no id given, and the row resolves to the same station as {where} ({ids[row]!r})"
    return f"id {ids[row]!r} is also on {where}"


def _likely_duplicates(table: RawTable, values: dict[str, np.ndarray], usable: np.ndarray,
                       store: StationStore | None, no_id: np.ndarray, report: ImportReport) -> list[tuple[int, str]]:
    """Likely duplicates (row, message). A row without an id that has a stored twin of its layer
    (same name within 10 m) takes the twin's id instead: it updates that station."""
    lon, lat, names, ids = values["lon"], values["lat"], values["name"], values["id"]
    usable = usable & (values["status"] != "removed")
    out = [(row, (f"likely duplicate of {table.position_kind} {table.positions[other]} (same name "
                 f"{names[row]!r}, {metres:.1f} m apart; within {DUPLICATE_RADIUS_M:g} m)"))
           for row, other, metres in near_duplicates_in_file(lon, lat, names, usable)]
    if store is None:
        return out
    matched: set[int] = set()
    for row, station, metres in near_duplicates_in_store(store, ids, lon, lat, names, usable):
        if no_id[row] and station.layer == values["layer"][row]:
            if row not in matched:  # the nearest twin
                matched.add(row)
                ids[row] = station.id
            continue
        out.append((row, (f"likely duplicate of stored station {station.id!r} (same name {names[row]!r}, "
                          f"{metres:.1f} m apart; within {DUPLICATE_RADIUS_M:g} m)")))
    report.ids_matched = len(matched)
    report.ids_made -= len(matched)
    return out


def _counted(stations: list[Station], progress: Progress) -> Iterator[Station]:
    total = len(stations)
    for start in range(0, total, 10_000):
        yield from stations[start: start + 10_000]
        progress("writing", min(start + 10_000, total), total)


def import_table(table: RawTable | CsvStream, store: StationStore, *, crs: str | None = None, layer: str | None = None,
                 dry_run: bool = False, actor: str | None = None, force_crs: bool = False,
                 allow_duplicates: bool = False, progress: Progress | None = None,
                 placer: AddressPlacer | None = None) -> ImportReport:
    """Check `table` and, when no row is rejected and this is no dry run, upsert every row by id in
    one transaction. The report says what was read, rejected and written; nothing is written on rejection."""
    with gc_paused():
        return _import_table(table, store, crs=crs, layer=layer, dry_run=dry_run, actor=actor,
                             force_crs=force_crs, allow_duplicates=allow_duplicates, progress=progress, placer=placer)


def _import_table(table: RawTable | CsvStream, store: StationStore, *, crs: str | None, layer: str | None, dry_run: bool,
                  actor: str | None, force_crs: bool, allow_duplicates: bool, progress: Progress | None,
                  placer: AddressPlacer | None = None) -> ImportReport:
    options = {"crs": crs, "layer": layer, "force_crs": force_crs, "allow_duplicates": allow_duplicates,
               "progress": progress, "placer": placer}
    if layer is not None and layer not in store.layers:
        raise InvalidQuery(f"unknown layer {layer!r}; known: {', '.join(store.layers)}", "layer")
    rows = table.estimated_rows if isinstance(table, CsvStream) else len(table)
    loader = None if dry_run or rows == 0 or table.geometry_errors else store.bulk_loader(rows, actor=actor)
    if loader is not None:  # an empty store: written while checked, committed only if every row passes
        return _bulk_import(table, store, loader, actor, options)
    checked = check_table(table, store.layers, store=store, **options)
    report = checked.report
    report.dry_run = dry_run
    if not report.ok or dry_run or report.rows_read == 0:
        return report
    stations = checked.stations()
    rows = _counted(stations, progress) if progress else stations
    result = store.import_rows(rows, actor=actor)
    return _written(report, result, actor)


def _bulk_import(table: RawTable | CsvStream, store: StationStore, loader: BulkLoad, actor: str | None,
                 options: dict[str, Any]) -> ImportReport:
    """Check with `loader` as the sink; the store held nothing, so there is no stored twin to look for."""
    try:
        report = check_table(table, store.layers, store=None, sink=loader, **options).report
    except BaseException:
        loader.abort()
        raise
    if not report.ok or report.rows_read == 0:
        loader.abort()
        return report
    return _written(report, loader.finish(options["progress"]), actor)


def _written(report: ImportReport, result: ImportResult, actor: str | None) -> ImportReport:
    report.written = True
    report.inserted, report.updated, report.unchanged = result.inserted, result.updated, result.unchanged
    LOGGER.info("import by %s: %d rows, %d new, %d updated, %d unchanged", actor, report.rows_read,
                result.inserted, result.updated, result.unchanged)
    return report


__all__ = ["Checked", "ImportRejected", "ImportReport", "SourceCrs", "check_table", "import_table"]
