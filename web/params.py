"""Parsing query parameters into typed values, or InvalidQuery naming the parameter.

Numbers: ASCII, and on purpose also the full-width forms a phone's Chinese input method types
(`lat=２６．５７`, `k=５`, `bbox=１０６，２６，…`): `ascii_number` maps full-width digits, signs,
point, comma and the ideographic space to ASCII (their NFKC forms) for every numeric parameter.
Digits of other scripts (Arabic-Indic, Devanagari, …), which Python's float() and int() would
also read, are refused.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from geo.crs import CRS_NAMES, to_wgs84
from geo.hours import SHANGHAI
from layers.errors import InvalidQuery

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
ADCODE_RE = re.compile(r"^[1-8][0-9]{5}$")
_INTEGER_RE = re.compile(r"[+-]?[0-9]{1,12}")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９＋－．，ｅＥ\u3000", "0123456789+-.,eE ")
_ALWAYS_ALLOWED = frozenset({"lang", "_"})


def allowed_names(*names: str) -> frozenset[str]:
    """`names` and the parameters every endpoint takes, for `reject_unknown` (build once, at import)."""
    return frozenset(names) | _ALWAYS_ALLOWED


def reject_unknown(args: Mapping[str, str], allowed: Iterable[str]) -> None:
    """InvalidQuery for the first parameter not in `allowed` (typos must not pass silently)."""
    known = allowed if isinstance(allowed, frozenset) and _ALWAYS_ALLOWED <= allowed else set(allowed) | _ALWAYS_ALLOWED
    for name in args:
        if name not in known:
            raise InvalidQuery(f"unknown parameter {name!r}; allowed: {', '.join(sorted(known))}", name)


def ascii_number(raw: str) -> str:
    """`raw` with full-width digits, + - . , e E and the ideographic space as ASCII; the rest unchanged."""
    return raw.translate(_FULL_WIDTH)


def to_float(raw: str) -> float:
    """A number written in ASCII or full-width characters; ValueError for anything else."""
    text = ascii_number(raw)
    if not text.isascii():
        raise ValueError(raw)
    return float(text)


def number(args: Mapping[str, str], name: str, low: float, high: float, default: float | None = None,
           required: bool = False) -> float | None:
    """A finite float in [low, high]."""
    raw = args.get(name)
    if raw is None or raw.strip() == "":
        if required:
            raise InvalidQuery(f"{name} is required", name)
        return default
    try:
        value = to_float(raw)
    except ValueError:
        raise InvalidQuery(f"{name} must be a number, got {raw[:40]!r}", name) from None
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidQuery(f"{name} must be between {low:g} and {high:g}", name)
    return value


def integer(args: Mapping[str, str], name: str, low: int, high: int, default: int) -> int:
    """An integer in [low, high]."""
    raw = args.get(name)
    if raw is None or raw.strip() == "":
        return default
    text = ascii_number(raw).strip()
    if not _INTEGER_RE.fullmatch(text):
        raise InvalidQuery(f"{name} must be a whole number, got {raw[:40]!r}", name)
    value = int(text)
    if not low <= value <= high:
        raise InvalidQuery(f"{name} must be between {low} and {high}", name)
    return value


def flag(args: Mapping[str, str], name: str) -> bool:
    """A boolean written 1/0, true/false, yes/no, on/off."""
    raw = (args.get(name) or "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise InvalidQuery(f"{name} must be 1 or 0", name)


def word_list(args: Mapping[str, str], name: str, allowed: Iterable[str], what: str) -> tuple[str, ...]:
    """A comma-separated list whose every word is in `allowed`."""
    raw = args.get(name)
    if not raw:
        return ()
    words = tuple(dict.fromkeys(w.strip() for w in raw.split(",") if w.strip()))
    allowed = set(allowed)
    for word in words:
        if word not in allowed:
            raise InvalidQuery(f"unknown {what} {word[:40]!r}", name)
    return words


def crs(args: Mapping[str, str]) -> str:
    """The declared CRS of a point parameter: wgs84 (default), gcj02 or bd09."""
    value = (args.get("crs") or "wgs84").strip().lower()
    if value not in CRS_NAMES:
        raise InvalidQuery(f"crs must be one of {', '.join(CRS_NAMES)}", "crs")
    return value


def point(args: Mapping[str, str]) -> tuple[float, float]:
    """(lon, lat) in WGS-84 from lat/lon parameters in the declared crs."""
    lat = number(args, "lat", -90, 90, required=True)
    lon = number(args, "lon", -180, 180, required=True)
    source = crs(args)
    return (lon, lat) if source == "wgs84" else to_wgs84(lon, lat, source)  # floats already: as to_wgs84 gives


def bbox(args: Mapping[str, str]) -> tuple[float, float, float, float] | None:
    """minlon,minlat,maxlon,maxlat in WGS-84 degrees, or None when absent."""
    raw = args.get("bbox")
    if raw is None:
        return None
    parts = ascii_number(raw).split(",")
    if len(parts) != 4:
        raise InvalidQuery("bbox must be 4 numbers: minlon,minlat,maxlon,maxlat", "bbox")
    try:
        values = [to_float(p) for p in parts]
    except ValueError:
        raise InvalidQuery("bbox must be 4 numbers: minlon,minlat,maxlon,maxlat", "bbox") from None
    minlon, minlat, maxlon, maxlat = values
    if not all(math.isfinite(v) for v in values) or not (
        -180 <= minlon <= maxlon <= 180 and -90 <= minlat <= maxlat <= 90
    ):
        raise InvalidQuery("bbox must satisfy -180<=minlon<=maxlon<=180 and -90<=minlat<=maxlat<=90", "bbox")
    return minlon, minlat, maxlon, maxlat


def adcode(args: Mapping[str, str], name: str) -> str | None:
    """A 6-digit county code, or None when absent."""
    raw = ascii_number(args.get(name) or "").strip()
    if not raw:
        return None
    if not ADCODE_RE.fullmatch(raw):
        raise InvalidQuery(f"{name} must be a 6-digit county code", name)
    return raw


# Times a person could mean: opening hours, plans and scan days of this century. Outside it the
# zone database answers local mean time (+08:05:43 before 1901) and year 1 or 9999 overflows.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
_RANGE_TEXT = f"between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}"


def moment(args: Mapping[str, str], name: str = "at") -> datetime:
    """An ISO 8601 time (naive means Asia/Shanghai) between 2000-01-01 and 2100-12-31, default now."""
    raw = args.get(name)
    if raw is None or not str(raw).strip():
        return datetime.now(SHANGHAI)
    return parse_moment(raw, name)


def parse_moment(raw: object, name: str) -> datetime:
    """`raw` as an aware Asia/Shanghai time, or InvalidQuery naming `name` (bad text or out of range)."""
    try:
        value = datetime.fromisoformat(str(raw).strip())
    except ValueError:
        raise InvalidQuery(f"{name} must be an ISO 8601 time like 2026-11-28T20:30", name) from None
    local_day = value.date()  # the wall-clock day as written, before any conversion can overflow
    if not FIRST_DAY <= local_day <= LAST_DAY:
        raise InvalidQuery(f"{name} must be {_RANGE_TEXT}", name)
    return value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value.astimezone(SHANGHAI)


def day(args: Mapping[str, str], name: str) -> date | None:
    """A date YYYY-MM-DD between 2000-01-01 and 2100-12-31, or None when absent."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise InvalidQuery(f"{name} must be a date YYYY-MM-DD", name) from None
    if not FIRST_DAY <= value <= LAST_DAY:
        raise InvalidQuery(f"{name} must be {_RANGE_TEXT}", name)
    return value
