"""OpenStreetMap `opening_hours` evaluated in Asia/Shanghai time (China's public holidays for `PH`).

Semantics (OSM's normal-rule override; our reading where the wiki is terse):
- Rules are separated by `;`. For each calendar day the LAST rule naming that day decides it and
  replaces everything earlier rules said about it — including the early-morning tail an earlier
  rule's overnight span (`22:00-06:00`) spilled into it. A tail spilled by the same or a later rule
  survives: `Mo-Fr 22:00-06:00; Sa off` is closed early Saturday, `Sa off; Fr 22:00-06:00` is open.
- A span past midnight belongs to the day it starts: `Fr 22:00-06:00` is open Saturday 00:00-06:00.
- `PH` names China's public holidays and official days off from the `holidays` package
  (`holidays.country_holidays("CN")`); a rule without days names every day, holidays included.
Naive datetimes are read as Asia/Shanghai wall time; aware ones are converted. Returned moments are
aware (Asia/Shanghai).
"""
from __future__ import annotations

import logging
import threading
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib

from geo.hours_syntax import DAY_MIN, HoursSyntaxError, Rule, parse_rules

__all__ = ["SHANGHAI", "HoursSyntaxError", "OpeningHours", "is_public_holiday", "open_now", "parse_hours", "rfc3339"]

LOGGER = logging.getLogger(__name__)
SHANGHAI = ZoneInfo("Asia/Shanghai")
LOOKAHEAD_DAYS = 8
_ONE_DAY = timedelta(days=1)
_HOLIDAY_LOCK = threading.Lock()
_CN_HOLIDAYS: holidays_lib.HolidayBase | None = None

Intervals = tuple[tuple[int, int], ...]  # merged [start_s, end_s) seconds of one local day


@lru_cache(maxsize=8192)
def is_public_holiday(day: date) -> bool:
    """Whether `day` (a local Asia/Shanghai date) is a public holiday or official day off in China."""
    global _CN_HOLIDAYS
    with _HOLIDAY_LOCK:  # the holidays object fills years lazily; not thread-safe on its own
        if _CN_HOLIDAYS is None:
            _CN_HOLIDAYS = holidays_lib.country_holidays("CN")
        return day in _CN_HOLIDAYS


def rfc3339(moment: datetime, timespec: str = "seconds") -> str:
    """`moment` (aware) as RFC 3339 text in Asia/Shanghai time, always with the `+08:00` offset.

    China has kept UTC+8 without summer time since 1992; callers accept only 2000-2100 (web.params),
    so the zone's older offsets (local mean time +08:05:43, the 1986-91 summer time) never appear.
    """
    return moment.astimezone(SHANGHAI).isoformat(timespec=timespec)


def _local(at: datetime) -> datetime:
    if at.tzinfo is None or at.tzinfo is SHANGHAI:
        return at
    return at.astimezone(SHANGHAI)


