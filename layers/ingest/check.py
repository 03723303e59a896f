"""Station properties of an import checked column by column, with the model's own rules.

A rule that depends on one cell (hours, adcode, services of a layer, ...) runs once per distinct
value (`pandas.factorize`), not once per row: a million rows hold a few thousand distinct hours
or service lists. Free text (names, addresses) takes a whole-column fast path (one regex over
the joined column for control characters, lengths by `map(len)`) and falls back to the model's
per-value check only where that finds something. The values that come out are exactly what
`layers.model.validate_station` makes of the same input.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from geo.hours import HoursSyntaxError, parse_hours
from layers.errors import InvalidStation
from layers.layerdefs import Layer
from layers.model import (
    ACCESS_VALUES,
    ADCODE_RE,
    ID_RE,
    PHONE_RE,
    PRECISION_VALUES,
    STATUS_VALUES,
    TEXT_LIMITS,
    _check_date,
    _check_enum,
    _text,
    _word_list,
)

LOGGER = logging.getLogger(__name__)
Issue = tuple[int, str, str, str]  # (row, field, code, message)
FREE_TEXT = ("name", "name_en", "address", "operator", "source", "verified_by")
_CONTROL = re.compile(r"[\x00-\x1f\ud800-\udfff]")  # and lone surrogates: the model refuses both
_SEPARATOR = "\ue000"  # joins a column for one regex scan; printable, so it never matches _CONTROL
_EXCEL_DATE = re.compile(r"^(\d{4})[/.年-](\d{1,2})[/.月-](\d{1,2})日?$")


def _message(exc: InvalidStation) -> str:
    return exc.message


def _plain_text(value: Any) -> Any:
    """Integers (an adcode or phone stored as a number) as their digits; everything else unchanged."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    return value


class Opaque:
    """A JSON object (or other unhashable value) found where a string or list belongs: hashable, never valid."""

    def __init__(self, value: Any) -> None:
        self.text = repr(value)[:60]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return self.text


def hashable(value: Any) -> Any:
    """Lists as tuples (recursively), other unhashable values as Opaque."""
    if isinstance(value, list):
        return tuple(hashable(v) for v in value)
    try:
        hash(value)
    except TypeError:
        return Opaque(value)
    return value


def factorize(values: np.ndarray) -> tuple[np.ndarray, list]:
    """Codes (-1 for None) and the distinct values; lists become tuples so they can be hashed."""
    if values.dtype == object and not set(map(type, values)) <= {str, type(None), int, float, bool}:
        values = np.fromiter((hashable(v) for v in values), object, len(values))
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, list(uniques)


def by_value(values: np.ndarray, check: Callable[[Any], Any]) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """check() once per distinct value: (results per row, bad-row mask, message per distinct value).

    `check` returns the clean value or raises InvalidStation."""
    codes, uniques = factorize(values)
    results: list[Any] = []
    messages: list[str | None] = []
    for value in [*uniques, None]:  # the last one stands for missing cells (code -1)
        try:
            results.append(check(value))
            messages.append(None)
        except InvalidStation as exc:
            results.append(None)
            messages.append(_message(exc))
    table = np.fromiter(results, dtype=object, count=len(results))
    bad = np.array([m is not None for m in messages])
    codes = np.where(codes < 0, len(results) - 1, codes)
    return table[codes], bad[codes], [messages[c] for c in codes] if bad.any() else []


def _issues(bad: np.ndarray, messages: list, field: str, code: str) -> list[Issue]:
    return [(int(i), field, code, messages[i]) for i in np.flatnonzero(bad)]


def check_ids(values: np.ndarray) -> tuple[np.ndarray, list[Issue]]:
    """Station ids (integers taken as their digits, surrounding blanks dropped); None where the
    cell is empty (`layers.ingest` finds or makes the id of such a row)."""
    ids = np.fromiter((v.strip() or None if isinstance(v, str) else _plain_text(v) for v in values), object,
                      len(values))
    joined = "\n".join(v if isinstance(v, str) else "" for v in ids) + "\n"
    if re.fullmatch(r"(?:[A-Za-z0-9][A-Za-z0-9_.~-]{0,63}\n)*", joined):  # an empty cell fails it too
        return ids, []
    issues = []
    for i, v in enumerate(ids):
        if v is None:
            continue
        if not isinstance(v, str) or not ID_RE.match(v):
            issues.append((i, "id", "invalid_value",
                           "id: must be 1-64 characters of letters, digits, '_', '.', '~' or '-'"))
            ids[i] = None  # e.g. a JSON object: the row is rejected; nothing later may trip over it
    return ids, issues


