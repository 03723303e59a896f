"""Public exports built once per store revision and kept as files under `<DATA_DIR>/export-cache/`.

A GeoPackage of a large store takes tens of seconds and tens of MB to build; the answer is the
same until the stations change. Each export (format, layers, removed or not) is written once for
the store's current `revision()` into a temporary file and renamed into place; later requests at
the same revision send that file (with an ETag, so a repeat download can be a 304). Workers on one
machine share the files and build under one file lock, so a burst of requests builds once. A
write changes the revision: the next request builds anew and the files of other revisions are
deleted; at most MAX_FILES exports are kept (the least recently used go first). A store that
cannot tell its revision gets a fresh build every time.
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from layers.ingest.export import csv_chunks, geojson_chunks, write_gpkg
from layers.model import Station

LOGGER = logging.getLogger(__name__)
MAX_FILES = 12
FOLDER = "export-cache"


class ExportCache:
    """Export files of one data directory; `builds` counts the exports this process built."""

    def __init__(self, data_dir: str | Path) -> None:
        self.folder = Path(data_dir) / FOLDER
        self.builds = 0

    def path_for(self, revision: str, fmt: str, layers: tuple[str, ...], include_removed: bool) -> Path:
        """Where the export of these arguments at `revision` is kept (a name safe on every filesystem)."""
        rev = hashlib.sha256(revision.encode("utf-8")).hexdigest()[:16]
        what = hashlib.sha256(f"{fmt}|{','.join(sorted(layers))}|{int(include_removed)}".encode()).hexdigest()[:12]
        return self.folder / f"{rev}-{what}.{fmt}"

    def get(self, revision: str, fmt: str, layers: tuple[str, ...], include_removed: bool,
            stations: Callable[[], Iterable[Station]]) -> Path:
        """The export file at `revision`, built from `stations()` when it is not there yet."""
        path = self.path_for(revision, fmt, layers, include_removed)
        if path.exists():
            _touch(path)
            return path
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "build.lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time; the others wait and then find the file
            try:
                if path.exists():
                    return path
                build(fmt, stations(), path)
                self.builds += 1
                LOGGER.info("export %s built at revision %s", path.name, revision[:40])
                self._prune(path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return path

    def _prune(self, keep: Path) -> None:
        rev = keep.name.split("-", 1)[0]
        files = sorted((p for p in self.folder.iterdir() if p.suffix != ".lock" and not p.name.startswith(".")),
                       key=lambda p: p.stat().st_mtime, reverse=True)
        kept = 0
        for p in files:
            if p.name.split("-", 1)[0] == rev and kept < MAX_FILES:
                kept += 1
                continue
            p.unlink(missing_ok=True)  # an open download keeps its data (the file is only unlinked)


def build(fmt: str, stations: Iterable[Station], path: Path) -> None:
    """Write the export to `path` through a temporary file beside it (renamed when complete)."""
    fd, tmp = tempfile.mkstemp(prefix=".build-", suffix=f".{fmt}", dir=path.parent)
    os.close(fd)
    try:
        if fmt == "gpkg":
            os.unlink(tmp)  # GDAL makes the file itself
            write_gpkg(stations, Path(tmp))
        else:
            with open(tmp, "wb") as out:
                out.writelines((geojson_chunks if fmt == "geojson" else csv_chunks)(stations))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:
        pass  # pruned meanwhile by another worker: the caller still sends what it opens
