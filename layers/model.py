"""The Station record (WGS-84), its validation, and its GeoJSON form."""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any

from geo.hours import HoursSyntaxError, parse_hours
from layers.errors import InvalidStation
from layers.layerdefs import Layer

LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")  # only from "\ud800"-style JSON escapes: no store can keep it
NOT_UNICODE = "contains a lone surrogate code point (not valid Unicode text)"
Z_REFUSED = "a 3-D point (with a Z value) is refused: Yizhan keeps 2-D points, remove the Z (altitude)"

ACCESS_VALUES = ("open", "staff", "scan_qr", "app_login")
STATUS_VALUES = ("open", "temporarily_closed", "removed")
# how well the point stands for the place: surveyed/given coordinates, or a town's or county's centre
PRECISION_VALUES = ("exact", "town", "county")
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.~-]{0,63}$")
ADCODE_RE = re.compile(r"^[1-8][0-9]{5}$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()\-]{1,30}([,;/] ?\+?[0-9][0-9 ()\-]{1,30})*$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TEXT_LIMITS = {"name": 120, "name_en": 200, "address": 300, "operator": 200, "source": 200, "verified_by": 100,
               "hours_text": 200}
# Fields a query answer adds; a client may send them back (e.g. PUT of a fetched feature).
READ_ONLY = frozenset({"distance_m", "open_now", "hours_today", "next_open", "nav", "id", "layer_name", "flags"})


