"""Names to places by number: exact forms, pinyin, initials, and near-misses (one character off).

Entries are integers (a place's number in the owner's table); `resolve(i)` makes the `Found`.
Besides the names added one by one (a dict), precomputed tables of (stable hash, value) pairs
can be attached (`attach`): the shipped towns' exact forms, pinyin and near-miss keys.
Near-misses use the deletion neighbourhood: each name of three characters or more is filed under
a stable 64-bit hash of itself and of each form with one character left out, in one sorted numpy
array (the towns' part is shipped precomputed). A query looks up itself and its own one-deletion
forms; each candidate is then checked to be exactly one edit away.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from layers.places.found import KIND_ORDER, Found
from layers.places.names import deletions, one_edit_apart, stable_hash

MIN_FUZZY_CHARS = 3
FULL, ALIAS, SHORT = 0, 1, 2  # how an exact form names a place (full name first)


def rank(found: Found, how: int = FULL) -> tuple[int, int, str]:
    """Order of results: full names before aliases and short names, larger areas first, then by code."""
    return (how, KIND_ORDER.get(found.kind, 9), found.code)


class NameIndex:
    """Place numbers by exact name form, pinyin, initials and near-miss."""

    def __init__(self, resolve: Callable[[int], Found]) -> None:
        self.resolve = resolve
        self._exact: dict[str, list[int]] = {}  # form -> [number * 4 + how]
        self._pinyin: dict[str, list[int]] = {}
        self._initials: dict[str, list[int]] = {}
        self._fuzzy_keys: list[int] = []
        self._fuzzy_ids: list[int] = []
        self._hashes = np.zeros(0, dtype=np.int64)
        self._ids = np.zeros(0, dtype=np.int64)
        self._tables: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def attach(self, kind: str, hashes: np.ndarray, values: np.ndarray) -> None:
        """Precomputed sorted (stable hash, value) pairs for kind 'exact' (number * 4 + how) or 'pinyin'."""
        self._tables[kind] = (hashes, values)

    def _table(self, kind: str, text: str) -> list[int]:
        if kind not in self._tables:
            return []
        return _lookup(*self._tables[kind], np.int64(stable_hash(text)))

    def add(self, name: str, number: int, how: int = FULL, fuzzy: bool = True) -> None:
        """File place `number` under `name` (how: FULL, ALIAS or SHORT); near-miss keys too if `fuzzy`."""
        entries = self._exact.setdefault(name, [])
        if all(e >> 2 != number for e in entries):
            entries.append(number * 4 + how)
        if fuzzy and len(name) >= MIN_FUZZY_CHARS:
            for form in (name, *deletions(name)):
                self._fuzzy_keys.append(stable_hash(form))
                self._fuzzy_ids.append(number)

    def add_pinyin(self, letters: str, number: int) -> None:
        """File place `number` under a lower-case pinyin spelling (guiyang)."""
        _file(self._pinyin, letters, number)

    def add_initials(self, letters: str, number: int) -> None:
        """File place `number` under the initials of its pinyin (gy)."""
        _file(self._initials, letters, number)

    def freeze(self, hashes: np.ndarray | None = None, ids: np.ndarray | None = None) -> None:
        """Build the near-miss array from the added names and precomputed (hashes, numbers)."""
        all_hashes = np.concatenate([np.array(self._fuzzy_keys, dtype=np.int64),
                                     hashes if hashes is not None else np.zeros(0, dtype=np.int64)])
        all_ids = np.concatenate([np.array(self._fuzzy_ids, dtype=np.int64),
                                  ids.astype(np.int64) if ids is not None else np.zeros(0, dtype=np.int64)])
        order = np.argsort(all_hashes, kind="stable")
        self._hashes, self._ids = all_hashes[order], all_ids[order]
        self._fuzzy_keys, self._fuzzy_ids = [], []

    def exact(self, name: str) -> list[Found]:
        """Places filed under exactly this form, best first."""
        best: dict[int, int] = {}
        for entry in self._exact.get(name, []) + self._table("exact", name):
            number, how = entry >> 2, entry & 3
            best[number] = min(how, best.get(number, how))
        found = [(self.resolve(number), how) for number, how in best.items()]
        return [f for f, _ in sorted(found, key=lambda pair: rank(pair[0], pair[1]))]

    def pinyin(self, letters: str) -> list[Found]:
        """Places whose pinyin is `letters` (any case), larger areas first."""
        letters = letters.lower()
        return self._ranked(self._pinyin.get(letters, []) + self._table("pinyin", letters))

    def initials(self, letters: str) -> list[Found]:
        """Places whose pinyin initials are `letters` (any case), larger areas first."""
        return self._ranked(self._initials.get(letters.lower(), ()))

    def _ranked(self, numbers: list[int]) -> list[Found]:
        return sorted((self.resolve(n) for n in dict.fromkeys(numbers)), key=rank)

    def near_misses(self, text: str) -> list[Found]:
        """Places whose name is one changed, missing or extra character away from `text` (unordered)."""
        if len(text) < MIN_FUZZY_CHARS - 1:
            return []
        out: dict[int, Found] = {}
        for form in (text, *deletions(text)):
            for number in _lookup(self._hashes, self._ids, np.int64(stable_hash(form))):
                if number not in out:
                    found = self.resolve(number)
                    if len(found.name) >= MIN_FUZZY_CHARS and one_edit_apart(text, found.name):
                        out[number] = found
        return list(out.values())


def _file(table: dict[str, list[int]], letters: str, number: int) -> None:
    if letters:
        entries = table.setdefault(letters, [])
        if number not in entries:
            entries.append(number)


def _lookup(hashes: np.ndarray, values: np.ndarray, key: np.int64) -> list[int]:
    lo, hi = np.searchsorted(hashes, key, "left"), np.searchsorted(hashes, key, "right")
    return values[lo:hi].tolist()
