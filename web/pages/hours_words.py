"""Opening hours as words: "周一至周五 09:00–17:00，周六 09:00–12:00，法定节假日休息", today marked.

The raw `opening_hours` syntax (`Mo-Fr 09:00-17:00; PH off`) is for data, not for people; this
turns the evaluator's week (geo.hours) into groups of days with the same hours.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from geo.hours import HoursSyntaxError, is_public_holiday, parse_hours
from web.i18n import translate

_FULL_DAY = [(time(0), time(0))]


@dataclass(frozen=True)
class DayGroup:
    """Days with the same hours: their label, the hours in words, and whether today is one of them."""

    days: str
    hours: str
    today: bool


def _clock(moment: time, end: bool = False) -> str:
    return "24:00" if end and moment == time(0) else moment.strftime("%H:%M")


def _spans_text(spans: list[tuple[time, time]], lang: str) -> str:
    if not spans:
        return translate(lang, "words.closed")
    if spans == _FULL_DAY:
        return translate(lang, "words.all_day")
    return translate(lang, "words.span_sep").join(f"{_clock(a)}–{_clock(b, end=True)}" for a, b in spans)


def _days_label(first: int, last: int, lang: str) -> str:
    if first == 0 and last == 6:
        return translate(lang, "words.every_day")
    if first == last:
        return translate(lang, f"weekday.{first}")
    return translate(lang, "words.day_range", first=translate(lang, f"weekday.{first}"),
                     last=translate(lang, f"weekday.{last}"))


def week_groups(spec: str | None, at: datetime, lang: str) -> list[DayGroup] | None:
    """The week as groups of consecutive days with equal hours (and public holidays when the hours
    name them), in `lang`; None when the hours are unknown or unreadable."""
    if not spec:
        return None
    try:
        hours = parse_hours(spec)
    except HoursSyntaxError:
        return None
    week = [hours.weekday_spans(day) for day in range(7)]
    holiday_today = hours.uses_holidays and is_public_holiday(at.date())
    groups: list[DayGroup] = []
    start = 0
    for day in range(1, 8):
        if day == 7 or week[day] != week[start]:
            today = not holiday_today and start <= at.weekday() <= day - 1
            groups.append(DayGroup(_days_label(start, day - 1, lang), _spans_text(week[start], lang), today))
            start = day
    if hours.uses_holidays:
        spans = hours.weekday_spans(0, holiday=True)
        groups.append(DayGroup(translate(lang, "words.holidays"), _spans_text(spans, lang), holiday_today))
    return groups


def hours_sentence(spec: str | None, at: datetime, lang: str) -> str:
    """The week's hours as one sentence ("" when unknown)."""
    groups = week_groups(spec, at, lang) or []
    return translate(lang, "words.group_sep").join(
        translate(lang, "words.group", days=g.days, hours=g.hours) for g in groups)
