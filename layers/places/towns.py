"""The nationwide towns of the shipped towns.npz (Vonng/adcode, 2016), kept as numpy columns.

42,868 towns as Python objects and dicts would take ~70 MB and most of a second per worker; as
columns with their name index as sorted hashes (built by data/build_places.py) they load in a
few milliseconds and ~15 MB, and a town becomes a `Found` only when a search answers with it.
"""
from __future__ import annotations

import gzip
from functools import lru_cache

import numpy as np

from layers.places.found import Found
from layers.places.shipped import GAZETTEER_DIR, SCALE

NO_CENTRE = np.iinfo(np.int32).min


class Areas:
    """Towns (乡/镇/街道) as columns, the names of the areas above them, pinyin by 6-digit adcode."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.codes = arrays["codes"]
        self.town_names = arrays["names"]
        self.xy = arrays["xy"]
        self.keys = {key: (arrays[f"{key}_hashes"], arrays[f"{key}_values"]) for key in ("exact", "pinyin", "fuzzy")}
        codes = [str(code) for code in arrays["area_codes"].tolist()]
        self.names = dict(zip(codes, arrays["area_names"].tolist()))
        self._parents: dict[int, tuple[str, str, str]] = {}
        self.pinyin = {code[:6]: (full, initials) for code, full, initials in
                       zip(codes, arrays["area_pinyin"].tolist(), arrays["area_initials"].tolist())}

    def __len__(self) -> int:
        return len(self.codes)

    def parents(self, code: str) -> tuple[str, str, str]:
        """(province, city, county) names of a 12-digit code ('' where unknown)."""
        return (self.names.get(code[:2] + "0" * 10, ""), self.names.get(code[:4] + "0" * 8, ""),
                self.names.get(code[:6] + "0" * 6, ""))

    def town(self, i: int) -> Found:
        """Town number i as a Found (centre in WGS-84, None when the source has none)."""
        code = str(self.codes[i])
        x, y = self.xy[i].tolist()
        lon, lat = (None, None) if x == NO_CENTRE else (x / SCALE, y / SCALE)
        county = int(code[:6])
        parents = self._parents.get(county)
        if parents is None:
            parents = self._parents[county] = self.parents(code)
        return Found("town", str(self.town_names[i]), code, code[:6], lon, lat, *parents)

    def number_of(self, code: str) -> int | None:
        """The town number of a 12-digit code, or None."""
        if not (code.isdigit() and len(code) == 12):
            return None
        at = int(np.searchsorted(self.codes, int(code)))
        return at if at < len(self.codes) and int(self.codes[at]) == int(code) else None


def load_areas() -> Areas:
    """The shipped towns, centres already in WGS-84."""
    with np.load(GAZETTEER_DIR / "towns.npz") as arrays:
        return Areas({key: arrays[key] for key in arrays.files})


@lru_cache(maxsize=1)
def default_areas() -> Areas:
    """The shipped towns, loaded once per process (shared by the search and where-am-I)."""
    return load_areas()


def load_char_sounds() -> dict[str, str]:
    """Character -> pinyin (one reading, no tones) for common characters."""
    with gzip.open(GAZETTEER_DIR / "chars.tsv.gz", "rt", encoding="utf-8") as handle:
        pairs = [line.split("\t") for line in handle.read().splitlines()]
    return {char: sound for sound, chars in pairs for char in chars}
