"""Excel import benchmark (issue 19.7): a 10,000-row sheet of addresses only (no coordinates,
Chinese headers under a title row, Chinese hours) read, checked and placed from the addresses,
and the two readers measured on the same sheet.

    python -m bench.xlsx                   # 10,000 rows, writes its section of bench/RESULTS.md
    python -m bench.xlsx --rows 2000 --no-write

Read + check + place is `layers.ingest.limits.read_file_limited` then `layers.ingest.importer.check_table`
(the whole of an import but the write); best of 3 runs. The addresses come from the shipped towns
(county + town + a street and number), a tenth naming only the county, so both precisions occur.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.results import machine, write_section

HOURS = ("周一至周五 9:00-17:00", "早8点-晚6点", "全天24小时", "工作日 上午9:00-12:00 下午14:00-17:30，节假日休息",
         "看情况", "Mo-Fr 08:30-17:30")


def make_sheet(path: Path, n: int, seed: int = 19) -> None:
    """n rows of addresses built from real towns (with centres) as an .xlsx with a title row."""
    import openpyxl

    from layers.places.towns import NO_CENTRE, default_areas

    areas = default_areas()
    rng = np.random.default_rng(seed)
    with_centre = np.flatnonzero(areas.xy[:, 0] != NO_CENTRE)
    picks = rng.choice(with_centre, n)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("站点")
    sheet.append(["户外劳动者服务站点一览表"])
    sheet.append(["序号", "站点名称", "详细地址", "联系电话", "开放时间", "类型", "服务内容"])
    for i, town in enumerate(picks.tolist()):
        found = areas.town(town)
        place = f"{found.province}{found.city}{found.county}" + ("" if i % 10 == 9 else found.name)
        sheet.append([i + 1, f"驿站{i}号", f"{place}幸福路{i % 300 + 1}号", f"0851-{8550000 + i}",
                      HOURS[i % len(HOURS)], "户外劳动者服务站点", "饮用水、手机充电"])
    book.save(path)


def _best(run, rounds: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(rounds):
        start = time.perf_counter()
        out = run()
        best = min(best, time.perf_counter() - start)
    return best, out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    import openpyxl
    from python_calamine import CalamineWorkbook

    from layers.ingest.importer import check_table
    from layers.ingest.limits import ImportLimits, read_file_limited
    from layers.layerdefs import load_layers
    from layers.places.search import default_search

    default_search()  # the gazetteer loads once per process (0.3 s), not per import
    layers = load_layers()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stations.xlsx"
        make_sheet(path, args.rows)
        calamine, _ = _best(lambda: CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python())
        opx, _ = _best(lambda: [list(r) for r in openpyxl.load_workbook(path, read_only=True, data_only=True)
                                .worksheets[0].iter_rows(values_only=True)])
        read_s, _table = _best(lambda: read_file_limited(path, None, ImportLimits(max_rows=args.rows + 10)))
        total, checked = _best(lambda: check_table(read_file_limited(path, None, ImportLimits(max_rows=args.rows + 10)),
                                                   layers))
    report = checked.report
    line = (f"| {args.rows:,} | {calamine:.2f} | {opx:.2f} | {read_s:.2f} | {total:.2f} | {report.rows_read - report.rows_rejected:,} "
            f"| {report.placed.get('town', 0):,} / {report.placed.get('county', 0):,} "
            f"| {sum(1 for w in report.warnings if w['code'] == 'hours_as_written'):,} |")
    print(line, file=sys.stderr)
    if not args.no_write:
        write_section("xlsx", "\n".join([
            "## Excel import, addresses only (`python -m bench.xlsx`)", "",
            f"{machine()}", "",
            ("| rows | calamine read s | openpyxl read s | our read s | read + check + place s | rows valid "
            "| placed town / county | hours kept as written |"),
            "|---:|---:|---:|---:|---:|---:|---:|---:|", line, "",
            ("Best of 3. *calamine* / *openpyxl*: the sheet's cells alone (python-calamine `to_python`, openpyxl "
            "read-only `iter_rows`): why the service reads with python-calamine. *read + check + place*: every "
            "row of the import but the write — header row found under the title, Chinese hours read, each "
            "address placed at its town's centre (else its county's) from the shipped gazetteer. Budget: 10 s "
            "for 10,000 rows.")]))


if __name__ == "__main__":
    main()
