"""The hours column of an import: opening_hours syntax as it is, Chinese hours words turned into it
(layers.ingest.hours_zh), and Chinese text neither reads kept as written in `hours_text` (hours unknown, a
warning in the report, never a rejection). Text in neither Chinese nor valid syntax ("Mo-Fr 25:00")
is still rejected: it is a typo in syntax the file meant to use.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from geo.hours import HoursSyntaxError, parse_hours
from layers.errors import InvalidStation
from layers.ingest.check import factorize
from layers.ingest.hours_zh import zh_hours
from layers.model import TEXT_LIMITS, _text

AS_WRITTEN = "hours_as_written"  # warning code
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def read_hours(value: Any) -> tuple[str | None, str | None]:
    """(opening_hours text or None, the text as written when it could not be read, else None)."""
    text = _text({"hours": value}, "hours")
    if text is None:
        return None, None
    try:
        parse_hours(text)
        return text, None
    except HoursSyntaxError as exc:
        if not _CJK.search(text):
            raise InvalidStation(f"hours: cannot be read: {exc}", "hours") from None
    converted = zh_hours(text)
    if converted is not None:
        return converted, None
    if len(text) > TEXT_LIMITS["hours_text"]:
        raise InvalidStation(f"hours: longer than {TEXT_LIMITS['hours_text']} characters and not readable", "hours")
    return None, text


def check_hours(values: np.ndarray, written: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, list]:
    """(hours, hours_text, issues): one read per distinct text; a text kept as written is an issue with
    code hours_as_written (a warning), an unreadable non-Chinese one an invalid_hours rejection."""
    n = len(values)
    codes, uniques = factorize(values)
    hours, kept, problems = [], [], []
    for value in [*uniques, None]:  # the last stands for empty cells (code -1)
        try:
            read, as_written = read_hours(value)
            problem = (AS_WRITTEN, (f"hours {as_written!r} could not be read as opening hours: kept as written, "
                       "shown as written, open-now unknown")) if as_written else None
        except InvalidStation as exc:
            read, as_written, problem = None, None, ("invalid_hours", str(exc.message))
        hours.append(read)
        kept.append(as_written)
        problems.append(problem)
    codes = np.where(codes < 0, len(hours) - 1, codes)
    out_hours = np.array(hours, dtype=object)[codes]
    out_kept = np.array(kept, dtype=object)[codes]
    if written is not None:  # a file's own hours_text column (our export) where the hours gave none
        given = np.fromiter((_text({"hours_text": v}, "hours_text") if isinstance(v, str) else None
                             for v in written), object, n)
        out_kept = np.where(np.equal(out_kept, None), given, out_kept)
    flagged = np.array([p is not None for p in problems])[codes]
    issues = [(i, "hours", *problems[codes[i]]) for i in np.flatnonzero(flagged).tolist()]
    return out_hours, out_kept, issues
