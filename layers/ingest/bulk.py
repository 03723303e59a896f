"""Loading a checked import into an empty store while the rest of the file is still being checked.

`StationStore.bulk_loader()` opens the one write transaction of a large import into an empty
store and answers a `BulkLoad` (or None: the store holds stations, and `import_rows` does the
upsert). `layers.ingest` hands it the checked rows chunk by chunk, as columns (`add`); a
`Writer` thread writes each chunk while the main thread checks the next one (sqlite3 and
psycopg2 let go of the GIL while the database works, and PostgreSQL works in its own process).
Nothing is visible to anyone before `finish()` commits; `abort()` rolls everything back, so a
file rejected by a check that needs the whole file (an id twice, the same name within 10 m)
leaves the store exactly as it was.

The helpers here build the stores' text column by column: JSON of each distinct value once
(`json_column`), then one join per row.
"""
from __future__ import annotations

import abc
import logging
import queue
import re
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import orjson

from layers.import_result import ImportResult

LOGGER = logging.getLogger(__name__)
Chunk = dict[str, np.ndarray]  # station field -> the values of some consecutive rows (lon/lat: WGS-84)
Progress = Callable[[str, int, int], None]
_TEXT_KINDS = frozenset({str, type(None)})
_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')


class BulkLoad(abc.ABC):
    """One open write transaction into an empty store, fed chunk by chunk; all or nothing."""

    @abc.abstractmethod
    def add(self, chunk: Chunk) -> None:
        """Write these rows (checked, ids unique across every chunk) inside the open transaction."""

    def done_adding(self) -> None:
        """No chunk follows (the whole-file checks run now): a load may start its closing work."""

    @abc.abstractmethod
    def finish(self, progress: Progress | None = None) -> ImportResult:
        """Commit every chunk added (audited as the loader's actor); the store then serves them."""

    @abc.abstractmethod
    def abort(self) -> None:
        """Roll back: the store is left as it was. Idempotent; a no-op after finish()."""


class Writer:
    """A thread running jobs in the order given; after a failure it skips the rest, and `join()`
    raises that failure. At most `depth` jobs wait, which bounds the memory of chunks in flight."""

    def __init__(self, name: str, depth: int = 2) -> None:
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            if self.error is None:
                try:
                    job()
                except BaseException as exc:  # noqa: BLE001 - kept for join(): the main thread re-raises it
                    self.error = exc

    def submit(self, job: Callable[[], None]) -> None:
        """Queue `job` (waits while `depth` jobs are waiting already)."""
        if self.error is None:
            self._jobs.put(job)

    def join(self, raise_error: bool = True) -> None:
        """Wait for every job queued; raise the first failure (unless told not to)."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()
        if raise_error and self.error is not None:
            raise self.error


def mapped(items: list, make: Callable[[Any], str]) -> list[str]:
    """make(v) of every item; once per distinct value unless nearly all differ (judged by the first 256)."""
    try:
        repeating = len(set(items[:256])) <= 200
    except TypeError:  # something unhashable: no memo
        repeating = False
    if not repeating:
        return list(map(make, items))
    memo: dict[Any, str] = {}
    return [memo[v] if v in memo else memo.setdefault(v, make(v)) for v in items]


def json_column(values: np.ndarray, prefix: str = "", empty: str = "") -> list[str]:
    """`prefix` + the JSON of each value (what orjson makes of it; tuples as lists), `empty` for
    None and for an empty tuple. Text that needs no JSON escape is quoted as it is (orjson escapes
    only '"', '\\' and U+0000-U+001F), anything else goes through orjson."""
    items = values.tolist()
    if set(map(type, items)) <= _TEXT_KINDS and not _JSON_ESCAPED.search("".join(filter(None, items))):
        quoted = prefix + '"'
        return mapped(items, lambda v: empty if v is None else quoted + v + '"')
    return mapped(items, lambda v: empty if v is None or v == () else prefix + orjson.dumps(v).decode())


def joined(columns: Sequence[list[str]], sep: str = "") -> list[str]:
    """Row i of the result is the i-th texts of every column, joined by `sep`."""
    return list(map(sep.join, zip(*columns)))


def props_texts(chunk: Chunk, fields: Sequence[str]) -> list[str]:
    """The embedded store's props JSON of every row: `fields` in order, None and () left out,
    compact, UTF-8 as is; the same text `orjson.dumps` makes of the dict (tested)."""
    first, *rest = fields
    parts = [json_column(chunk[name], f',"{name}":') for name in rest]
    parts = [part for part in parts if any(part)]
    lead = json_column(chunk[first], f'{{"{first}":', "{")
    texts = joined([lead, *parts, ["}"] * len(lead)])
    if chunk[first].tolist().count(None):  # no first field: '{' then ',"key":...' -> drop that comma
        texts = ["{" + text[2:] if text.startswith("{,") else text for text in texts]
    return texts


def float_texts(values: np.ndarray) -> list[str]:
    """Each float as the shortest text that reads back as the same double (Python's repr)."""
    return list(map(repr, values.tolist()))