@dataclass(frozen=True)
class Station:
    """One place of one layer; `lon`/`lat` in WGS-84 degrees."""

    id: str
    lon: float
    lat: float
    name: str
    layer: str
    name_en: str | None = None
    address: str | None = None
    adcode: str | None = None
    phone: str | None = None
    hours: str | None = None
    services: tuple[str, ...] = ()
    access: str = "open"
    status: str = "open"
    origins: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    operator: str | None = None
    source: str | None = None
    verified_at: str | None = None
    verified_by: str | None = None  # the editor who confirmed the entry on verified_at
    location_precision: str = "exact"
    hours_text: str | None = None  # the hours as the source wrote them, when not opening_hours syntax

    def properties(self) -> dict[str, Any]:
        """The contract's `properties` object (lists, not tuples)."""
        out: dict[str, Any] = {}
        for name in _PROPERTY_ORDER:  # module constant: dataclasses.fields() per call was a hot spot
            value = getattr(self, name)
            out[name] = list(value) if isinstance(value, tuple) else value
        return out

    def to_feature(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """This station as a GeoJSON Feature (RFC 7946, WGS-84), `extra` merged into properties."""
        props = self.properties()
        if extra:
            props.update(extra)
        return self.feature_with(props)

    def feature_with(self, props: dict[str, Any]) -> dict[str, Any]:
        """This station as a GeoJSON Feature with `props` (taken as is) as its properties."""
        return {
            "type": "Feature",
            "id": self.id,
            "geometry": {"type": "Point", "coordinates": [self.lon, self.lat]},
            "properties": props,
        }

    def with_changes(self, **changes: Any) -> Station:
        """A copy with `changes` applied (not validated; run `validate_station`)."""
        return replace(self, **changes)


STATION_FIELDS = tuple(f.name for f in fields(Station))
_PROPERTY_ORDER = tuple(name for name in STATION_FIELDS if name not in ("id", "lon", "lat"))
_PROPERTY_FIELDS = frozenset(STATION_FIELDS) - {"id", "lon", "lat"}


def _fail(field: str, message: str) -> InvalidStation:
    return InvalidStation(f"{field}: {message}", parameter=field)


def _text(props: Mapping[str, Any], key: str, required: bool = False) -> str | None:
    value = props.get(key)
    if value is None or (isinstance(value, str) and not value.strip() and not required):
        if required:
            raise _fail(key, "is required")
        return None
    if not isinstance(value, str):
        raise _fail(key, "must be a string")
    value = value.strip()
    if required and not value:
        raise _fail(key, "must not be empty")
    if len(value) > TEXT_LIMITS.get(key, 300):
        raise _fail(key, f"is longer than {TEXT_LIMITS.get(key, 300)} characters")
    if any(ord(ch) < 32 for ch in value):
        raise _fail(key, "contains control characters")
    if LONE_SURROGATE.search(value):
        raise _fail(key, NOT_UNICODE)
    return value


def _word_list(props: Mapping[str, Any], key: str, max_len: int = 60) -> tuple[str, ...]:
    value = props.get(key)
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        value = [part for part in re.split(r"[|;,，；、]", value) if part.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise _fail(key, "must be a list of strings")
    words = tuple(dict.fromkeys(v.strip() for v in value if v.strip()))
    if len(words) > 50 or any(len(w) > max_len or any(ord(c) < 32 for c in w) for w in words):
        raise _fail(key, f"at most 50 entries of at most {max_len} characters")
    if any(LONE_SURROGATE.search(w) for w in words):
        raise _fail(key, NOT_UNICODE)
    return words


def _coordinate(value: Any, key: str, limit: float) -> float:
    if isinstance(value, str):  # GeoJSON numbers are JSON numbers: "106.7" is refused, not read
        raise _fail(key, f"must be a number, not text ({value[:20]!r})")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(key, "must be a number")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any double (10**400)
        raise _fail(key, f"must be between -{limit:g} and {limit:g}") from None
    if not math.isfinite(number) or not -limit <= number <= limit:
        raise _fail(key, f"must be between -{limit:g} and {limit:g}")
    return number


def _check_enum(value: str | None, key: str, allowed: Iterable[str], default: str) -> str:
    if value is None:
        return default
    if value not in allowed:
        raise _fail(key, f"must be one of {', '.join(allowed)}")
    return value


def _check_date(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        if not DATE_RE.match(value):
            raise ValueError
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise _fail("verified_at", "must be an ISO date YYYY-MM-DD") from None


def validate_station(
    station_id: Any, lon: Any, lat: Any, props: Mapping[str, Any], layers: Mapping[str, Layer]
) -> Station:
    """A valid Station from raw parts (WGS-84 lon/lat), or InvalidStation naming the field."""
    if not isinstance(station_id, str) or not ID_RE.match(station_id):
        raise _fail("id", "must be 1-64 characters of letters, digits, '_', '.', '~' or '-'")
    unknown = sorted(set(props) - _PROPERTY_FIELDS - READ_ONLY)
    if unknown:
        raise _fail(unknown[0], "is not a station property")
    layer_id = props.get("layer")
    if not isinstance(layer_id, str) or layer_id not in layers:  # a list or object is no key: 400, not a 500
        raise _fail("layer", f"unknown layer {layer_id!r}; known: {', '.join(layers)}")
    layer = layers[layer_id]
    services = _word_list(props, "services")
    bad = [word for word in services if word not in layer.services]
    if bad:
        raise _fail("services", f"{bad[0]!r} is not in the vocabulary of layer {layer_id}")
    hours = _text(props, "hours")
    if hours is not None:
        try:
            parse_hours(hours)
        except HoursSyntaxError as exc:
            raise _fail("hours", f"cannot be read: {exc}") from None
    adcode = _text(props, "adcode")
    if adcode is not None and not ADCODE_RE.match(adcode):
        raise _fail("adcode", "must be a 6-digit county code")
    phone = _text(props, "phone")
    if phone is not None and not PHONE_RE.match(phone):
        raise _fail("phone", "must be digits, spaces, '-', '(', ')' and an optional leading '+'")
    origins = _word_list(props, "origins")
    if origins and not layer.has_origins:
        raise _fail("origins", f"layer {layer_id} does not serve home counties")
    if any(not ADCODE_RE.match(code) for code in origins):
        raise _fail("origins", "must be 6-digit county codes")
    return Station(
        id=station_id,
        lon=_coordinate(lon, "lon", 180.0),
        lat=_coordinate(lat, "lat", 90.0),
        name=_text(props, "name", required=True) or "",
        layer=layer_id,
        name_en=_text(props, "name_en"),
        address=_text(props, "address"),
        adcode=adcode,
        phone=phone,
        hours=hours,
        services=services,
        access=_check_enum(_text(props, "access"), "access", ACCESS_VALUES, "open"),
        status=_check_enum(_text(props, "status"), "status", STATUS_VALUES, "open"),
        origins=origins,
        items=_word_list(props, "items", max_len=100),
        operator=_text(props, "operator"),
        source=_text(props, "source"),
        verified_at=_check_date(_text(props, "verified_at")),
        verified_by=_text(props, "verified_by"),
        location_precision=_check_enum(_text(props, "location_precision"), "location_precision",
                                       PRECISION_VALUES, "exact"),
        hours_text=_text(props, "hours_text"),
    )


def point_problem(coords: Any) -> str | None:
    """Why a GeoJSON Point's `coordinates` are not one [lon, lat] pair, or None (the numbers
    themselves are checked per coordinate). A third value (Z, an altitude) is refused on purpose
    rather than silently dropped: Yizhan keeps 2-D points."""
    if not isinstance(coords, list) or len(coords) < 2:
        return "coordinates must be [lon, lat]"
    if len(coords) > 2:
        return f"coordinates must be [lon, lat]; {Z_REFUSED}"
    return None


def station_from_feature(
    feature: Any, layers: Mapping[str, Layer], station_id: str | None = None
) -> Station:
    """A valid Station from a GeoJSON Feature in WGS-84; `station_id` overrides the feature's id."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise InvalidStation("body must be a GeoJSON Feature", parameter="type")
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        raise _fail("geometry", "must be a GeoJSON Point")
    coords = geometry.get("coordinates")
    why = point_problem(coords)
    if why:
        raise _fail("geometry", why)
    props = feature.get("properties")
    if not isinstance(props, dict):
        raise _fail("properties", "must be an object")
    sid = station_id if station_id is not None else feature.get("id", props.get("id"))
    return validate_station(sid, coords[0], coords[1], props, layers)


def station_to_row(station: Station) -> dict[str, Any]:
    """A flat mapping of the station (lists joined by '|'), for CSV."""
    row: dict[str, Any] = {}
    for name in STATION_FIELDS:
        value = getattr(station, name)
        row[name] = "|".join(value) if isinstance(value, tuple) else value
    return row