def check_text(values: np.ndarray, key: str, required: bool = False) -> tuple[np.ndarray, list[Issue]]:
    """A free-text column: stripped, blank as None (or an issue when required), length and controls checked."""
    limit = TEXT_LIMITS.get(key, 300)
    if set(map(type, values)) == {str}:
        stripped = [v.strip() for v in values]
        fine = (not _CONTROL.search(_SEPARATOR.join(stripped))
                and max(map(len, stripped), default=0) <= limit and (not required or all(stripped)))
        if fine:
            return np.fromiter((s or None for s in stripped), object, len(stripped)), []
    out = np.empty(len(values), dtype=object)
    issues: list[Issue] = []
    for i, v in enumerate(values):
        try:
            out[i] = _text({key: _plain_text(v)}, key, required)
        except InvalidStation as exc:
            issues.append((i, key, "missing_value" if "required" in exc.message or "empty" in exc.message
                           else "invalid_value", exc.message))
    return out, issues


def check_pattern(values: np.ndarray, key: str, pattern: re.Pattern, what: str) -> tuple[np.ndarray, list[Issue]]:
    """A short text column that must match `pattern` (adcode, phone): text checks, then the pattern per value."""
    texts, issues = check_text(values, key)
    flagged = {row for row, *_ in issues}

    def check(text: Any) -> Any:
        if text is not None and not pattern.match(text):
            raise InvalidStation(f"{key}: {what}", key)
        return text

    out, bad, messages = by_value(texts, check)
    return out, issues + [issue for issue in _issues(bad, messages, key, "invalid_value") if issue[0] not in flagged]


PATTERNS = {"adcode": (ADCODE_RE, "must be a 6-digit county code"),
            "phone": (PHONE_RE, "must be digits, spaces, '-', '(', ')' and an optional leading '+'")}


def _hours(value: Any) -> str | None:
    text = _text({"hours": value}, "hours")
    if text is not None:
        try:
            parse_hours(text)
        except HoursSyntaxError as exc:
            raise InvalidStation(f"hours: cannot be read: {exc}", "hours") from None
    return text


def _date(value: Any) -> str | None:
    text = _text({"verified_at": value}, "verified_at")
    if text is not None:
        text = text[:10] if re.match(r"^\d{4}-\d{2}-\d{2}[T ]00:00(:00)?$", text) else text
        excel = _EXCEL_DATE.match(text)  # Excel re-saves 2026-03-01 as 2026/3/1
        if excel:
            text = "{}-{:0>2}-{:0>2}".format(*excel.groups())
    return _check_date(text)


def _enum(key: str, allowed: tuple[str, ...], default: str) -> Callable[[Any], str]:
    return lambda value: _check_enum(_text({key: value}, key), key, allowed, default)


SIMPLE_CHECKS: dict[str, tuple[Callable[[Any], Any], str]] = {
    "access": (_enum("access", ACCESS_VALUES, "open"), "invalid_value"),
    "status": (_enum("status", STATUS_VALUES, "open"), "invalid_value"),
    "verified_at": (_date, "invalid_value"),
    "location_precision": (_enum("location_precision", PRECISION_VALUES, "exact"), "invalid_value"),
    "items": (lambda value: _word_list({"items": value}, "items", max_len=100), "invalid_value"),
}


def layer_aliases(layers: Mapping[str, Layer]) -> dict[str, str]:
    """Layer ids, and their Chinese/English names and short names, lower-cased -> layer id."""
    out: dict[str, str] = {}
    for layer in layers.values():
        for name in (*layer.name.values(), *layer.short_name.values()):
            out.setdefault(name.strip().lower(), layer.id)
    out.update({lid: lid for lid in layers})
    return out


def check_layer(values: np.ndarray | None, n: int, layers: Mapping[str, Layer],
                default: str | None) -> tuple[np.ndarray, list[Issue]]:
    """Each row's layer id: the cell (an id or a layer's name), else `default`; unknown or conflicting is an issue."""
    aliases = layer_aliases(layers)
    known = ", ".join(layers)

    def check(value: Any) -> str:
        text = value.strip() if isinstance(value, str) else value
        if text is None or text == "":
            if default is None:
                raise InvalidStation("layer: is required (a column, or --layer / layer=)", "layer")
            return default
        lid = aliases.get(text.lower()) if isinstance(text, str) else None
        if lid is None:
            raise InvalidStation(f"layer: unknown layer {text!r}; known: {known}", "layer")
        if default is not None and lid != default:
            raise InvalidStation(f"layer: the row says {lid} but the import is for layer {default}", "layer")
        return lid

    column = values if values is not None else np.full(n, None, dtype=object)
    out, bad, messages = by_value(column, check)
    return out, [(i, f, _layer_code(m), m) for i, f, _, m in _issues(bad, messages, "layer", "")]


