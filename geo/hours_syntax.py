"""Parser for the OpenStreetMap `opening_hours` subset Yizhan supports (minutes of the day, no time zone).

Grammar (whitespace anywhere between tokens; day names, `PH`, `off`... in any letter case):

    spec      := '24/7' | rule { ';' rule } [ ';' ]
    rule      := '24/7' | [ days ] [ times | 'off' | 'closed' | 'open' ]      (at least one part)
    days      := item { ',' item }        item := Wd [ '-' Wd ] | 'PH'        Wd := Mo|Tu|We|Th|Fr|Sa|Su
    times     := span { ',' span } [ 'open' ]
    span      := HH:MM '-' HH:MM          start 00:00-23:59; end up to 48:00; end <= start wraps midnight

A rule without days applies to every day (holidays included); days without times mean all day.
Full-width forms common in Chinese text (：，；－ and full-width digits/letters, en/em dashes, ～) are
read as their ASCII equivalents; positions in error messages count characters of the original text.
Not supported (rejected with a message): month/date selectors, `SH`, `,` as an additional-rule
separator, `||`, times followed by `off`, sunrise/sunset, comments.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

WEEKDAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
DAY_MIN = 24 * 60

_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULLWIDTH.update({0x3000: " ", 0x2013: "-", 0x2014: "-", 0x2212: "-", 0x301C: "-", 0xFF5E: "-", 0x7E: "-"})
_TOKEN = re.compile(r"(?P<always>24/7)|(?P<time>\d{1,2}:\d{2})|(?P<word>[A-Za-z]+)|(?P<punct>[-,;])|(?P<bad>\S)")


class HoursSyntaxError(ValueError):
    """An `opening_hours` string Yizhan cannot read; `position` is the 0-based character index."""

    def __init__(self, problem: str, position: int, spec: str) -> None:
        super().__init__(f"{problem} at position {position} in {spec!r}")
        self.problem = problem
        self.position = position


@dataclass(frozen=True)
class Rule:
    """One `;`-separated rule: weekdays (0=Mo; None = every day), PH flag, spans in minutes (end may pass 1440)."""

    weekdays: frozenset[int] | None
    holidays: bool
    spans: tuple[tuple[int, int], ...]

    def matches(self, weekday: int, holiday: bool) -> bool:
        """Whether this rule names a day with this weekday (0=Monday) and holiday status."""
        return self.weekdays is None or weekday in self.weekdays or (holiday and self.holidays)


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    pos: int


def _tokens(spec: str) -> list[_Tok]:
    text = spec.translate(_FULLWIDTH)
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "bad"
        if kind == "bad":
            raise HoursSyntaxError(f"unexpected character {spec[m.start()]!r}", m.start(), spec)
        out.append(_Tok(kind, m.group().lower(), m.start()))
    return out


class _Parser:
    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.toks = _tokens(spec)
        self.i = 0

    def fail(self, problem: str, tok: _Tok | None = None) -> HoursSyntaxError:
        tok = tok or self.peek()
        pos = tok.pos if tok else len(self.spec.rstrip())
        return HoursSyntaxError(problem, pos, self.spec)

    def peek(self, ahead: int = 0) -> _Tok | None:
        j = self.i + ahead
        return self.toks[j] if j < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise self.fail("unexpected end")
        self.i += 1
        return tok

    def at(self, kind: str, text: str | None = None, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok is not None and tok.kind == kind and (text is None or tok.text == text)

    def is_day(self, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok is not None and tok.kind == "word" and (tok.text in WEEKDAYS or tok.text == "ph")

    # ---- grammar ---------------------------------------------------------------------------
    def parse(self) -> tuple[Rule, ...]:
        if not self.toks:
            raise HoursSyntaxError("empty opening hours", 0, self.spec)
        rules = [self.rule()]
        while self.at("punct", ";"):
            self.take()
            if self.peek() is None:
                break  # a trailing ';' is harmless
            rules.append(self.rule())
        if self.peek() is not None:
            tok = self.peek()
            hint = " (use ';' between rules)" if tok.text == "," else ""
            raise self.fail(f"unexpected {tok.text!r}{hint}")
        return tuple(rules)

    def rule(self) -> Rule:
        if self.at("always"):
            self.take()
            return Rule(None, False, ((0, DAY_MIN),))
        if self.at("punct", ";"):
            raise self.fail("empty rule")
        weekdays, holidays = self.days() if self.is_day() else (None, False)
        named = weekdays is not None
        if self.at("word", "off") or self.at("word", "closed"):
            self.take()
            return Rule(weekdays, holidays, ())
        if self.at("word", "open"):
            self.take()
            return Rule(weekdays, holidays, ((0, DAY_MIN),))
        if self.at("time"):
            spans = self.times()
            if self.at("word", "open"):
                self.take()
            elif self.at("word", "off") or self.at("word", "closed"):
                raise self.fail("'off' after times is not supported")
            return Rule(weekdays, holidays, spans)
        if named and (self.peek() is None or self.at("punct", ";")):
            return Rule(weekdays, holidays, ((0, DAY_MIN),))
        tok = self.peek()
        if tok is None:
            raise self.fail("expected days or times")
        if tok.kind == "word":
            original = self.spec[tok.pos:tok.pos + len(tok.text)]
            raise self.fail(f"unknown weekday {original!r}" if len(tok.text) == 2 else f"unknown word {original!r}")
        raise self.fail(f"expected days or times, found {tok.text!r}")

    def days(self) -> tuple[frozenset[int], bool]:
        weekdays: set[int] = set()
        holidays = False
        while True:
            tok = self.take()
            if tok.text == "ph":
                holidays = True
            else:
                weekdays.update(self.day_range(tok))
            if self.at("punct", ",") and self.is_day(1):
                self.take()
                continue
            if self.at("punct", ",") and self.at("word", ahead=1):
                raise self.fail(f"unknown weekday {self.peek(1).text!r}", self.peek(1))
            return frozenset(weekdays), holidays

    def day_range(self, first: _Tok) -> list[int]:
        start = WEEKDAYS.index(first.text)
        if not self.at("punct", "-"):
            return [start]
        self.take()
        tok = self.peek()
        if tok is None or tok.kind != "word" or tok.text not in WEEKDAYS:
            raise self.fail("expected a weekday (Mo..Su) after '-'" if tok is None or tok.kind != "word"
                            else f"unknown weekday {self.spec[tok.pos:tok.pos + len(tok.text)]!r}")
        end = WEEKDAYS.index(self.take().text)
        return [(start + k) % 7 for k in range((end - start) % 7 + 1)]  # Fr-Mo wraps over the weekend

    def times(self) -> tuple[tuple[int, int], ...]:
        spans = [self.span()]
        while self.at("punct", ",") and self.at("time", ahead=1):
            self.take()
            spans.append(self.span())
        if self.at("punct", ",") and self.is_day(1):
            raise self.fail("',' between rules is not supported (use ';')")
        return tuple(spans)

    def span(self) -> tuple[int, int]:
        start_tok = self.take()
        start = self.clock(start_tok, limit_h=23)
        if not self.at("punct", "-"):
            raise self.fail("expected '-' after a start time")
        self.take()
        if not self.at("time"):
            raise self.fail("expected an end time after '-'")
        end_tok = self.take()
        end = self.clock(end_tok, limit_h=48)
        if end <= start and end <= DAY_MIN:
            end += DAY_MIN  # past midnight: the early part belongs to the next day
        if end - start > DAY_MIN:
            raise self.fail("a time span longer than 24 hours", end_tok)
        return start, end

    def clock(self, tok: _Tok, limit_h: int) -> int:
        hours, minutes = (int(part) for part in tok.text.split(":"))
        if minutes > 59:
            raise self.fail(f"minutes out of range in {tok.text!r}", tok)
        if hours > limit_h or (hours == limit_h and minutes and limit_h != 23):
            kind = "start" if limit_h == 23 else "end"
            raise self.fail(f"{kind} time {tok.text!r} out of range", tok)
        return hours * 60 + minutes


def parse_rules(spec: str) -> tuple[Rule, ...]:
    """The rules of an `opening_hours` string, in order (minutes of the local day); HoursSyntaxError if bad."""
    if not isinstance(spec, str):
        raise HoursSyntaxError(f"expected a string, not {type(spec).__name__}", 0, repr(spec))
    return _Parser(spec).parse()
