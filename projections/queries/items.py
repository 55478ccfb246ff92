"""One item: its details, every text recorded for it, and its timeline."""

from __future__ import annotations

from typing import Any

from ledger.refs import natural_sort_key
from projections.queries.connection import Db, Row, one, rows


def get_item_count(db: Db, programme: str) -> int:
    """How many items the programme holds (what a report over it has to lay out)."""
    found = one(db, "SELECT COUNT(*) AS n FROM items WHERE programme = ?", (programme,))
    return found["n"] if found else 0


def get_item(db: Db, programme: str, ref: str) -> Row | None:
    """An item's details (items table columns), or None."""
    return one(db, "SELECT * FROM items WHERE programme = ? AND ref = ?", (programme, ref))


def get_possible_parents(db: Db, programme: str, ref: str) -> list[Row]:
    """The items `ref` could be moved under: every item of the programme on the register
    but itself and those filed beneath it (ref, title, kind, path, depth), in outline order."""
    found = rows(
        db,
        "SELECT i.ref, i.title, i.kind, i.path, i.depth FROM items i "
        "JOIN items moving ON moving.programme = i.programme AND moving.ref = :ref "
        "WHERE i.programme = :programme AND i.ref != moving.ref "
        "AND substr(i.path, 1, length(moving.path) + 3) != moving.path || ' > ' "
        "AND NOT EXISTS (SELECT 1 FROM item_retirements r WHERE r.programme = i.programme "
        "AND r.ref = i.ref AND r.reinstated_from = '')",
        {"programme": programme, "ref": ref},
    )
    # Outline order: each ref in the path as a person counts (P1.2 before P1.10).
    return sorted(found, key=lambda row: [natural_sort_key(part) for part in row["path"].split(" > ")])


def get_item_history(db: Db, programme: str, ref: str) -> list[Row]:
    """Every status and update recorded or corrected for an item, oldest first
    (status_events columns): both texts of a period stay visible."""
    return rows(
        db,
        "SELECT s.* FROM audit_log a JOIN status_events s ON s.position = a.position "
        "WHERE a.programme = ? AND a.subject_ref = ? AND a.aggregate_kind = 'Item' "
        "ORDER BY s.period_start, s.position",
        (programme, ref),
    )


def get_item_timeline(
    db: Db,
    programme: str,
    ref: str,
    aggregate_kind: str = "Item",
    *,
    limit: int | None = None,
    before: int | None = None,
) -> list[Row]:
    """Everything that happened to a record, oldest first (audit_log columns: position,
    recorded_at, actor, event_type, summary, field, from_value, to_value, reason, period,
    version, chain_head...). `aggregate_kind` picks Risk, Indicator... for their refs.

    Paged like the audit log: `limit` keeps the newest that many (still oldest first),
    `before` (a position) only those recorded before it."""
    sql = "SELECT * FROM audit_log WHERE programme = ? AND subject_ref = ? AND aggregate_kind = ?"
    params: list[Any] = [programme, ref, aggregate_kind]
    if before is not None:
        sql += " AND position < ?"
        params.append(before)
    if limit is None:
        return rows(db, sql + " ORDER BY position", params)
    return rows(db, sql + " ORDER BY position DESC LIMIT ?", (*params, limit))[::-1]


def get_timeline_position_after(db: Db, programme: str, ref: str, after: int, offset: int) -> int | None:
    """The position of the item's event `offset` places after the first one recorded after
    `after` (None if there are not that many): where the next page of a timeline ends."""
    row = one(
        db,
        "SELECT position FROM audit_log WHERE programme = ? AND subject_ref = ? AND aggregate_kind = 'Item' "
        "AND position > ? ORDER BY position LIMIT 1 OFFSET ?",
        (programme, ref, after, offset),
    )
    return row["position"] if row else None
