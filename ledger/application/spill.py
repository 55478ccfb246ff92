"""A batch's changes written out while a big import runs, so its memory stays flat.

An import applies every row into one `Batch` and saves it whole at the end. Holding every
changed aggregate with every pending event until then costs ~1.2 KB a row (2.7 GB at a
million rows), so between lists of rows (ledger.transfer.spool's SPOOL_ROWS) the batch
writes its pending events, as the stored events the save would insert, to a scratch
SQLite file and lets the aggregates go; one a later row names is rebuilt from the log
(as it was when the batch changed it) plus its spilled events. The save then reads the
spill back in chunks, in the order one save of the whole batch would have put them
(each aggregate's events together, aggregates in the order the batch first met them),
and inserts them through the hash-chained recorder in ONE transaction: the same events,
positions, chain and Merkle tree as a batch that never spilled.

The scratch file is deleted when the batch is saved or dropped; it never holds anything
the log would not (the events are only written to it, never read back into the ledger
but through the one save).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent

from ledger.application.lean import replay

# Events the save reads back and inserts at a time.
INSERT_CHUNK = 5_000

_SCHEMA = (
    # The order the batch first met each aggregate: a save puts its events in this order.
    "CREATE TABLE met (originator_id BLOB PRIMARY KEY, rank INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE events (rank INTEGER, version INTEGER, originator_id BLOB NOT NULL, "
    "topic TEXT NOT NULL, state BLOB NOT NULL, PRIMARY KEY (rank, version)) WITHOUT ROWID",
)


class Spill:
    """Stored events written out by a batch, by aggregate, in a scratch SQLite file."""

    def __init__(self) -> None:
        handle, name = tempfile.mkstemp(prefix="govledger-batch-", suffix=".db")
        os.close(handle)
        self._path = Path(name)
        self._conn = sqlite3.connect(name, isolation_level=None, check_same_thread=False)
        # Scratch: a crash loses nothing the log holds, so no journal and no syncs.
        self._conn.execute("PRAGMA journal_mode=OFF")
        self._conn.execute("PRAGMA synchronous=OFF")
        for statement in _SCHEMA:
            self._conn.execute(statement)
        self._next_rank = 0
        self.events = 0

    def write(self, met: Iterable[UUID], stored: Iterable[StoredEvent]) -> None:
        """Note the aggregates `met` (in the order the batch met them; one met before keeps
        its place) and write their `stored` events."""
        conn = self._conn
        conn.execute("BEGIN")
        ranked = [(aggregate_id.bytes, self._next_rank + n) for n, aggregate_id in enumerate(met)]
        self._next_rank += len(ranked)
        conn.executemany("INSERT OR IGNORE INTO met VALUES (?, ?)", ranked)
        cursor = conn.executemany(
            "INSERT INTO events VALUES ((SELECT rank FROM met WHERE originator_id = ?1), ?2, ?1, ?3, ?4)",
            ((_key(s.originator_id), s.originator_version, s.topic, s.state) for s in stored),
        )
        self.events += max(cursor.rowcount, 0)
        conn.execute("COMMIT")

    def events_of(self, ids: Iterable[UUID]) -> dict[UUID, list[StoredEvent]]:
        """The spilled events of each of `ids` that has any, in version order."""
        found: dict[UUID, list[StoredEvent]] = {}
        for aggregate_id in ids:
            rows = self._conn.execute(
                "SELECT e.version, e.topic, e.state FROM met JOIN events AS e USING (rank) "
                "WHERE met.originator_id = ? ORDER BY e.version",
                (aggregate_id.bytes,),
            ).fetchall()
            if rows:
                found[aggregate_id] = [StoredEvent(aggregate_id, v, t, s) for v, t, s in rows]
        return found

    def first_versions(self) -> Iterator[tuple[UUID, int]]:
        """Each spilled aggregate with the first version this batch gave it."""
        for key, version in self._conn.execute(
            "SELECT originator_id, min(version) FROM events GROUP BY rank ORDER BY rank"
        ):
            yield UUID(bytes=key), version

    def chunks(self, size: int = INSERT_CHUNK) -> Iterator[list[StoredEvent]]:
        """Every spilled event in the order one save would insert them, `size` at a time."""
        cursor = self._conn.execute(
            "SELECT originator_id, version, topic, state FROM events ORDER BY rank, version"
        )
        while rows := cursor.fetchmany(size):
            yield [StoredEvent(UUID(bytes=key), v, t, s) for key, v, t, s in rows]

    def close(self) -> None:
        self._conn.close()
        self._path.unlink(missing_ok=True)


class Recalled(NamedTuple):
    """A spilled aggregate rebuilt, with the events it was rebuilt from: the log's, up to
    the batch's first change to it, then the spilled ones."""

    aggregate: Aggregate
    stored: list[Any]
    spilled: list[Any]


def recall(app: Application[UUID], spill: Spill, ids: Iterable[UUID]) -> dict[UUID, Recalled]:
    """Each of `ids` with spilled events, rebuilt from ONE read of the log (none for a
    record the batch created) and its spilled events, so whoever needs its events as
    well (an import's status history) need not read them again."""
    to_domain = app.mapper.to_domain_event
    recalled = {}
    for aggregate_id, events in spill.events_of(ids).items():
        first = events[0].originator_version
        stored = list(app.events.get(aggregate_id, lte=first - 1)) if first > 1 else []
        spilled = [to_domain(e) for e in events]
        recalled[aggregate_id] = Recalled(replay(None, [*stored, *spilled]), stored, spilled)
    return recalled


def _key(originator_id: UUID | str) -> bytes:
    return originator_id.bytes if isinstance(originator_id, UUID) else originator_id.encode()
