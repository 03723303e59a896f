"""Layer definitions: one JSON file per layer in `layers/defs/` (a new layer is a new file)."""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

LOGGER = logging.getLogger(__name__)
DEFS_DIR = Path(__file__).parent / "defs"
_REQUIRED = ("id", "name", "colour", "icon", "default_radius_m", "services")
DEFAULT_CAP_M = 50_000.0  # `cap_m` of a layer whose file gives none: a day's drive to an office, not a province


@dataclass(frozen=True)
class Layer:
    """One kind of place, with its names (zh, en), style, default radius in metres, vocabulary and `cap_m`: how
    far a result list looks for an open place of it, in metres (rest stations 10 km, windows 100 km)."""

    id: str
    name: Mapping[str, str]
    short_name: Mapping[str, str]
    description: Mapping[str, str]
    colour: str
    icon: str
    default_radius_m: float
    coverage_radius_m: float
    has_origins: bool
    services: Mapping[str, Mapping[str, str]]
    cap_m: float = DEFAULT_CAP_M

    def label(self, lang: str = "zh") -> str:
        """The layer's name in `lang` (zh or en), falling back to Chinese."""
        return self.name.get(lang) or self.name["zh"]

    def service_label(self, word: str, lang: str = "zh") -> str:
        """A service word's label in `lang`, or the word itself if unknown."""
        labels = self.services.get(word, {})
        return labels.get(lang) or labels.get("zh") or word

    def to_json(self) -> dict:
        """The layer as the API shows it."""
        return {
            "id": self.id,
            "name": dict(self.name),
            "short_name": dict(self.short_name),
            "description": dict(self.description),
            "colour": self.colour,
            "icon": self.icon,
            "default_radius_m": self.default_radius_m,
            "coverage_radius_m": self.coverage_radius_m,
            "cap_m": self.cap_m,
            "has_origins": self.has_origins,
            "services": [{"id": k, "name": dict(v)} for k, v in self.services.items()],
        }


def _layer_from_json(raw: dict, source: Path) -> Layer:
    missing = [key for key in _REQUIRED if key not in raw]
    if missing:
        raise ValueError(f"{source}: layer definition lacks {', '.join(missing)}")
    if raw["id"] != source.stem:
        raise ValueError(f"{source}: id {raw['id']!r} must equal the file name")
    name = MappingProxyType(dict(raw["name"]))
    return Layer(
        id=raw["id"],
        name=name,
        short_name=MappingProxyType(dict(raw.get("short_name", raw["name"]))),
        description=MappingProxyType(dict(raw.get("description", {}))),
        colour=raw["colour"],
        icon=raw["icon"],
        default_radius_m=float(raw["default_radius_m"]),
        coverage_radius_m=float(raw.get("coverage_radius_m", raw["default_radius_m"])),
        has_origins=bool(raw.get("has_origins", False)),
        services=MappingProxyType({k: MappingProxyType(dict(v)) for k, v in raw["services"].items()}),
        cap_m=_cap(raw, source),
    )


def _cap(raw: dict, source: Path) -> float:
    value = raw.get("cap_m")
    if value is None:
        return DEFAULT_CAP_M
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1_000_000:
        raise ValueError(f"{source}: cap_m must be a distance in metres, above 0 and at most 1000 km")
    return float(value)


def read_definitions(directory: Path = DEFS_DIR) -> list[tuple[Path, dict]]:
    """(path, parsed JSON) of every `*.json` file in `directory`, in display order: by each file's
    `order` (files without one last), then by file name."""
    found = [(path, json.loads(path.read_text(encoding="utf-8"))) for path in sorted(directory.glob("*.json"))]
    return sorted(found, key=lambda pair: float(pair[1].get("order", float("inf"))))


def load_layers(directory: Path = DEFS_DIR) -> dict[str, Layer]:
    """Every layer defined by a `*.json` file in `directory`, keyed by id, in display order."""
    layers: dict[str, Layer] = {}
    for path, raw in read_definitions(directory):
        layers[path.stem] = _layer_from_json(raw, path)
    if not layers:
        raise ValueError(f"no layer definitions in {directory}")
    LOGGER.debug("loaded %d layers from %s", len(layers), directory)
    return layers
