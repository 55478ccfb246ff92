"""The audit log: filtered and paged, streamed for export, and the positions and times
the as-at pages work from."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from projections.handlers import HANDLERS
from projections.queries.connection import Db, Row, connect_read_only, one, rows
from projections.schema import SCHEMA_VERSION, TABLES_BY_NAME

_COLUMNS = frozenset(TABLES_BY_NAME["audit_log"].column_names)


@dataclass(frozen=True)
class AuditFilter:
    """Which audit_log rows to show. `event` is "Aggregate.Event" (e.g.
    "Item.StatusRecorded"); `since` and `until` are days, both included (UTC)."""

    programme: str | None = None
    actor: str | None = None
    event: str | None = None
    since: date | None = None
    until: date | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if self.programme:
            clauses.append("programme = ?")
            params.append(self.programme)
        if self.actor:
            clauses.append("actor = ? COLLATE NOCASE")
            params.append(self.actor)
        if self.event and "." in self.event:
            kind, event = self.event.split(".", 1)
            clauses += ["aggregate_kind = ?", "event_type = ?"]
            params += [kind, event]
        if self.since:
            clauses.append("recorded_at >= ?")
            params.append(self.since.isoformat())
        if self.until:
            # recorded_at is ISO text in UTC: "before the next day" includes the whole day.
            clauses.append("recorded_at < ?")
            params.append((self.until + timedelta(days=1)).isoformat())
        return (" AND ".join(clauses) or "1"), params


def get_audit_log(
    db: Db,
    filters: AuditFilter | None = None,
    *,
    programme: str | None = None,
    actor: str | None = None,
    limit: int = 100,
    before: int | None = None,
    after: int | None = None,
) -> list[Row]:
    """audit_log rows, newest first: the newest `limit` (recorded before the position
    `before`, if given), or with `after` (a position) the oldest `limit` after it.
    `programme` and `actor` are short for an AuditFilter of just those."""
    where, params = (filters or AuditFilter(programme=programme, actor=actor)).where()
    if after is not None:
        found = rows(
            db,
            f"SELECT * FROM audit_log WHERE {where} AND position > ? ORDER BY position LIMIT ?",
            (*params, after, limit),
        )
        return found[::-1]
    if before is not None:
        where += " AND position < ?"
        params.append(before)
    return rows(db, f"SELECT * FROM audit_log WHERE {where} ORDER BY position DESC LIMIT ?", (*params, limit))


def iter_audit_log(
    path: str | os.PathLike[str], filters: AuditFilter, columns: Sequence[str], *, batch: int = 1000
) -> Iterator[list[tuple[Any, ...]]]:
    """The filtered audit log in log order, `columns` of each row, `batch` rows at a time,
    so memory stays flat however long the log is. Opens its own connection to `path`, so
    it can be consumed after the caller's connection is gone (a streamed response)."""
    unknown = [c for c in columns if c not in _COLUMNS]
    if unknown:
        raise ValueError(f"audit_log has no column {unknown[0]!r}")
    where, params = filters.where()
    conn = connect_read_only(path)
    try:
        cursor = conn.execute(
            f"SELECT {', '.join(columns)} FROM audit_log WHERE {where} ORDER BY position", tuple(params)
        )
        while found := cursor.fetchmany(batch):
            yield found
    finally:
        conn.close()


def get_event_types() -> list[str]:
    """Every kind of event the read model records, "Aggregate.Event", sorted."""
    return sorted(HANDLERS)


def get_recorded_at(db: Db, position: int) -> str | None:
    """When the event at `position` was recorded (ISO, UTC), or None if there is none."""
    row = one(db, "SELECT recorded_at FROM audit_log WHERE position = ?", (position,))
    return row["recorded_at"] if row else None


def get_position_as_at(db: Db, moment: str) -> int:
    """The last log position recorded at or before `moment` (ISO, UTC); 0 if none."""
    row = one(db, "SELECT max(position) AS position FROM audit_log WHERE recorded_at <= ?", (moment,))
    return (row["position"] if row else None) or 0


def get_record_start(db: Db, programme: str) -> Row | None:
    """Where a programme's record starts: the position and time (ISO, UTC) of the first
    event about it, or None if there is none."""
    return one(
        db,
        "SELECT position, recorded_at FROM audit_log WHERE programme = ? ORDER BY position LIMIT 1",
        (programme,),
    )


def get_snapshot_name(db: Db, position: int) -> str:
    """A file name for the read model replayed up to `position`: named by the position,
    the chain head there and the read model's schema version, so a file is never reused
    for a different history or an older shape of the read model."""
    row = one(db, "SELECT chain_head FROM audit_log WHERE position = ?", (position,))
    tag = row["chain_head"][:16] if row and row["chain_head"] else "genesis"
    return f"position-{position}-{tag}-schema{SCHEMA_VERSION}.db"
