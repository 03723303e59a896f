"""The placing step of an import's row checks: rows with neither lon nor lat but an address get the
point `layers.ingest.place.AddressPlacer` finds (WGS-84, after the source CRS: the gazetteer is
WGS-84 already), their `location_precision` and, when they have none, the county's adcode; a row
that cannot be placed keeps its missing-coordinates rejection with the reason added."""
from __future__ import annotations

import numpy as np

from layers.ingest.place import AddressPlacer, Placed

PLACED = "placed_from_address"  # warning code
UNPLACED = "unplaced_address"


def place_rows(lon: np.ndarray, lat: np.ndarray, values: dict[str, np.ndarray], issues: list[tuple],
               placer: AddressPlacer | None) -> list[tuple]:
    """Fill lon/lat (in place) of rows missing both from their address; the issues, updated."""
    missing: dict[int, set[str]] = {}
    for row, field_name, code, _ in issues:
        if code == "missing_coordinates":
            missing.setdefault(row, set()).add(field_name)
    values["placed"] = np.zeros(len(lon), dtype=bool)
    addresses = values["address"]
    rows = [row for row, gone in missing.items() if gone == {"lon", "lat"} and addresses[row] is not None]
    if not rows or placer is None:
        return issues
    done: set[int] = set()
    added: list[tuple] = []
    for row in rows:
        where = placer.place(addresses[row])
        if isinstance(where, Placed):
            lon[row], lat[row] = where.lon, where.lat
            values["location_precision"][row] = where.precision
            if values["adcode"][row] is None:
                values["adcode"][row] = where.adcode
            values["placed"][row] = True
            done.add(row)
            added.append((row, "address", PLACED, (f"placed from the address: {where.place} "
                          f"({where.precision}{'' if where.precision == 'exact' else ': the centre of the area'})")))
        else:
            added.append((row, "address", UNPLACED, f"no coordinates, and the address cannot be placed: {where}"))
    kept = [issue for issue in issues if not (issue[0] in done and issue[2] == "missing_coordinates")]
    return kept + added


def placed_counts(precision: np.ndarray, placed: np.ndarray) -> dict[str, int]:
    """Rows placed from their address, by precision."""
    kinds, counts = np.unique(precision[placed].astype(str), return_counts=True) if placed.any() else ([], [])
    return {str(k): int(c) for k, c in zip(kinds, counts)}
