"""What an import wrote, shared by the store contract and the bulk loaders (neither imports the other for it)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ImportResult:
    """What an all-or-nothing import wrote: rows inserted, rows updated, rows left as they were."""

    inserted: int
    updated: int
    ids: tuple[str, ...] = field(default=(), repr=False)
    unchanged: int = 0
