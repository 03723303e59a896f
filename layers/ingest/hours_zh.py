"""Chinese opening-hours text (周一至周五 9:00-17:00, 早8点-晚6点, 全天24小时 …) as the `opening_hours`
subset that geo/hours.py reads; None when the text cannot be read (the caller keeps it as written).

Pure: the words come from layers/ingest/data/hours_zh.json (data, not code). The text is read left to right
as a list of rules, each a day part (周一至周五, 工作日, 周末, 周六、周日, 节假日 …) and the time
spans after it (9:00-12:00，14:00-17:30; 上午/下午/晚 shift the hours; 次日 lets a span pass
midnight); a day part followed by a closed word (休息, 不开放 …) is an `off` rule, 节假日休息 is
`PH off`, and 全天/24小时 is all day. Every answer is checked with geo.hours.parse_hours.
"""
from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from geo.hours import HoursSyntaxError, parse_hours

WORDS_FILE = Path(__file__).resolve().parent / "data" / "hours_zh.json"
MAX_CHARS = 200
ALL_DAY = "\u2400"  # stands for every all-day word (24小时 …) before 点/时 are read as hour marks


def _alternatives(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@lru_cache(maxsize=1)
def _grammar() -> dict:
    words = json.loads(WORDS_FILE.read_text(encoding="utf-8"))
    join = f"(?:{_alternatives(words['range_joiners'])})"
    day = f"(?:{_alternatives(words['day_prefixes'])})([{''.join(words['days'])}])"
    shift = _alternatives([*words["morning"], *words["noon"], *words["afternoon"]])

    def clock(n: int) -> str:
        return rf"(?P<s{n}>{shift})?\s*(?P<h{n}>\d{{1,2}})(?::(?P<m{n}>\d{{2}}))?"
    token = "|".join([
        rf"(?P<allday>{ALL_DAY})",
        rf"(?P<range>{day}\s*{join}\s*(?:{_alternatives(words['day_prefixes'])})?(?P<last>[{''.join(words['days'])}]))",
        rf"(?P<day>{day.replace('([', '(?P<one>[')})",
        rf"(?P<word>{_alternatives(words['day_words'])})",
        rf"(?P<span>{clock(1)}\s*{join}\s*(?P<next>{_alternatives(words['next_day'])})?\s*{clock(2)})",
        rf"(?P<closed>{_alternatives(words['closed'])})",
        rf"(?P<sep>{_alternatives(words['separators'])}|\s)",
    ])
    return {"words": words, "token": re.compile(token)}


def _normal(text: str, words: dict) -> str:
    out = unicodedata.normalize("NFKC", text).strip()
    for word in sorted(words["all_day"], key=len, reverse=True):
        out = out.replace(unicodedata.normalize("NFKC", word), ALL_DAY)
    for mark, replacement in words["hour_marks"].items():
        out = out.replace(mark, replacement)
    return re.sub(r"(\d):(?!\d)", r"\1", out)  # "8:" left by 8点 before a joiner


def _hour(shift: str | None, hour: str, minute: str | None, words: dict) -> tuple[int, int] | None:
    h, m = int(hour), int(minute or 0)
    if shift in words["afternoon"] and h < 12 or shift in words["noon"] and h < 6:
        h += 12
    return (h, m) if 0 <= h <= 24 and 0 <= m < 60 and not (h == 24 and m) else None


def _span(match: re.Match, words: dict) -> str | None:
    """'HH:MM-HH:MM' of a span match; an end without 早/晚 takes the start's 晚 (晚6-9点), not after 次日."""
    s1, s2, nxt = match.group("s1"), match.group("s2"), match.group("next")
    start = _hour(s1, match.group("h1"), match.group("m1"), words)
    inherited = s1 if s2 is None and not nxt and s1 in words["afternoon"] else s2
    end = _hour(inherited, match.group("h2"), match.group("m2"), words)
    if start is None or end is None:
        return None
    if end <= start and not nxt and end[0] < 12 and s2 is None:  # 8:00-6:00 written without 晚: 18:00
        end = (end[0] + 12, end[1])
    if end == start:
        return None
    return f"{start[0]:02d}:{start[1]:02d}-{end[0]:02d}:{end[1]:02d}"


def _days(first: str, last: str | None, words: dict) -> str:
    a, b = words["days"][first], words["days"][last] if last else None
    return a if b is None or a == b else f"{a}-{b}"


class _Rules:
    def __init__(self) -> None:
        self.rules: list[tuple[list[str], list[str], bool]] = []  # (day parts, spans, off)
        self.days: list[str] = []
        self.spans: list[str] = []
        self.all_day = False

    def day(self, part: str) -> None:
        if self.spans:
            self.close()
        self.days.append(part)

    def close(self, off: bool = False) -> None:
        if self.days or self.spans:
            self.rules.append((self.days, self.spans, off))
        self.days, self.spans = [], []

    def text(self, every_day_alone: bool) -> str | None:
        self.close()
        out = []
        for days, spans, off in self.rules:
            if off:
                out.append(f"{','.join(days)} off" if days else "off")
            elif spans or self.all_day or every_day_alone:
                times = ",".join(spans) if spans else "00:00-24:00"
                day_text = ",".join(d for d in days if d != "Mo-Su")
                out.append(f"{day_text} {times}".strip() if day_text else times)
            else:
                return None
        if not self.all_day and all(off for _, _, off in self.rules):
            return None  # only closed days (周末休息): the open ones are not said
        if self.all_day and all(off for _, _, off in self.rules):
            out.insert(0, "24/7")  # 24小时，节假日休息: 24/7; PH off
        if not out:
            return None
        return "24/7" if out == ["00:00-24:00"] else "; ".join(out)


def zh_hours(text: str | None) -> str | None:
    """The opening_hours text for Chinese hours words, or None when they cannot be read."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_CHARS:
        return None
    grammar = _grammar()
    words = grammar["words"]
    source = _normal(text, words)
    rules, at = _Rules(), 0
    for match in grammar["token"].finditer(source):
        if match.start() != at and source[at:match.start()].strip():
            return None  # words we do not know: not guessed at
        at = match.end()
        kind = match.lastgroup
        if kind == "allday":
            rules.all_day = True
        elif kind == "range":
            first = next(g for g in match.groups()[match.re.groupindex["range"]:] if g is not None)
            rules.day(_days(first, match.group("last"), words))
        elif kind == "day":
            rules.day(words["days"][match.group("one")])
        elif kind == "word":
            rules.day(words["day_words"][match.group("word")])
        elif kind == "span":
            span = _span(match, words)
            if span is None:
                return None
            rules.spans.append(span)
        elif kind == "closed":
            if not rules.days or rules.spans:
                return None
            rules.close(off=True)
    if source[at:].strip():
        return None
    every_day = any(w in source for w in words["every_day_alone_is_all_day"])
    result = rules.text(every_day)
    if result is None:
        return None
    try:
        parse_hours(result)
    except HoursSyntaxError:
        return None
    return result
