"""Shared pieces for building sample station records: the context, positions and property sets."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from data import texts
from data.places import Gazetteer, Place
from geo.distance import destination
from layers.layerdefs import Layer

VERIFIED_AT = "2026-03-01"
SOURCE = "sample"


class Record(NamedTuple):
    """One station before validation: id, WGS-84 lon/lat in degrees, properties."""

    id: str
    lon: float
    lat: float
    props: dict[str, Any]


class Template(NamedTuple):
    """A name pattern with its English form, operator pattern, required services and weight."""

    zh: str
    en: str
    operator: str
    required: tuple[str, ...]
    weight: int = 1


@dataclass(frozen=True)
class Context:
    """What every builder needs: the gazetteer and the layer definitions."""

    gaz: Gazetteer
    layers: Mapping[str, Layer]

    def vocabulary(self, layer: str) -> list[str]:
        """The layer's service words in definition order."""
        return list(self.layers[layer].services)


def scatter(rng: np.random.Generator, place: Place, min_m: float, max_m: float) -> tuple[float, float]:
    """A WGS-84 point at a random azimuth, log-uniform min_m..max_m metres from the place's centre."""
    azimuth_deg = float(rng.uniform(0.0, 360.0))
    distance_m = math.exp(float(rng.uniform(math.log(min_m), math.log(max_m))))
    lon, lat = destination(place.lon, place.lat, azimuth_deg, distance_m)
    return round(float(lon), 6), round(float(lat), 6)


def fill(template: Template, **words: str) -> tuple[str, str | None, str]:
    """The template's Chinese name, English name (None if a word lacks English) and operator."""
    zh = template.zh.format(**words)
    operator = template.operator.format(**words)
    en = None if words.get("D") is None else template.en.format(**words)
    return zh, en, operator


def draw_name(rng: np.random.Generator, templates: list[Template], used: set[str],
              forced: Template | None = None, **words: str) -> tuple[Template, str, str | None, str, str]:
    """A template and a name not yet in `used` (zh, en, operator, road); adds the name to `used`."""
    weights = np.array([t.weight for t in templates], dtype=float)
    for _ in range(200):
        template = forced or templates[int(rng.choice(len(templates), p=weights / weights.sum()))]
        street, street_en = texts.road(rng)
        zh, en, operator = fill(template, r=street, R=street_en, **words)
        if zh not in used:
            used.add(zh)
            return template, zh, en, operator, street
        forced = None
    raise RuntimeError(f"no free name for {words}")


def props(ctx: Context, rng: np.random.Generator, layer: str, place: Place, *, name: str,
          name_en: str | None, operator: str, street: str, required: tuple[str, ...] = (),
          **extra: Any) -> dict[str, Any]:
    """The properties of one station of `layer` in `place`; `extra` overrides any drawn value."""
    city = ctx.gaz.city_name(place.adcode)
    if place.is_district and city and operator.startswith(place.name):
        operator = city + operator  # 白云区 is in Guiyang and in Guangzhou: say which
    with_phone = rng.random() < (0.7 if layer == "rest_station" else 0.95)
    out: dict[str, Any] = {
        "name": name,
        "name_en": name_en,
        "layer": layer,
        "address": texts.address(rng, city, place.name, street),
        "adcode": place.adcode,
        "phone": texts.phone(rng, place.adcode, layer) if with_phone else None,
        "hours": texts.hours(rng, layer),
        "services": texts.services(rng, ctx.vocabulary(layer), required),
        "access": texts.access(rng, layer),
        "status": texts.status(rng),
        "operator": operator,
        "source": SOURCE,
        "verified_at": VERIFIED_AT,
    }
    out.update(extra)
    return out


def station_id(prefix: str, adcode: str, counters: dict[tuple[str, str], int]) -> str:
    """The next readable id for a layer prefix in a county: rp-522622-0001, rp-522622-0002…"""
    key = (prefix, adcode)
    counters[key] = counters.get(key, 0) + 1
    return f"{prefix}-{adcode}-{counters[key]:04d}"
