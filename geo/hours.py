"""OpenStreetMap `opening_hours` evaluated in Asia/Shanghai time (China's public holidays for `PH`).

Semantics (the OSM specification's normal-rule override, as opening_hours.js and opening-hours-rs read it):
- Rules are separated by `;`. For each calendar day the LAST rule naming that day decides that day
  and replaces everything earlier rules said about it, including the early-morning tail an earlier
  rule's overnight span spilled into it: `Mo-Fr 22:00-06:00; Sa off` is closed early Saturday,
  `Sa off; Fr 22:00-06:00` is open (the tail comes from a later rule).
- A span past midnight belongs to the day it starts, and overriding that day later does not take
  back the part that fell into the next day: `Sa 22:00-02:00; Sa off` is open Sunday 01:00 and
  `Mo-Su 22:00-06:00; Su off` is open Monday 03:00 (opening_hours.js issue #87). The tail is only
  removed by a later rule naming the day it falls into.
- A rule without days names every day, holidays included, so it replaces every earlier rule:
  `Mo-Sa 08:00-13:00; 20:00-21:00` is closed Monday 10:00 (the specification and opening-hours-rs;
  opening_hours.js issue #231 is its bug), and `PH off; 08:00-18:00` is open on holidays.
- `PH` names every day of the State Council's official holiday breaks, the weekend days inside a
  break included (`geo.cn_holidays`: 2001 onwards from the notices, later years estimated).
- A make-up working day (调休上班, a Saturday or Sunday worked in exchange for a day off) is
  evaluated as the weekday it pays for: 2026-02-28 (Saturday, worked for Monday 02-23) follows the
  `Mo` rules, so `Mo-Fr 09:00-17:00; Sa 09:00-12:00` is open there until 17:00.
Naive datetimes are read as Asia/Shanghai wall time; aware ones are converted. Returned moments are
aware (Asia/Shanghai).
"""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from geo.cn_holidays import is_day_off, worked_as
from geo.hours_syntax import DAY_MIN, HoursSyntaxError, Rule, parse_rules

__all__ = ["SHANGHAI", "HoursSyntaxError", "OpeningHours", "is_public_holiday", "open_now", "parse_hours", "rfc3339"]

LOGGER = logging.getLogger(__name__)
SHANGHAI = ZoneInfo("Asia/Shanghai")
CHINA_STANDARD_TIME = timezone(timedelta(hours=8))
LOOKAHEAD_DAYS = 8
_ONE_DAY = timedelta(days=1)

Intervals = tuple[tuple[int, int], ...]  # merged [start_s, end_s) seconds of one local day


def is_public_holiday(day: date) -> bool:
    """Whether `day` (a local Asia/Shanghai date) lies in one of China's official holiday breaks (`PH`)."""
    return is_day_off(day)


def _kind(day: date) -> tuple[int, bool]:
    """(weekday the day is lived as, 0 = Monday; whether it is `PH`) for a local Asia/Shanghai date."""
    worked = worked_as(day)
    return (day.weekday() if worked is None else worked), is_day_off(day)


@lru_cache(maxsize=8192)
def _day_key(day: date) -> tuple[int, bool, int, bool]:
    """The kind of a day and of the day before it: what decides its open intervals."""
    return _kind(day) + _kind(day - _ONE_DAY if day > date.min else day)


def rfc3339(moment: datetime, timespec: str = "seconds") -> str:
    """`moment` (aware) as RFC 3339 text in Asia/Shanghai time, always with the `+08:00` offset.

    China has kept UTC+8 without summer time since 1992 and callers accept only 2000-2100 (web.params);
    the fixed offset also keeps the zone's older ones (local mean time +08:05:43 before 1901, which
    RFC 3339 cannot write) out of any text made from an earlier moment.
    """
    return moment.astimezone(CHINA_STANDARD_TIME).isoformat(timespec=timespec)


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


def _day_intervals(rules: tuple[Rule, ...], weekday: int, holiday: bool, prev_weekday: int,
                   prev_holiday: bool) -> Intervals:
    """Open seconds of a day: its own rule's spans plus the surviving tails of the rules naming the day before."""
    own = _owner(rules, weekday, holiday)
    spans = [(s, min(e, DAY_MIN)) for s, e in rules[own].spans] if own >= 0 else []
    for rule in rules[max(own, 0):]:  # a tail survives unless a LATER rule names this day
        if rule.matches(prev_weekday, prev_holiday):
            spans += [(0, e - DAY_MIN) for _, e in rule.spans if e > DAY_MIN]
    return tuple((a * 60, b * 60) for a, b in _merge(spans))


class OpeningHours:
    """A parsed `opening_hours` value; immutable and shared (parse_hours caches it), times in Asia/Shanghai."""

    __slots__ = ("_constant", "_odd", "_table", "rules", "spec")

    def __init__(self, spec: str, rules: tuple[Rule, ...]) -> None:
        self.spec = spec
        self.rules = rules
        # index: weekday * 4 + holiday * 2 + previous day holiday (the day before being weekday - 1)
        self._table: tuple[Intervals, ...] = tuple(
            _day_intervals(rules, w, bool(k & 2), (w - 1) % 7, bool(k & 1)) for w in range(7) for k in range(4))
        self._odd: dict[tuple[int, bool, int, bool], Intervals] = {}  # around make-up working days
        full, empty = ((0, DAY_MIN * 60),), ()
        self._constant = True if all(t == full for t in self._table) else (
            False if all(t == empty for t in self._table) else None)

    def __repr__(self) -> str:
        return f"OpeningHours({self.spec!r})"

    def _intervals(self, day: date) -> Intervals:
        key = _day_key(day)
        weekday, holiday, prev_weekday, prev_holiday = key
        if prev_weekday == (weekday - 1) % 7:
            return self._table[weekday * 4 + holiday * 2 + prev_holiday]
        found = self._odd.get(key)
        if found is None:
            found = self._odd[key] = _day_intervals(self.rules, *key)
        return found

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
        return any(rule.holidays for rule in self.rules)

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