def _merge(spans: list[tuple[int, int]]) -> Intervals:
    out: list[list[int]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return tuple((a, b) for a, b in out)


def _owner(rules: tuple[Rule, ...], weekday: int, holiday: bool) -> int:
    """Index of the last rule naming such a day, -1 when none does."""
    for i in range(len(rules) - 1, -1, -1):
        if rules[i].matches(weekday, holiday):
            return i
    return -1


def _day_intervals(rules: tuple[Rule, ...], weekday: int, holiday: bool, prev_holiday: bool) -> Intervals:
    """Open seconds of a day from its own rule plus the surviving tail of the previous day's."""
    own = _owner(rules, weekday, holiday)
    prev = _owner(rules, (weekday - 1) % 7, prev_holiday)
    spans = [(s, min(e, DAY_MIN)) for s, e in rules[own].spans] if own >= 0 else []
    if prev >= 0 and prev >= own:  # the tail survives unless a LATER rule names this day
        spans += [(0, e - DAY_MIN) for _, e in rules[prev].spans if e > DAY_MIN]
    return tuple((a * 60, b * 60) for a, b in _merge(spans))


class OpeningHours:
    """A parsed `opening_hours` value; immutable and shared (parse_hours caches it), times in Asia/Shanghai."""

    __slots__ = ("_constant", "_table", "_uses_ph", "rules", "spec")

    def __init__(self, spec: str, rules: tuple[Rule, ...]) -> None:
        self.spec = spec
        self.rules = rules
        self._uses_ph = any(r.holidays for r in rules)
        # index: weekday * 4 + holiday * 2 + previous day holiday
        self._table: tuple[Intervals, ...] = tuple(
            _day_intervals(rules, w, bool(k & 2), bool(k & 1)) for w in range(7) for k in range(4))
        full, empty = ((0, DAY_MIN * 60),), ()
        self._constant = True if all(t == full for t in self._table) else (
            False if all(t == empty for t in self._table) else None)

    def __repr__(self) -> str:
        return f"OpeningHours({self.spec!r})"

    def _intervals(self, day: date) -> Intervals:
        if self._uses_ph:
            key = day.weekday() * 4 + is_public_holiday(day) * 2 + is_public_holiday(day - _ONE_DAY)
        else:
            key = day.weekday() * 4
        return self._table[key]

    def is_open(self, at: datetime) -> bool:
        """Whether open at `at` (naive = Asia/Shanghai wall time; aware converted to Asia/Shanghai)."""
        if self._constant is not None:
            return self._constant
        local = _local(at)
        second = local.hour * 3600 + local.minute * 60 + local.second
        for start, end in self._intervals(local.date()):
            if start <= second < end:
                return True
        return False

    @property
    def uses_holidays(self) -> bool:
        """Whether a rule names public holidays (`PH`)."""
        return self._uses_ph

    def weekday_spans(self, weekday: int, holiday: bool = False) -> list[tuple[time, time]]:
        """Open (start, end) of a weekday (0 = Monday), a public holiday or not, after an ordinary day."""
        return [(_clock(a), _clock(b)) for a, b in self._table[weekday * 4 + holiday * 2]]

    def spans_on(self, day: date) -> list[tuple[time, time]]:
        """Open (start, end) local times on an Asia/Shanghai date, sorted; an end of time(0, 0) means 24:00."""
        return [(_clock(a), _clock(b)) for a, b in self._intervals(day)]

    def _timeline(self, local: datetime) -> list[tuple[datetime, datetime]]:
        """Merged open intervals (aware, Asia/Shanghai) from local midnight through LOOKAHEAD_DAYS + 1 days."""
        first = local.date()
        out: list[tuple[datetime, datetime]] = []
        for offset in range(LOOKAHEAD_DAYS + 2):
            day = first + timedelta(days=offset)
            midnight = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
            for a, b in self._intervals(day):
                start, end = midnight + timedelta(seconds=a), midnight + timedelta(seconds=b)
                if out and out[-1][1] == start:
                    out[-1] = (out[-1][0], end)
                else:
                    out.append((start, end))
        return out

    def next_open(self, at: datetime) -> datetime | None:
        """The next moment strictly after `at` at which it opens (Asia/Shanghai, aware); None within 8 days."""
        local = _local(at).replace(tzinfo=SHANGHAI)
        horizon = local + timedelta(days=LOOKAHEAD_DAYS)
        for start, _ in self._timeline(local):
            if local < start <= horizon:
                return start
        return None

    def next_close(self, at: datetime) -> datetime | None:
        """The next moment strictly after `at` at which it closes (Asia/Shanghai, aware); None within 8 days."""
        local = _local(at).replace(tzinfo=SHANGHAI)
        horizon = local + timedelta(days=LOOKAHEAD_DAYS)
        for _, end in self._timeline(local):  # the window runs 2 days past the horizon: no cut-off ends
            if local < end <= horizon:
                return end
        return None


def _clock(second: int) -> time:
    second %= DAY_MIN * 60
    return time(second // 3600, second // 60 % 60)


@lru_cache(maxsize=4096)
def parse_hours(spec: str) -> OpeningHours:
    """Parse an OSM `opening_hours` string (Asia/Shanghai evaluation); HoursSyntaxError says where it fails."""
    return OpeningHours(spec, parse_rules(spec))


def open_now(spec: str | None, at: datetime | None = None) -> bool | None:
    """Open at `at` (default now; naive = Asia/Shanghai)? None when `spec` is missing or unreadable."""
    if not isinstance(spec, str) or not spec.strip():
        return None
    try:
        hours = parse_hours(spec)
    except HoursSyntaxError:
        return None
    return hours.is_open(at if at is not None else datetime.now(SHANGHAI))
