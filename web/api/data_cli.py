"""`flask --app app stations import FILE [--crs gcj02] [--dry-run] [--layer X]` and
`flask --app app stations export --format csv|geojson|gpkg --out FILE [--layer X]`."""
from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app

from layers.errors import YizhanError
from layers.ingest.export import (
    EXPORT_FORMATS,
    csv_chunks,
    exported,
    geojson_chunks,
    write_gpkg,
)
from layers.ingest.importer import ImportReport, import_table
from layers.ingest.limits import read_file_limited
from layers.ingest.read import FORMATS
from web.api.import_placer import import_placer
from web.config import import_limits


class _Progress:
    """Stage names on stderr, and a progress bar while the rows go to the store."""

    def __init__(self) -> None:
        self._bar = None
        self._done = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != "writing":
            click.echo(f"{stage}: {total:,} rows", err=True)
            return
        if self._bar is None:
            self._bar = click.progressbar(length=total, label="writing", file=sys.stderr)
            self._bar.__enter__()
        self._bar.update(done - self._done)
        self._done = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


def _where(entry: dict, kind: str) -> str:
    return f"{kind} {entry[kind]}" + (f" (id {entry['id']})" if entry.get("id") else "")


def _print_report(report: ImportReport, show: int) -> None:
    data = report.to_json()
    click.echo(f"{data['rows_read']:,} rows read ({report.format}, {report.encoding or '-'}, crs {report.crs}); "
               f"{data['rows_rejected']:,} rejected")
    if report.columns:
        where = f" (headers on row {report.header_row})" if report.header_row else ""
        click.echo(f"columns{where}: " + ", ".join(f"{h} -> {f}" for h, f in report.columns.items()))
    for precision, count in sorted(report.placed.items()):
        click.echo(f"  placed from the address ({precision}): {count:,}")
    for entry in report.rejected[:show]:
        click.echo(f"  {_where(entry, report.position_kind)}: {entry['field']}: {entry['code']}: {entry['message']}")
    if len(report.rejected) > show:
        click.echo(f"  … and {len(report.rejected) - show:,} more (--show N, or --report FILE for all)")
    for code, count in sorted(data["rejected_by_code"].items()):
        click.echo(f"  {code}: {count:,}")
    for warning in report.warnings[:show]:
        where = f"{_where(warning, report.position_kind)}: " if report.position_kind in warning else ""
        click.echo(f"  warning: {where}{warning['message']}")


def register_data_cli(app: Flask) -> None:
    """Attach `flask stations import|export`."""

    @app.cli.group("stations")
    def stations_group() -> None:
        """Import and export stations."""

    @stations_group.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--crs", default=None, help="source CRS: wgs84, gcj02, bd09 or EPSG:<code> (default: the "
                  "file's own, else wgs84)")
    @click.option("--layer", default=None, help="layer of rows without one; rows naming another are rejected")
    @click.option("--dry-run", is_flag=True, help="check and report, write nothing")
    @click.option("--format", "fmt", type=click.Choice(FORMATS), default=None, help="default: detected")
    @click.option("--force-crs", is_flag=True, help="use --crs even where the file says another CRS")
    @click.option("--allow-duplicates", is_flag=True, help="report likely duplicates as warnings, not rejections")
    @click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="also write the full report as JSON here")
    @click.option("--show", default=50, show_default=True, help="rejected rows to print")
    @click.option("--sheet", default=None, help="the sheet of a workbook (default: the first)")
    def import_command(file: Path, crs: str | None, layer: str | None, dry_run: bool, fmt: str | None,
                       force_crs: bool, allow_duplicates: bool, report_path: Path | None, show: int,
                       sheet: str | None) -> None:
        """Import FILE (CSV, Excel .xlsx/.xls, GeoJSON, GeoPackage, Shapefile or a zip holding one): all rows or none."""
        progress = _Progress()
        try:
            click.echo(f"reading {file}", err=True)
            table = read_file_limited(file, fmt, import_limits(current_app.config, cli=True), sheet=sheet)
            report = import_table(table, current_app.extensions["yizhan.store"], crs=crs, layer=layer,
                                  dry_run=dry_run, actor=f"cli:{getpass.getuser()}", force_crs=force_crs,
                                  allow_duplicates=allow_duplicates, progress=progress,
                                  placer=import_placer(current_app))
        except YizhanError as exc:
            raise click.ClickException(exc.message) from None
        finally:
            progress.close()
        if report_path is not None:
            report_path.write_text(json.dumps(report.to_json(limit=len(report.rejected)), ensure_ascii=False,
                                              indent=1), encoding="utf-8")
        _print_report(report, show)
        if not report.ok:
            click.echo("nothing was written", err=True)
            sys.exit(1)
        if report.written:
            click.echo(f"written: {report.inserted:,} new, {report.updated:,} updated, "
                       f"{report.unchanged:,} unchanged")
        else:
            click.echo("dry run: nothing written" if dry_run else "nothing to write")

    @stations_group.command("export")
    @click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default=None,
                  help="default: from --out's suffix")
    @click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
    @click.option("--layer", "layer_ids", multiple=True, help="only this layer (repeatable)")
    @click.option("--include-removed", is_flag=True, help="also stations whose status is removed")
    def export_command(fmt: str | None, out: Path, layer_ids: tuple[str, ...], include_removed: bool) -> None:
        """Write every station (WGS-84) to --out as GeoJSON, CSV (UTF-8 with BOM) or GeoPackage."""
        store = current_app.extensions["yizhan.store"]
        fmt = fmt or {".json": "geojson", ".geojson": "geojson", ".csv": "csv", ".gpkg": "gpkg"}.get(out.suffix.lower())
        if fmt not in EXPORT_FORMATS:
            raise click.BadParameter(f"use one of {', '.join(EXPORT_FORMATS)}", param_hint="--format")
        unknown = [lid for lid in layer_ids if lid not in store.layers]
        if unknown:
            raise click.BadParameter(f"unknown layer {unknown[0]!r}", param_hint="--layer")
        stations = exported(store, tuple(layer_ids), include_removed)
        if fmt == "gpkg":
            out.unlink(missing_ok=True)
            count = write_gpkg(stations, out)
        else:
            count = 0

            def counted():
                nonlocal count
                for station in stations:
                    count += 1
                    yield station

            chunks = geojson_chunks(counted()) if fmt == "geojson" else csv_chunks(counted())
            with open(out, "wb") as handle:
                handle.writelines(chunks)
        click.echo(f"exported {count:,} stations to {out} ({fmt}, WGS-84)")
