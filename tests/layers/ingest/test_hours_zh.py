"""Chinese hours words as opening_hours (layers.ingest.hours_zh): the issue's examples, and every answer readable."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.hours import parse_hours
from layers.ingest.hours_zh import _grammar, zh_hours

TABLE = [
    ("周一至周五 9:00-17:00", "Mo-Fr 09:00-17:00"),
    ("周一至周五9:00-17:00，节假日休息", "Mo-Fr 09:00-17:00; PH off"),
    ("工作日 9:00-17:00", "Mo-Fr 09:00-17:00"),
    ("周末 10:00-16:00", "Sa,Su 10:00-16:00"),
    ("周一至周五 9:00-17:00，周六、周日休息", "Mo-Fr 09:00-17:00; Sa,Su off"),
    ("星期一到星期六 8:30-17:30", "Mo-Sa 08:30-17:30"),
    ("早8点-晚6点", "08:00-18:00"),
    ("早8点到晚6点", "08:00-18:00"),
    ("上午9:00-12:00，下午14:00-17:30", "09:00-12:00,14:00-17:30"),
    ("上午9点-12点 下午2点-5点半", "09:00-12:00,14:00-17:30"),
    ("工作日 上午9:00-12:00 下午13:30-17:00", "Mo-Fr 09:00-12:00,13:30-17:00"),
    ("全天", "24/7"),
    ("24小时", "24/7"),
    ("全天24小时", "24/7"),
    ("全年无休", "24/7"),
    ("24小时，节假日休息", "24/7; PH off"),
    ("夜间 20:00-次日8:00", "20:00-08:00"),
    ("晚8点-早6点", "20:00-06:00"),
    ("８：３０－１７：３０", "08:30-17:30"),
    ("看情况", None),
    ("周一至周五", None),
    ("周末休息", None),
    ("夜间", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), TABLE)
def test_chinese_hours_table(text, expected):
    assert zh_hours(text) == expected


_WORDS = _grammar()["words"]
_PIECES = st.sampled_from([*_WORDS["day_words"], *_WORDS["all_day"], *_WORDS["closed"], *_WORDS["morning"],
                           *_WORDS["afternoon"], *_WORDS["next_day"], *_WORDS["separators"], *_WORDS["range_joiners"],
                           "周一", "星期三", "周日", "点", "点半", ":", "0", "8", "9", "12", "17", "24", "30", "节假日"])


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_every_answer_parses_with_geo_hours(text):
    answer = zh_hours(text)
    if answer is not None:
        parse_hours(answer)
