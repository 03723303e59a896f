"""China's official days off and make-up working days (调休), by local Asia/Shanghai date.

Source: the `holidays` package's China calendar, which transcribes the State Council General
Office's yearly notices (国务院办公厅关于YYYY年部分节假日安排的通知): the statutory days, the
weekdays given off in exchange for a weekend day (its "休息日（由 … 调休）" entries) and, paired with
each of those, the Saturday or Sunday worked instead. A notice's break (e.g. "2月15日至23日放假调休，
共9天") also counts the ordinary weekend days inside it; the package lists only the days that would
otherwise be worked, so a break here is a run of days off: the package's days plus every Saturday
and Sunday that touches one of them (directly or through another such weekend day) and is not a
make-up working day.

OFFICIAL_YEARS are the years with a notice in the installed package (2001 through its latest year).
Other years get the package's estimate (statutory days; a holiday on a weekend moved to the next
weekday) with the same weekend rule and no make-up working days.
"""
from __future__ import annotations

import logging
import threading
from datetime import date, timedelta
from functools import lru_cache

import holidays as holidays_lib
from holidays.countries.china import ChinaStaticHolidays

__all__ = ["OFFICIAL_YEARS", "is_day_off", "make_up_days", "worked_as"]

LOGGER = logging.getLogger(__name__)
FIRST_OFFICIAL_YEAR = 2001  # the package is checked against the notices from 2001 on
OFFICIAL_YEARS = range(FIRST_OFFICIAL_YEAR, max(ChinaStaticHolidays.special_public_holidays) + 1)
_ONE_DAY = timedelta(days=1)
_LOCK = threading.Lock()  # the holidays object fills years lazily; not thread-safe on its own
_PACKAGE = holidays_lib.country_holidays("CN")


def _substitutions() -> dict[date, date]:
    """Make-up working day -> the weekday given off in exchange, from the package's notice data."""
    out: dict[date, date] = {}
    for year, entries in ChinaStaticHolidays.special_public_holidays.items():
        for entry in (entries,) if isinstance(entries[0], int) else entries:
            if len(entry) >= 4 and isinstance(entry[2], int):  # (off month, day, worked month, day[, year])
                worked = date(entry[4] if len(entry) == 5 else year, entry[2], entry[3])
                out[worked] = date(year, entry[0], entry[1])
    return out


_WORKED = _substitutions()


def _package_day_off(day: date) -> bool:
    with _LOCK:
        return day in _PACKAGE


def _weekend_rest(day: date) -> bool:
    return day.weekday() >= 5 and day not in _WORKED


@lru_cache(maxsize=8192)
def is_day_off(day: date) -> bool:
    """Whether a local Asia/Shanghai date lies in an official holiday break (weekend days inside it included)."""
    if _package_day_off(day):
        return True
    if not _weekend_rest(day):
        return False
    for step in (_ONE_DAY, -_ONE_DAY):  # a weekend run is at most two days, so look two days each way
        near = day + step
        if _package_day_off(near) or (_weekend_rest(near) and _package_day_off(near + step)):
            return True
    return False


def worked_as(day: date) -> int | None:
    """For a make-up working day (调休上班), the weekday (0 = Monday) of the day off it pays for; else None."""
    off = _WORKED.get(day)
    return off.weekday() if off is not None else None


def make_up_days(year: int) -> dict[date, date]:
    """The make-up working days of a year, each with the day off it pays for (empty outside OFFICIAL_YEARS)."""
    return {worked: off for worked, off in sorted(_WORKED.items()) if worked.year == year}
