"""The station page's facts in words: access (how you get in), status and source, each translated.

Stored values are codes (`scan_qr`, `temporarily_closed`, `sample`); a person reads words. A
source that is not one of the known codes is a name from the data (an operator, a bureau) and is
shown as it is, marked as data so the language check leaves it alone.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from web.i18n import catalog, translate

KNOWN_SOURCES = ("sample", "test", "osm", "import", "editor")


def source_text(source: str | None, lang: str) -> tuple[str, bool]:
    """(text, whether it is data shown as written) for a station's `source`."""
    if not source:
        return "", False
    key = f"source.{source}"
    if key in catalog("zh"):
        return translate(lang, key), False
    return source, True


def facts(card: Mapping[str, Any], lang: str) -> list[dict[str, Any]]:
    """(label, value, is_data) rows for the station page, in `lang`; values translated where they are codes."""
    rows = []
    if card.get("access"):
        rows.append({"label": translate(lang, "station.access"), "value": translate(lang, f"access.short.{card['access']}"),
                     "data": False})
    if card.get("status"):
        rows.append({"label": translate(lang, "station.status"), "value": translate(lang, f"status.word.{card['status']}"),
                     "data": False})
    if card.get("operator"):
        rows.append({"label": translate(lang, "station.operator"), "value": card["operator"], "data": True})
    if card.get("verified_at"):
        rows.append({"label": translate(lang, "station.verified_at"), "value": card["verified_at"], "data": False})
    if card.get("verified_by"):
        rows.append({"label": translate(lang, "station.verified_by"), "value": card["verified_by"], "data": True})
    text, is_data = source_text(card.get("source"), lang)
    if text:
        rows.append({"label": translate(lang, "station.source"), "value": text, "data": is_data})
    return rows
