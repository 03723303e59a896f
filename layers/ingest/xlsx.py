"""Reading Excel sheets (.xlsx, .xls, .ods) into a RawTable, through python-calamine.

python-calamine reads a 10,000-row sheet in 0.07 s where openpyxl (read-only mode) takes 0.65 s
(bench/xlsx.py), and it reads the old .xls too. The sheet is the first one unless one is named.
The header row is the first of the top rows where at least two cells name station fields (a
title row such as "南明区户外劳动者服务站点一览表" above it is skipped); rows after it that are
empty in every cell are left out. Positions are the sheet's row numbers (from 1, as Excel shows).
Numbers in text fields become text without a trailing ".0" (a phone typed as a number), dates
become ISO dates.
"""
from __future__ import annotations

import io
import logging
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np

from layers.ingest.table import (
    InvalidImportFile,
    RawTable,
    canonical_column,
    map_columns,
    xy_from_columns,
)

LOGGER = logging.getLogger(__name__)
HEADER_SCAN_ROWS = 30  # the header is looked for among this many top rows
MIN_HEADER_FIELDS = 2
_NUMERIC = frozenset({"lon", "lat"})


_CALAMINE_ERRORS = ("CalamineError", "PasswordError", "XmlError", "ZipError")


def _errors() -> tuple[type[BaseException], ...]:
    import python_calamine

    return (*(getattr(python_calamine, name) for name in _CALAMINE_ERRORS), ValueError, OSError)


def _workbook(source: Path | bytes):
    from python_calamine import CalamineWorkbook

    try:
        if isinstance(source, bytes):
            return CalamineWorkbook.from_filelike(io.BytesIO(source))
        return CalamineWorkbook.from_path(str(source))
    except _errors() as exc:  # calamine's own error types, for every unreadable file
        raise InvalidImportFile(f"the spreadsheet cannot be read: {str(exc)[:200]}", "body") from None


def _sheet_rows(source: Path | bytes, sheet: str | None) -> tuple[str, list[list[Any]]]:
    book = _workbook(source)
    names = list(book.sheet_names)
    if not names:
        raise InvalidImportFile("the spreadsheet has no sheet", "body")
    if sheet is not None and sheet not in names:
        raise InvalidImportFile(f"no sheet {sheet!r}; the sheets are: {', '.join(names)}", "sheet")
    name = sheet if sheet is not None else names[0]
    try:
        return name, book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except _errors() as exc:
        raise InvalidImportFile(f"sheet {name!r} cannot be read: {str(exc)[:200]}", "body") from None


def find_header(rows: list[list[Any]]) -> int:
    """Index of the header row: the first top row with at least two cells naming station fields."""
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        named = {canonical_column(cell) for cell in row if isinstance(cell, str) and cell.strip()}
        named.discard(None)
        if len(named) >= MIN_HEADER_FIELDS:
            return i
    raise InvalidImportFile(f"no header row found in the first {HEADER_SCAN_ROWS} rows of the sheet: a row "
                            "naming at least two fields (名称, 地址, 电话, 开放时间, 经度, 纬度 …) is needed", "body")


def cell_text(value: Any) -> Any:
    """A cell as an import reads it: None when empty, whole numbers without '.0', dates as ISO text."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return value.strip() if isinstance(value, str) else str(value)


def read_xlsx(source: Path | bytes, sheet: str | None = None, fmt: str = "xlsx") -> RawTable:
    """One sheet of a workbook (the first unless `sheet` names one) as a RawTable, rows by sheet row."""
    name, rows = _sheet_rows(source, sheet)
    at = find_header(rows)
    headers = [cell_text(cell) for cell in rows[at]]
    named = [(i, str(h)) for i, h in enumerate(headers) if h is not None]
    chosen, ignored = map_columns([h for _, h in named])
    index = {h: i for i, h in named}
    body = [(at + 2 + k, row) for k, row in enumerate(rows[at + 1:]) if any(c not in (None, "") for c in row)]
    positions = np.array([line for line, _ in body], dtype=np.int64)
    cells: dict[str, np.ndarray] = {}
    for field_name, header in chosen.items():
        col = index[header]
        convert = (lambda v: None if v == "" else v) if field_name in _NUMERIC else cell_text
        cells[field_name] = np.array([convert(row[col]) if col < len(row) else None for _, row in body] or [],
                                     dtype=object)
    x, y = xy_from_columns(cells, len(body))
    LOGGER.info("sheet %r: header on row %d, %d rows", name, at + 1, len(body))
    return RawTable(fmt, cells, x, y, positions, "row", None, None, ignored,
                    column_map={header: field_name for field_name, header in chosen.items()}, header_row=at + 1)
