"""The columns of the in-memory index (`layers.memory.index.SphereIndex`): one row per position, numpy
arrays grown by doubling; dead rows stay until the index is compacted (`taken`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from geo.distance import unit_xyz
from layers.model import Station

STATUS_CODES = {"open": 0, "temporarily_closed": 1, "removed": 2}
_NAMES = ("lon", "lat", "xyz", "layer", "services", "hours", "status", "alive", "visible")


class Columns:
    """Growable numpy columns, one row per position (dead rows stay until a reload)."""

    def __init__(self, capacity: int) -> None:
        self.n = 0
        self._alloc(max(capacity, 1024))

    def _alloc(self, cap: int) -> None:
        old = self.__dict__.copy()
        self.lon, self.lat = np.zeros(cap), np.zeros(cap)
        self.xyz = np.zeros((cap, 3))
        self.layer = np.zeros(cap, np.int16)
        self.services = np.zeros(cap, np.uint64)
        self.hours = np.zeros(cap, np.int32)
        self.status = np.zeros(cap, np.int8)
        self.alive = np.zeros(cap, bool)
        self.visible = np.zeros(cap, bool)  # alive and not removed
        if old.get("n"):
            for name in _NAMES:
                getattr(self, name)[: self.n] = old[name][: self.n]

    @classmethod
    def from_lists(cls, lon, lat, layer, services, hours, status) -> Columns:
        """Columns filled at once from parallel lists (the bulk load)."""
        n = len(lon)
        cols = cls(n + n // 4)
        cols.n = n
        cols.lon[:n], cols.lat[:n] = lon, lat
        cols.xyz[:n] = unit_xyz(cols.lon[:n], cols.lat[:n])
        cols.layer[:n], cols.services[:n], cols.hours[:n] = layer, services, hours
        cols.status[:n] = status
        cols.alive[:n] = True
        cols.visible[:n] = cols.status[:n] != STATUS_CODES["removed"]
        return cols

    def append(self, station: Station, layer_code: int, bits: int, hours_code: int) -> None:
        if self.n == len(self.lon):
            self._alloc(2 * len(self.lon))
        i = self.n
        self.lon[i], self.lat[i] = station.lon, station.lat
        self.xyz[i] = unit_xyz(np.array([station.lon]), np.array([station.lat]))[0]
        self.layer[i], self.services[i], self.hours[i] = layer_code, bits, hours_code
        self.status[i] = STATUS_CODES[station.status]
        self.alive[i] = True
        self.visible[i] = station.status != "removed"
        self.n += 1

    def extend(self, lon: np.ndarray, lat: np.ndarray, layer: np.ndarray, services: np.ndarray,
               hours: np.ndarray, status: np.ndarray) -> None:
        """Append many rows at once (WGS-84 lon/lat degrees; codes as `append` takes them)."""
        m = len(lon)
        if self.n + m > len(self.lon):
            self._alloc(max(2 * len(self.lon), self.n + m + m // 4))
        i, j = self.n, self.n + m
        self.lon[i:j], self.lat[i:j] = lon, lat
        self.xyz[i:j] = unit_xyz(self.lon[i:j], self.lat[i:j]) if m else self.xyz[i:j]
        self.layer[i:j], self.services[i:j], self.hours[i:j] = layer, services, hours
        self.status[i:j] = status
        self.alive[i:j] = True
        self.visible[i:j] = self.status[i:j] != STATUS_CODES["removed"]
        self.n = j

    def taken(self, positions: np.ndarray) -> Columns:
        """New columns holding only the rows at `positions`, in that order (compaction)."""
        out = Columns(len(positions) + len(positions) // 4)
        out.n = len(positions)
        for name in _NAMES:
            getattr(out, name)[: out.n] = getattr(self, name)[positions]
        return out


def members_of(origins: np.ndarray) -> dict[str, set[int]]:
    """{adcode: positions of the rows whose origins hold it}, from a column of tuples."""
    codes, uniques = pd.factorize(origins)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    out: dict[str, set[int]] = {}
    for k, words in enumerate(uniques):
        if words:
            rows = order[bounds[k]: bounds[k + 1]].tolist()
            for origin in words:
                out.setdefault(origin, set()).update(rows)
    return out
