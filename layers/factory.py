"""Choosing and opening the store from configuration (PostGIS when a URL is set, else embedded)."""
from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from pathlib import Path

from layers.ingest.seed import SAMPLE_STATIONS, read_geojson_stations
from layers.layerdefs import Layer
from layers.model import Station
from layers.store import StationStore

LOGGER = logging.getLogger(__name__)


def open_store(
    layers: Mapping[str, Layer], data_dir: str | Path, database_url: str | None = None,
    read_urls: tuple[str, ...] = (), seed_path: Path | None = SAMPLE_STATIONS, pg_mirror: bool = True,
) -> StationStore:
    """The configured store, seeded from `seed_path` when it is empty.

    PostGIS is opened through a DeferredStore: if the database is down at start the app still
    starts, answers 503 and opens the store once the database is back. With `pg_mirror` each
    process answers nearest and radius queries from its own mirror (layers/postgis/mirror.py).
    """
    def seed() -> Iterator[Station] | None:  # a fresh iterator for every attempt to open
        if seed_path and Path(seed_path).exists():
            return read_geojson_stations(seed_path, layers)
        return None

    if database_url:
        from layers.deferred import DeferredStore
        from layers.postgis.pool import describe
        from layers.postgis.store import PostgisStore

        LOGGER.info("opening PostGIS store at %s", describe(database_url))
        return DeferredStore(lambda: PostgisStore(database_url, layers, seed=seed(), read_urls=read_urls,
                                                  mirror=pg_mirror),
                             layers, kind=PostgisStore.kind)
    from layers.embedded.store import EmbeddedStore

    LOGGER.info("opening embedded store in %s", data_dir)
    return EmbeddedStore(data_dir, layers, seed=seed())
