"""The pages' translation layer: message catalogs in `web/translations/<lang>.json`, zh-CN first.

Every string a person reads on a page goes through `gettext(key)`; the catalogs are plain JSON
(message id -> text, with `{name}` placeholders) so a translator edits one file per language.
A key missing from a catalog falls back to Chinese, and a key missing there too shows the key.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from flask import g, request
from werkzeug.datastructures import LanguageAccept

LOGGER = logging.getLogger(__name__)
CATALOG_DIR = Path(__file__).resolve().parent / "translations"
LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
HTML_LANG = {"zh": "zh-CN", "en": "en"}
_ALL_DAY = {"00:00-24:00", "00:00-00:00"}  # how a whole day may come back from `hours_today`


@cache
def catalog(lang: str) -> Mapping[str, str]:
    """The message catalog of `lang` (read once)."""
    path = CATALOG_DIR / f"{lang}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def choose_language(explicit: str | None, accept: LanguageAccept | None) -> str:
    """`?lang=` when it names a supported language, else the browser's preference, else Chinese."""
    wanted = (explicit or "").strip().lower().split("-")[0]
    if wanted in LANGUAGES:
        return wanted
    if accept:
        best = accept.best_match(["zh-CN", "zh", "en"], default=None)
        if best:
            return best.split("-")[0].lower()
    return DEFAULT_LANGUAGE


def current_language() -> str:
    """The language of this request (chosen once, cached on `g`)."""
    if "yizhan_lang" not in g:
        g.yizhan_lang = choose_language(request.args.get("lang"), request.accept_languages)
    return g.yizhan_lang


def explicit_language() -> str | None:
    """The language named in the URL (to carry along in links), or None."""
    raw = (request.args.get("lang") or "").strip().lower()
    return raw if raw in LANGUAGES else None


def translate(lang: str, key: str, **values: Any) -> str:
    """The text of message `key` in `lang`, placeholders filled from `values`."""
    text = catalog(lang).get(key)
    if text is None:
        text = catalog(DEFAULT_LANGUAGE).get(key)
        if text is None:
            LOGGER.warning("missing message %r", key)
            return key
    return text.format(**values) if values else text


def gettext(key: str, **values: Any) -> str:
    """The text of message `key` in the request's language."""
    return translate(current_language(), key, **values)


def format_distance(distance_m: float | None, lang: str) -> str:
    """A walking-scale distance for people: "350 米", "1.2 公里", "35 km"."""
    if distance_m is None:
        return ""
    if distance_m < 1000:
        return translate(lang, "unit.m", n=int(round(distance_m / 10.0) * 10))
    if distance_m < 100_000:
        return translate(lang, "unit.km", n=f"{distance_m / 1000:.1f}")
    return translate(lang, "unit.km", n=f"{distance_m / 1000:.0f}")


def format_next_open(next_open: str | None, at: datetime, lang: str) -> str:
    """When a closed place opens again, relative to `at` (both Asia/Shanghai): today, tomorrow, weekday."""
    if not next_open:
        return ""
    moment = datetime.fromisoformat(next_open)
    days = (moment.date() - at.date()).days
    clock = moment.strftime("%H:%M")
    if days == 0:
        return translate(lang, "hours.opens_today", time=clock)
    if days == 1:
        return translate(lang, "hours.opens_tomorrow", time=clock)
    if 1 < days < 7:
        day = translate(lang, f"weekday.{moment.weekday()}")
        return translate(lang, "hours.opens_weekday", day=day, time=clock)
    return translate(lang, "hours.opens_date", date=moment.strftime("%m-%d"), time=clock)


def open_state(props: Mapping[str, Any], at: datetime, lang: str) -> tuple[str, str]:
    """(css class, sentence) for a station's open state: open / closed / unknown."""
    if props.get("status") == "temporarily_closed":
        return "closed", translate(lang, "status.temporarily_closed")
    if props.get("status") == "removed":
        return "closed", translate(lang, "status.removed")
    today = props.get("hours_today")
    if today and any(span in _ALL_DAY for span in today):
        spans = translate(lang, "hours.all_day")
    elif today:
        spans = translate(lang, "hours.today", spans=", ".join(today))
    else:
        spans = translate(lang, "hours.closed_today")
    if props.get("open_now") is True:
        return "open", f"{translate(lang, 'state.open')} · {spans}"
    if props.get("open_now") is False:
        later = format_next_open(props.get("next_open"), at, lang)
        return "closed", " · ".join(part for part in (translate(lang, "state.closed"), later or spans) if part)
    return "unknown", translate(lang, "state.unknown")
