"""Configuration defaults and the start-up check (fail fast with a clear message)."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from layers.ingest.limits import ImportLimits
from web.auth import parse_tokens

DEFAULTS: dict[str, Any] = {
    "DATA_DIR": str(Path(__file__).resolve().parent.parent / "instance"),
    "DATABASE_URL": None,
    "DATABASE_READ_URL": None,
    "SEED": True,
    "TOKENS": "",
    "TILES": None,
    "TIANDITU_KEY": None,
    "GEOCODER": None,  # "amap": refine import addresses online with YIZHAN_AMAP_KEY (off by default)
    "AMAP_KEY": None,
    "AMAP_GEOCODE_URL": None,
    "PUBLIC_URL": None,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "JSON_AS_ASCII": False,
    "PROXIES": 0,
    "REPORT_LIMIT": 5,
    "REPORT_WINDOW_S": 600,
    "PLAN_LIMIT": 10,  # planner POSTs per client per PLAN_WINDOW_S, shared by all workers (web/security.py)
    "PLAN_WINDOW_S": 60,
    "EXPORT_LIMIT": 10,  # public exports per client per EXPORT_WINDOW_S (web/security.py)
    "EXPORT_WINDOW_S": 600,
    "SMALL_BODY_MAX": 64 * 1024,  # JSON writes (reports, stations, parks); imports keep MAX_CONTENT_LENGTH
    "IMPORT_MAX_ROWS": 200_000,  # rows of one POST /api/v1/import (layers/ingest/limits.py)
    "IMPORT_MAX_UNZIPPED_BYTES": 256 * 1024 * 1024,  # what a zipped Shapefile may unpack to, over HTTP
    "CLI_IMPORT_MAX_ROWS": 5_000_000,  # `flask stations import` (the 1M-row benchmark fits)
    "CLI_IMPORT_MAX_UNZIPPED_BYTES": 512 * 1024 * 1024,
}


class ConfigError(ValueError):
    """A configuration value is unusable; the message names the YIZHAN_ variable."""


def check_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Validated settings derived from the Flask config; ConfigError names what is wrong."""
    geocoder = str(config.get("GEOCODER") or "").strip().lower()
    if geocoder not in ("", "none", "amap") or (geocoder == "amap" and not config.get("AMAP_KEY")):
        raise ConfigError("YIZHAN_GEOCODER must be 'amap' (and YIZHAN_AMAP_KEY set) or unset")
    url = config.get("DATABASE_URL") or None
    if url and not str(url).startswith(("postgresql://", "postgres://")):
        raise ConfigError("YIZHAN_DATABASE_URL must start with postgresql://")
    reads = tuple(u.strip() for u in str(config.get("DATABASE_READ_URL") or "").split(",") if u.strip())
    if reads and not url:
        raise ConfigError("YIZHAN_DATABASE_READ_URL needs YIZHAN_DATABASE_URL (the primary)")
    try:
        tokens = parse_tokens(config.get("TOKENS"))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    try:
        proxies = int(config.get("PROXIES") or 0)
    except (TypeError, ValueError):
        raise ConfigError("YIZHAN_PROXIES must be the number of reverse proxies in front (0, 1, 2…)") from None
    if not 0 <= proxies <= 5:
        raise ConfigError("YIZHAN_PROXIES must be between 0 and 5")
    import_limits(config, cli=False), import_limits(config, cli=True)  # fail fast on a bad number
    return {"proxies": proxies, "database_url": url, "read_urls": reads, "data_dir": str(config["DATA_DIR"]), "tokens": tokens,
            "seed": bool(config.get("SEED", True)), "pg_mirror": _flag(config.get("PG_MIRROR", True), "YIZHAN_PG_MIRROR")}


def import_limits(config: Mapping[str, Any], cli: bool) -> ImportLimits:
    """The bounds of one import over HTTP (or from the CLI: `cli`), from YIZHAN_[CLI_]IMPORT_MAX_*."""
    prefix = "CLI_IMPORT_" if cli else "IMPORT_"
    values = []
    for name in ("MAX_ROWS", "MAX_UNZIPPED_BYTES"):
        key = prefix + name
        try:
            value = int(config.get(key, DEFAULTS[key]))
        except (TypeError, ValueError):
            raise ConfigError(f"YIZHAN_{key} must be a whole number") from None
        if value < 1:
            raise ConfigError(f"YIZHAN_{key} must be at least 1")
        values.append(value)
    return ImportLimits(*values, f"YIZHAN_{prefix}MAX_ROWS", f"YIZHAN_{prefix}MAX_UNZIPPED_BYTES")


def _flag(value: Any, name: str) -> bool:
    """A yes/no setting: a bool, or 1/0, true/false, yes/no, on/off."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0 (true/false), got {str(value)[:40]!r}")
