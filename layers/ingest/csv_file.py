"""Reading CSV station files (UTF-8 or GBK, any separator), whole or chunk by chunk for large imports."""
from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from layers.ingest.table import (
    InvalidImportFile,
    RawTable,
    map_columns,
    xy_from_columns,
)

_CHUNK = 1 << 20


def detect_encoding(source: Path | bytes) -> str:
    """`utf-8-sig` when the bytes are valid UTF-8 (BOM or not), else `gb18030` (GBK's superset)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        if isinstance(source, bytes):
            decoder.decode(source, final=True)
        else:
            with open(source, "rb") as handle:
                while chunk := handle.read(_CHUNK):
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "gb18030"


def read_csv(source: Path | bytes, nrows: int | None = None) -> RawTable:
    """A CSV (comma or tab separated; UTF-8 with or without BOM, or GBK/GB18030) as a RawTable
    (its first `nrows` rows when given)."""
    import pandas as pd

    encoding, sep, raw = _open_csv(source)
    with raw, _csv_errors():
        frame = pd.read_csv(raw, **_csv_options(encoding, sep), nrows=nrows)
    return _OfFrames(source, encoding, frame.columns).table(frame, 0)


class CsvStream:
    """A CSV read a chunk of rows at a time (pandas' chunked reader), for an import that checks
    and writes chunk by chunk while the rest is still being read. `parts()` yields RawTables of
    consecutive rows, each exactly the rows `read_csv` gives (positions counted from the file's
    start; tested); `finished()` is then the table of every row, without its cells."""

    format = "csv"
    position_kind = "line"
    file_crs = None

    def __init__(self, path: Path, rows: int) -> None:
        import pandas as pd

        encoding, sep, self._raw = _open_csv(path)
        self.encoding = encoding.replace("-sig", "")
        self._rows = rows
        self._reader = pd.read_csv(self._raw, **_csv_options(encoding, sep), iterator=True)
        self._first = self._next(max(rows // 4, 1))  # a quarter first: the writer starts sooner
        if self._first is None:
            self._raw.close()
            raise _EmptyStream
        self._frames = _OfFrames(path, encoding, self._first.columns)
        self.ignored_columns = self._frames.ignored
        self.column_map = {header: name for name, header in self._frames.chosen.items()}
        self.geometry_errors: dict[int, str] = {}
        # rows in the file, guessed from the bytes pandas took for the first chunk (progress, load size)
        per_row = max(self._raw.tell(), 1) / max(len(self._first), 1)
        self.estimated_rows = max(len(self._first), int(path.stat().st_size / per_row))
        self._positions: list[np.ndarray] = []

    def parts(self) -> Iterator[RawTable]:
        """The rows, chunk after chunk; the file is closed at the end."""
        seen = 0
        try:
            frame = self._first
            while frame is not None:
                part = self._frames.table(frame, seen)
                seen += len(frame)
                self._positions.append(part.positions)
                yield part
                frame = self._next(self._rows)
        finally:
            self._first = None
            self._raw.close()

    def _next(self, rows: int):
        with _csv_errors():
            try:
                return self._reader.get_chunk(rows)
            except StopIteration:
                return None

    def finished(self) -> RawTable:
        """Every row read (positions only: the cells went with their chunks)."""
        positions = np.concatenate(self._positions) if self._positions else np.empty(0, np.int64)
        none = np.empty(0, dtype=object)
        return RawTable("csv", {}, none, none, positions, "line", None, self.encoding, self.ignored_columns)


class _EmptyStream(Exception):
    """No data row: read the file whole instead."""


def stream_csv(path: Path, rows: int) -> CsvStream | RawTable:
    """A CsvStream of the file, or the RawTable itself when it holds no data row."""
    try:
        return CsvStream(path, rows)
    except _EmptyStream:
        return read_csv(path)


def _open_csv(source: Path | bytes):
    """(encoding, separator, the file open at its start)."""
    encoding = detect_encoding(source)
    raw = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115 - the caller closes it
    head = raw.read(64 * 1024).decode(encoding, errors="replace").lstrip("\ufeff")
    raw.seek(0)
    first = head.splitlines()[0] if head.strip() else ""
    return encoding, "\t" if first.count("\t") > first.count(",") else ",", raw


def _csv_options(encoding: str, sep: str) -> dict:
    return {"sep": sep, "dtype": str, "encoding": encoding.replace("-sig", ""),  # pandas drops a UTF-8 BOM
            "keep_default_na": False,  # itself, faster than Python's utf-8-sig
            "na_filter": False, "skip_blank_lines": True, "encoding_errors": "strict"}


@contextmanager
def _csv_errors() -> Iterator[None]:
    import pandas as pd

    try:
        yield
    except UnicodeDecodeError as exc:
        raise InvalidImportFile(f"the CSV is neither UTF-8 nor GB18030 text: {exc.reason}", "body") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise InvalidImportFile(f"the CSV cannot be read: {str(exc).splitlines()[0][:200]}", "body") from None


class _OfFrames:
    """RawTables of pandas frames of one CSV (its header mapped once)."""

    def __init__(self, source: Path | bytes, encoding: str, columns) -> None:
        self.chosen, self.ignored = map_columns([str(c) for c in columns])
        self.escaped = _contains(source, b"'")
        self.encoding = encoding.replace("-sig", "")

    def table(self, frame, first_row: int) -> RawTable:
        """Rows first_row.. of the file (counted from 0, the header apart) as a RawTable."""
        cells = {name: frame[header].to_numpy(dtype=object) for name, header in self.chosen.items()}
        cells = {name: _unescaped(column) if self.escaped else column for name, column in cells.items()}
        lines = np.arange(first_row + 2, first_row + len(frame) + 2)  # header: line 1 (a cell holding a
        keep = ~_blank_rows(frame)  # line break shifts this)
        if not keep.all():
            cells = {k: v[keep] for k, v in cells.items()}
        x, y = xy_from_columns(cells, int(keep.sum()))
        mapping = {header: name for name, header in self.chosen.items()}
        return RawTable("csv", cells, x, y, lines[keep], "line", None, self.encoding, self.ignored,
                        column_map=mapping)


def _blank_rows(frame) -> np.ndarray:
    """Rows with every cell empty (Excel leaves rows of bare commas after the data): the first
    column finds the candidates, the others are looked at only there."""
    blank = np.zeros(len(frame), dtype=bool)
    if len(frame.columns) == 0:
        return blank
    rows = np.flatnonzero(frame.iloc[:, 0].to_numpy(dtype=object) == "")
    for i in range(1, len(frame.columns)):
        rows = rows[frame.iloc[:, i].to_numpy(dtype=object)[rows] == ""]
    blank[rows] = True
    return blank


def _contains(source: Path | bytes, needle: bytes) -> bool:
    """Whether the file's bytes hold `needle` (a one-byte needle: no chunk boundary to straddle)."""
    if isinstance(source, bytes):
        return needle in source
    with open(source, "rb") as handle:
        return any(needle in chunk for chunk in iter(lambda: handle.read(_CHUNK), b""))


def _unescaped(column: np.ndarray) -> np.ndarray:
    """Cells with the leading `'` our CSV export puts before `=`, `+`, `-`, `@` (for Excel) removed."""
    if "\n'" not in "\n" + "\n".join(column):
        return column
    from layers.ingest.export import unescape_cell

    return np.fromiter((unescape_cell(v) for v in column), object, len(column))
