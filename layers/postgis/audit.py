"""The PostGIS side of the audit trail: single-station changes with their audit row, bulk audit
rows for imports (built in SQL from the COPYed rows), history reads and reverts.

Every function takes a cursor inside the caller's write transaction, which holds the store's
advisory write lock: writes are serialised, so `before` is exactly what the write replaced.
"""
from __future__ import annotations

from datetime import UTC
from typing import Any

from layers.audit import (
    AuditEntry,
    entry_not_found,
    revert_target,
    snapshot_array_json,
    station_from_snapshot,
)
from layers.model import STATION_FIELDS, Station

_AUDIT_COLUMNS = "seq, station_id, at, actor, action, before, after"
_INSERT_AUDIT = ("INSERT INTO station_audit (station_id, actor, action, before, after) "
                 "VALUES (%s, %s, %s, %s::jsonb, %s::jsonb)")


def snapshot_sql(alias: str) -> str:
    """SQL building the snapshot array (layers.audit) of row `alias`, fields in STATION_FIELDS order."""
    return "jsonb_build_array(" + ", ".join(f"{alias}.{c}" for c in STATION_FIELDS) + ")"


def same_row_sql(columns: tuple[str, ...], left: str, right: str) -> str:
    """SQL true when rows `left` and `right` agree on every column but the id (NULLs equal)."""
    cols = [c for c in columns if c != "id"]
    return (f"({', '.join(f'{left}.{c}' for c in cols)}) IS NOT DISTINCT FROM "
            f"({', '.join(f'{right}.{c}' for c in cols)})")


def audit_fresh_table(cur, actor: str | None) -> None:
    """Audit every row of `stations` as imported (the table was empty before this transaction)."""
    cur.execute("INSERT INTO station_audit (station_id, actor, action, before, after) "
                f"SELECT id, %s, 'import', NULL, {snapshot_sql('n')} FROM stations n", (actor,))


def drop_unchanged(cur, columns: tuple[str, ...], staged: str) -> int:
    """Delete from table `staged` the rows equal to the stored ones; how many there were."""
    cur.execute(f"DELETE FROM {staged} n USING stations s WHERE s.id = n.id AND {same_row_sql(columns, 's', 'n')}")
    return cur.rowcount


def audit_staged(cur, staged: str, actor: str | None) -> int:
    """Audit every row of table `staged` against what `stations` holds now; how many ids exist already."""
    cur.execute(
        "WITH written AS (INSERT INTO station_audit (station_id, actor, action, before, after) "
        f"SELECT n.id, %s, 'import', CASE WHEN s.id IS NULL THEN NULL ELSE {snapshot_sql('s')} END, "
        f"{snapshot_sql('n')} FROM {staged} n LEFT JOIN stations s ON s.id = n.id "
        "RETURNING before IS NOT NULL AS existed) SELECT count(*) FILTER (WHERE existed) FROM written",
        (actor,))
    return int(cur.fetchone()[0])


def audit_one(cur, station_id: str, actor: str | None, action: str,
              before: Station | None, after: Station | None) -> None:
    """The audit row of one change."""
    cur.execute(_INSERT_AUDIT, (station_id, actor, action, before and snapshot_array_json(before),
                                after and snapshot_array_json(after)))


def history(cur, station_id: str, limit: int) -> list[AuditEntry]:
    """The station's audit entries, newest first."""
    cur.execute(f"SELECT {_AUDIT_COLUMNS} FROM station_audit WHERE station_id = %s ORDER BY seq DESC LIMIT %s",
                (station_id, limit))
    return [_entry(row) for row in cur.fetchall()]


def revert_source(cur, station_id: str, seq: int) -> Station | None:
    """The `before` state of audit entry `seq` of `station_id`; AuditEntryNotFound / Conflict otherwise."""
    cur.execute("SELECT station_id, before FROM station_audit WHERE seq = %s", (seq,))
    row = cur.fetchone()
    if row is None:
        raise entry_not_found(seq)
    revert_target(row[0], station_id, seq)
    return station_from_snapshot(row[1])


def _entry(row: tuple[Any, ...]) -> AuditEntry:
    seq, sid, at, actor, action, before, after = row
    return AuditEntry(seq=int(seq), station_id=sid, at=at.astimezone(UTC), actor=actor, action=action,
                      before=station_from_snapshot(before), after=station_from_snapshot(after))