def _layer_code(message: str) -> str:
    if "required" in message:
        return "missing_value"
    return "layer_conflict" if "the import is for" in message else "unknown_layer"


def _pairs(layer_ids: np.ndarray, values: np.ndarray, check: Callable[[str | None, Any], Any]):
    """check(layer, value) once per distinct (layer, value) pair; like by_value."""
    lcodes, luniques = factorize(layer_ids)
    vcodes, vuniques = factorize(values)
    key = (lcodes.astype(np.int64) + 1) * (len(vuniques) + 1) + (vcodes + 1)
    pair_codes, pair_keys = pd.factorize(key)
    decode = [(luniques[k // (len(vuniques) + 1) - 1] if k // (len(vuniques) + 1) else None,
               vuniques[k % (len(vuniques) + 1) - 1] if k % (len(vuniques) + 1) else None) for k in pair_keys]
    return by_value(np.asarray(pair_codes), lambda code: check(None, None) if code is None else check(*decode[code]))


def check_services(layer_ids: np.ndarray, values: np.ndarray, layers: Mapping[str, Layer]):
    """Service words, each in the vocabulary of its row's layer (ids, or the words' zh/en labels)."""
    def check(lid: str | None, value: Any) -> tuple[str, ...]:
        words = _word_list({"services": value}, "services")
        if lid is None or not words:
            return words
        layer = layers[lid]
        labels = {label.strip().lower(): word for word, names in layer.services.items() for label in names.values()}
        out = tuple(dict.fromkeys(w if w in layer.services else labels.get(w.lower(), w) for w in words))
        bad = [w for w in out if w not in layer.services]
        if bad:
            raise InvalidStation(f"services: {bad[0]!r} is not in the vocabulary of layer {lid} "
                                 f"({', '.join(layer.services)})", "services")
        return out

    out, bad, messages = _pairs(layer_ids, values, check)
    return out, _issues(bad, messages, "services", "unknown_service")


def check_origins(layer_ids: np.ndarray, values: np.ndarray, layers: Mapping[str, Layer]):
    """Home-county adcodes, only on layers that serve home counties."""
    def check(lid: str | None, value: Any) -> tuple[str, ...]:
        origins = _word_list({"origins": value}, "origins")
        if origins and lid is not None and not layers[lid].has_origins:
            raise InvalidStation(f"origins: layer {lid} does not serve home counties", "origins")
        if any(not ADCODE_RE.match(code) for code in origins):
            raise InvalidStation("origins: must be 6-digit county codes", "origins")
        return origins

    out, bad, messages = _pairs(layer_ids, values, check)
    return out, _issues(bad, messages, "origins", "invalid_value")


def check_columns(columns: Mapping[str, np.ndarray], n: int, layers: Mapping[str, Layer],
                  default_layer: str | None) -> tuple[dict[str, np.ndarray], list[Issue]]:
    """Every station field except lon/lat, clean values per row, and the issues found."""
    issues: list[Issue] = []
    out: dict[str, np.ndarray] = {}
    empty = np.full(n, None, dtype=object)
    out["id"], found = check_ids(columns.get("id", empty))
    issues += found
    out["layer"], found = check_layer(columns.get("layer"), n, layers, default_layer)
    issues += found
    for key in FREE_TEXT:
        out[key], found = check_text(columns.get(key, empty), key, required=key == "name")
        issues += found
    for key, (pattern, what) in PATTERNS.items():
        out[key], found = check_pattern(columns.get(key, empty), key, pattern, what)
        issues += found
    for key, (check, code) in SIMPLE_CHECKS.items():
        values, bad, messages = by_value(columns.get(key, empty), check)
        out[key] = values
        issues += _issues(bad, messages, key, code)
    layer_ids = out["layer"]  # None where the layer is unusable: its services/origins are checked as words only
    out["services"], found = check_services(layer_ids, columns.get("services", empty), layers)
    issues += found
    out["origins"], found = check_origins(layer_ids, columns.get("origins", empty), layers)
    issues += found
    return out, issues
