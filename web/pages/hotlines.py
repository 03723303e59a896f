"""Hotlines as data (`web/pages/data/hotlines.json`): number, name, what for, hours, verified_at.

Hours differ by province and change, so they are data in `opening_hours` syntax with the date
they were last checked; the shipped values are marked illustrative. The panel puts the lines that
answer now first, and among them the one that fits the reader's need (the layers asked for).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from geo.hours import parse_hours
from web.i18n import format_next_open, translate

HOTLINES_FILE = Path(__file__).resolve().parent / "data" / "hotlines.json"


@dataclass(frozen=True)
class Hotline:
    """One public hotline; `hours` in opening_hours syntax (Asia/Shanghai)."""

    number: str
    name: dict[str, str]
    what: dict[str, str]
    hours: str
    needs: tuple[str, ...]
    verified_at: str

    def answers_at(self, at: datetime) -> bool:
        return parse_hours(self.hours).is_open(at)


@cache
def load(path: Path = HOTLINES_FILE) -> tuple[tuple[Hotline, ...], bool]:
    """(hotlines in file order, whether the values are illustrative samples)."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    lines = tuple(Hotline(str(h["number"]), dict(h["name"]), dict(h["what"]), str(h["hours"]),
                          tuple(h.get("needs") or ()), str(h["verified_at"])) for h in raw["hotlines"])
    for line in lines:
        parse_hours(line.hours)  # a typo in the file fails at the first page, loudly
    return lines, bool(raw.get("illustrative"))


def ranked(at: datetime, needs: Sequence[str] = ()) -> list[Hotline]:
    """Hotlines answering at `at` first; within that, those fitting `needs` (layer ids) first."""
    lines, _ = load()

    def key(item: tuple[int, Hotline]) -> tuple:
        i, line = item
        return (not line.answers_at(at), not (set(needs) & set(line.needs)), i)

    return [line for _, line in sorted(enumerate(lines), key=key)]


def panel(at: datetime, lang: str, needs: Sequence[str] = ()) -> dict[str, Any]:
    """What the hotline panel shows, every text in `lang`."""
    _, illustrative = load()
    items = []
    for line in ranked(at, needs):
        now = line.answers_at(at)
        later = "" if now else format_next_open(_next(line, at), at, lang)
        items.append({"number": line.number, "name": line.name.get(lang) or line.name["zh"],
                      "what": line.what.get(lang) or line.what["zh"], "answers_now": now,
                      "state": translate(lang, "hotline.now") if now else (later or translate(lang, "hotline.not_now")),
                      "verified_at": line.verified_at})
    return {"items": items, "illustrative": illustrative, "first_now": next((i for i in items if i["answers_now"]), None)}


def _next(line: Hotline, at: datetime) -> str | None:
    moment = parse_hours(line.hours).next_open(at)
    return moment.isoformat() if moment else None
