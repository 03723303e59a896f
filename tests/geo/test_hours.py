"""geo.hours: OSM opening_hours in Asia/Shanghai — a table of cases, overrides, holidays, errors, properties."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.cn_holidays import OFFICIAL_YEARS, make_up_days
from geo.hours import (
    SHANGHAI,
    HoursSyntaxError,
    is_public_holiday,
    open_now,
    parse_hours,
)

# 2026-05-11 is a Monday; that week (11-17 May) has no public holiday. 2026-10-01 is National Day (Thu).
MON, TUE, WED, THU, FRI, SAT, SUN = (date(2026, 5, 11) + timedelta(days=i) for i in range(7))


def at(day: date, clock: str) -> datetime:
    hh, mm = (int(x) for x in clock.split(":"))
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=SHANGHAI)


CASES = [
    ("24/7", SUN, "03:00", True),
    ("Mo-Fr 08:00-18:00", MON, "07:59", False),
    ("Mo-Fr 08:00-18:00", MON, "08:00", True),
    ("Mo-Fr 08:00-18:00", FRI, "17:59", True),
    ("Mo-Fr 08:00-18:00", FRI, "18:00", False),
    ("Mo-Fr 08:00-18:00", SAT, "10:00", False),
    ("Mo-Fr 08:00-12:00,14:00-18:00", TUE, "12:30", False),
    ("Mo-Fr 08:00-12:00,14:00-18:00", TUE, "14:30", True),
    ("Fr-Mo 10:00-16:00", SAT, "11:00", True),
    ("Fr-Mo 10:00-16:00", MON, "11:00", True),
    ("Fr-Mo 10:00-16:00", WED, "11:00", False),
    ("Mo,We,Fr 09:00-17:00", TUE, "10:00", False),
    ("Mo,We,Fr 09:00-17:00", WED, "10:00", True),
    ("Mo-Fr,Su 09:00-17:00", SAT, "10:00", False),
    ("Mo-Fr,Su 09:00-17:00", SUN, "10:00", True),
    ("08:00-20:00", SUN, "10:00", True),
    ("08:00-20:00", SUN, "21:00", False),
    ("Mo-Fr 08:00-24:00", MON, "23:59", True),
    ("Mo-Fr 08:00-24:00", TUE, "00:30", False),
    ("22:00-06:00", TUE, "23:00", True),
    ("22:00-06:00", TUE, "03:00", True),
    ("22:00-06:00", TUE, "12:00", False),
    ("Fr 22:00-06:00", SAT, "03:00", True),  # the early part belongs to the next day
    ("Fr 22:00-06:00", FRI, "03:00", False),
    ("Fr 22:00-06:00", SAT, "07:00", False),
    ("Mo-Fr 22:00-06:00; Sa off", SAT, "03:00", False),  # a later rule replaces Saturday, tail included
    ("Sa off; Fr 22:00-06:00", SAT, "03:00", True),  # ...but an earlier one does not
    ("Mo-Fr 08:00-18:00; We 10:00-12:00", WED, "09:00", False),  # `;` replaces Wednesday
    ("Mo-Fr 08:00-18:00; We 10:00-12:00", WED, "11:00", True),
    ("Mo-Fr 08:00-18:00; We 10:00-12:00", TUE, "09:00", True),
    ("Mo-Fr 08:00-18:00; Su off", SUN, "10:00", False),
    ("Mo-Su 08:00-18:00; Su closed", SUN, "10:00", False),
    ("Mo-Fr 08:00-18:00; PH off", date(2026, 10, 1), "10:00", False),  # National Day
    ("Mo-Fr 08:00-18:00; PH off", date(2026, 10, 9), "10:00", True),
    ("Mo-Su 08:00-20:00; PH 09:00-12:00", date(2026, 10, 1), "10:00", True),
    ("Mo-Su 08:00-20:00; PH 09:00-12:00", date(2026, 10, 1), "13:00", False),
    ("Mo-Su 08:00-20:00; PH 09:00-12:00", date(2026, 10, 8), "13:00", True),
    ("Sa,Su,PH 10:00-16:00", date(2026, 10, 1), "11:00", True),
    ("Sa,Su,PH 10:00-16:00", date(2026, 10, 8), "11:00", False),
    ("24/7; PH off", date(2026, 10, 1), "11:00", False),
    ("24/7; PH off", date(2026, 10, 8), "11:00", True),
    ("Mo-Fr", TUE, "03:00", True),  # days without times: all day
    ("off", TUE, "10:00", False),
    ("  mo - fr   08:00 - 18:00 ;  su  off ", TUE, "10:00", True),  # whitespace and case tolerant
    ("Mo-Fr 08：00－18：00；Sa 09：00－12：00", SAT, "10:00", True),  # full-width punctuation
    ("Mo-Fr 22:00-26:00", SAT, "01:00", True),  # extended hours past 24:00
    # a later rule for the day a span starts leaves its tail in the next day alone (opening_hours.js #87)
    ("Sa 22:00-02:00; Sa off", SUN, "01:00", True),
    ("Sa 22:00-02:00; Sa off", SAT, "23:00", False),
    ("Mo-Su 22:00-06:00; Su off", MON + timedelta(days=7), "03:00", True),
    ("Mo-Su 22:00-06:00; Su off", SUN, "03:00", False),  # Saturday's tail falls into a day a later rule names
    ("Mo-Su 22:00-06:00; Su off", SUN, "23:00", False),
    ("Sa 22:00-04:00; Sa 20:00-23:00", SUN, "03:00", True),
    ("Sa 22:00-04:00; Sa 20:00-23:00", SAT, "23:30", False),
    # a rule without days names every day and replaces what came before (spec; opening_hours.js #231)
    ("Mo-Sa 08:00-13:00; 20:00-21:00", MON, "10:00", False),
    ("Mo-Sa 08:00-13:00; 20:00-21:00", MON, "20:30", True),
    ("PH off; 08:00-18:00", date(2026, 10, 1), "10:00", True),
    ("08:00-18:00; PH off", date(2026, 10, 1), "10:00", False),
]


@pytest.mark.parametrize(("spec", "day", "clock", "expected"), CASES,
                         ids=[f"{s}@{d:%a}{c}" for s, d, c, _ in CASES])
def test_is_open_table(spec, day, clock, expected):
    assert parse_hours(spec).is_open(at(day, clock)) is expected
    assert open_now(spec, at(day, clock)) is expected


def test_naive_times_are_shanghai_and_aware_ones_are_converted():
    hours = parse_hours("Mo-Fr 08:00-18:00")
    assert hours.is_open(datetime(2026, 5, 11, 9, 0)) is True  # naive = Shanghai wall time
    assert hours.is_open(datetime(2026, 5, 11, 1, 0, tzinfo=UTC)) is True  # 09:00 in Shanghai
    assert hours.is_open(datetime(2026, 5, 11, 1, 0)) is False
    assert hours.is_open(datetime(2026, 5, 10, 23, 30, tzinfo=UTC)) is False  # Mon 07:30 there


def test_public_holidays_come_from_the_holidays_package():
    assert is_public_holiday(date(2026, 10, 1)) and is_public_holiday(date(2026, 2, 17))
    assert not is_public_holiday(date(2026, 5, 12))


# ---- the State Council's 2026 notice, typed in from it: breaks (放假) and make-up working days (上班)
BREAKS_2026 = [("01-01", "01-03"), ("02-15", "02-23"), ("04-04", "04-06"), ("05-01", "05-05"),
               ("06-19", "06-21"), ("09-25", "09-27"), ("10-01", "10-07")]
MAKE_UP_2026 = {"01-04": "01-02", "02-14": "02-20", "02-28": "02-23", "05-09": "05-05", "09-20": "10-06",
                "10-10": "10-07"}  # worked -> the day off it pays for


def _d(text: str, year: int = 2026) -> date:
    return date.fromisoformat(f"{year}-{text}")


def test_ph_is_every_day_of_the_2026_breaks_weekends_included():
    expected = set()
    for first, last in BREAKS_2026:
        day = _d(first)
        while day <= _d(last):
            expected.add(day)
            day += timedelta(days=1)
    year = [date(2026, 1, 1) + timedelta(days=k) for k in range(365)]
    assert {d for d in year if is_public_holiday(d)} == expected
    for text in ("01-03", "02-15", "02-21", "02-22", "04-04", "05-03", "06-20", "06-21", "09-26", "09-27", "10-04"):
        assert is_public_holiday(_d(text)) and _d(text).weekday() >= 5  # the weekend days issue 23 found missing


def test_make_up_working_days_of_2026_and_the_years_covered():
    assert make_up_days(2026) == {_d(w): _d(off) for w, off in MAKE_UP_2026.items()}
    assert not any(is_public_holiday(d) for d in make_up_days(2026))
    assert OFFICIAL_YEARS.start == 2001 and 2026 in OFFICIAL_YEARS
    # 2025's Spring Festival: 01-28..02-04 off, 01-26 (Sunday) and 02-08 (Saturday) worked
    assert all(is_public_holiday(date(2025, 1, 28) + timedelta(days=k)) for k in range(8))
    assert not is_public_holiday(date(2025, 1, 27)) and not is_public_holiday(date(2025, 2, 5))
    assert set(make_up_days(2025)) >= {date(2025, 1, 26), date(2025, 2, 8)}


RIGHTS_POST = "Mo-Fr 09:00-17:00; Sa 09:00-12:00; PH off"  # rp-110112-0001 in the sample data
MAKE_UP_CASES = [
    (RIGHTS_POST, "2026-02-21T10:00", False),  # a Saturday inside the Spring Festival break
    (RIGHTS_POST, "2026-02-15T10:00", False),
    (RIGHTS_POST, "2026-02-24T10:00", True),  # back at work
    (RIGHTS_POST, "2026-02-28T15:00", True),  # Saturday worked for Monday 02-23: Mo rules apply
    (RIGHTS_POST, "2026-03-07T15:00", False),  # an ordinary Saturday
    (RIGHTS_POST, "2026-03-07T10:00", True),
    ("Mo-Fr 09:00-17:00", "2026-01-04T10:00", True),  # Sunday worked for Friday 01-02
    ("Mo-Fr 09:00-17:00", "2026-01-02T10:00", True),  # a day off is PH, and only `PH` rules see that
    ("Sa,Su 10:00-16:00", "2026-02-14T11:00", False),  # a worked Saturday is not a weekend day
    ("Mo 22:00-06:00", "2026-03-01T03:00", True),  # tail of 02-28, worked as a Monday
    ("Mo 22:00-06:00", "2026-03-08T03:00", False),
    ("Su 10:00-12:00; Mo 22:00-06:00", "2026-03-01T11:00", True),
]


@pytest.mark.parametrize(("spec", "moment", "expected"), MAKE_UP_CASES, ids=[f"{s}@{m}" for s, m, _ in MAKE_UP_CASES])
def test_holiday_breaks_and_make_up_working_days(spec, moment, expected):
    assert parse_hours(spec).is_open(datetime.fromisoformat(moment)) is expected


# ---- spans_on, next_open, next_close ---------------------------------------------------------
def test_spans_on_shows_the_overnight_tail_and_midnight_as_time_zero():
    hours = parse_hours("Fr 22:00-06:00")
    assert hours.spans_on(FRI) == [(time(22), time(0))]
    assert hours.spans_on(SAT) == [(time(0), time(6))]
    assert hours.spans_on(SUN) == []
    assert parse_hours("Mo-Fr 08:00-12:00,14:00-18:00").spans_on(MON) == [(time(8), time(12)), (time(14), time(18))]
    assert parse_hours("Mo-Fr 08:00-18:00; PH off").spans_on(date(2026, 10, 1)) == []
    assert parse_hours("08:00-12:00,12:00-13:00").spans_on(MON) == [(time(8), time(13))]  # merged


def test_next_open_across_a_weekend():
    hours = parse_hours("Mo-Fr 08:00-18:00")
    assert hours.next_open(at(FRI, "19:00")) == at(MON + timedelta(days=7), "08:00")
    assert hours.next_open(at(SAT, "12:00")) == at(MON + timedelta(days=7), "08:00")
    assert hours.next_open(at(MON, "07:00")) == at(MON, "08:00")
    assert hours.next_open(at(MON, "08:00")) == at(TUE, "08:00")  # strictly after: already open
    assert hours.next_close(at(FRI, "10:00")) == at(FRI, "18:00")
    assert hours.next_close(at(SAT, "10:00")) == at(MON + timedelta(days=7), "18:00")


def test_next_open_over_the_national_day_holidays():
    hours = parse_hours("Mo-Fr 08:00-18:00; PH off")  # Oct 1-3, 5-7 off; 4 is a Sunday
    assert hours.next_open(datetime(2026, 9, 30, 19, 0)) == datetime(2026, 10, 8, 8, 0, tzinfo=SHANGHAI)


def test_next_change_over_midnight_and_none_when_it_never_changes():
    night = parse_hours("22:00-06:00")
    assert night.next_close(at(TUE, "23:00")) == at(WED, "06:00")  # not a false close at midnight
    assert night.next_open(at(TUE, "23:00")) == at(WED, "22:00")
    assert parse_hours("24/7").next_close(at(TUE, "10:00")) is None
    assert parse_hours("24/7").next_open(at(TUE, "10:00")) is None
    assert parse_hours("off").next_open(at(TUE, "10:00")) is None
    assert parse_hours("Mo-Fr 00:00-24:00").next_close(at(MON, "10:00")) == at(SAT, "00:00")


def test_next_open_is_aware_shanghai_even_for_other_zones():
    moment = parse_hours("Mo-Fr 08:00-18:00").next_open(datetime(2026, 5, 15, 12, 0, tzinfo=UTC))
    assert moment == at(MON + timedelta(days=7), "08:00") and moment.tzinfo is SHANGHAI


# ---- errors, caching, open_now ---------------------------------------------------------------
GARBAGE = ["abc", "25:00-26:00", "08:00-", "Mo-Xx 08:00-09:00", "", "   ", "Mo-Fr 8", "08:00-09:00 Mo",
           "Mo-Fr 08:00-18:00;; Sa off", "Jan off", "sunrise-sunset", "Mo-Fr 08:00-12:00, Sa 09:00-12:00",
           "08:00-12:00-14:00", "24:00-02:00", "08:70-09:00", "Mo-", "Mo 12:00-14:00 off", "SH off",
           "08:00-12:00 || closed", "Mo-Fr 01:00-49:00", "Mo 08:00-12:00 Tu"]


@pytest.mark.parametrize("spec", GARBAGE)
def test_garbage_is_rejected_with_a_position(spec):
    with pytest.raises(HoursSyntaxError, match="at position") as err:
        parse_hours(spec)
    assert isinstance(err.value, ValueError)
    assert 0 <= err.value.position <= len(spec)
    assert open_now(spec) is None


def test_error_positions_point_at_the_problem():
    with pytest.raises(HoursSyntaxError) as err:
        parse_hours("Mo-Xx 08:00-09:00")
    assert err.value.position == 3 and "Xx" in str(err.value)
    with pytest.raises(HoursSyntaxError) as err:
        parse_hours("Mo-Fr 08:00-18:00; Sa 25:00-26:00")
    assert err.value.position == 22


def test_parse_hours_is_cached_and_open_now_handles_missing_hours():
    assert parse_hours("Mo-Fr 08:00-18:00") is parse_hours("Mo-Fr 08:00-18:00")
    assert open_now(None) is None and open_now("") is None and open_now("  ") is None
    assert open_now("24/7") is True and open_now("off") is False
    assert parse_hours("Mo-Fr 08:00-18:00;").is_open(at(MON, "09:00"))  # a trailing ';' is harmless


# ---- properties against a brute-force oracle -------------------------------------------------
minutes = st.integers(0, 24 * 60 - 1)


def _hhmm(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


@settings(max_examples=300, deadline=None)
@given(st.sets(st.integers(0, 6), min_size=1), minutes, minutes, st.integers(0, 13), minutes)
def test_single_rule_matches_an_oracle(days, start, end, day_offset, probe):
    names = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]
    spec = ",".join(names[d] for d in sorted(days)) + f" {_hhmm(start)}-{_hhmm(end)}"
    moment = datetime(2026, 5, 11, tzinfo=SHANGHAI) + timedelta(days=day_offset, minutes=probe)
    wd, prev = moment.weekday(), (moment.weekday() - 1) % 7
    if start < end:
        expected = wd in days and start <= probe < end
    else:  # wraps midnight (start == end is a full 24 hours)
        expected = (wd in days and probe >= start) or (prev in days and probe < end)
    assert parse_hours(spec).is_open(moment) is expected, spec


specs = st.sampled_from([c[0] for c in CASES] + ["Mo 23:00-01:00; Tu 00:30-02:00", "Fr-Mo 20:00-04:00"])


@settings(max_examples=300, deadline=None)
@given(specs, st.integers(0, 20 * 24 * 60))
def test_next_open_and_next_close_are_real_transitions(spec, offset_min):
    hours = parse_hours(spec)
    moment = datetime(2026, 9, 20, tzinfo=SHANGHAI) + timedelta(minutes=offset_min)
    opens, closes = hours.next_open(moment), hours.next_close(moment)
    eps = timedelta(seconds=1)
    if opens is not None:
        assert opens > moment and hours.is_open(opens) and not hours.is_open(opens - eps)
        assert opens - moment <= timedelta(days=8)
    if closes is not None:
        assert closes > moment and not hours.is_open(closes) and hours.is_open(closes - eps)


def _first_change(hours, moment: datetime, to_open: bool) -> datetime | None:
    """Brute force: the first whole minute after `moment` (within 8 days) where the state becomes `to_open`."""
    t = moment.replace(second=0, microsecond=0)
    was = hours.is_open(moment)
    for _ in range(8 * 24 * 60):
        t += timedelta(minutes=1)
        now = hours.is_open(t)
        if now != was and now is to_open:
            return t
        was = now
    return None


@settings(max_examples=60, deadline=None)
@given(specs, st.integers(0, 20 * 24 * 60))
def test_next_open_and_next_close_are_the_first_transitions(spec, offset_min):
    hours = parse_hours(spec)
    moment = datetime(2026, 9, 20, tzinfo=SHANGHAI) + timedelta(minutes=offset_min)
    assert hours.next_open(moment) == _first_change(hours, moment, True)
    assert hours.next_close(moment) == _first_change(hours, moment, False)


@settings(max_examples=300, deadline=None)
@given(specs, st.integers(0, 30), minutes)
def test_spans_on_agrees_with_is_open(spec, day_offset, probe):
    hours = parse_hours(spec)
    day = date(2026, 9, 25) + timedelta(days=day_offset)
    moment = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) + timedelta(minutes=probe)
    inside = any(a.hour * 60 + a.minute <= probe < (b.hour * 60 + b.minute or 24 * 60)
                 for a, b in hours.spans_on(day))
    assert hours.is_open(moment) is inside
