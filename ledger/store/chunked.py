"""Inserting a big batch's events a chunk at a time, in one transaction (SQLite).

A big import's batch spills its events to a scratch file (ledger.application.spill)
rather than hold them; its save reads them back in chunks and hands them here, so no
more than a chunk of stored events is ever in memory. Each chunk goes through the
recorder's own `_insert_events`, which chains it and grows the Merkle tree from the
head and edge the chunk before it left (read inside the same transaction), so the rows
are exactly those of one `insert_events` of every event. (PostgreSQL's recorder does
the same in its own `insert_events`: ledger.store.postgres.)
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import StoredEvent

if TYPE_CHECKING:
    from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore


class ChunkedInserts:
    """Mixed into the hash-chained SQLite recorder (ledger.store.sqlite)."""

    datastore: SQLiteDatastore
    _staged: threading.local
    _committed: tuple[tuple[Any, ...], tuple[tuple[Any, ...], ...]]

    if TYPE_CHECKING:  # the recorder's own (a definition here would shadow it)

        def _insert_events(
            self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
        ) -> Sequence[int] | None: ...

    def insert_event_chunks(self, chunks: Iterable[Sequence[StoredEvent]]) -> int | None:
        """Insert every chunk's events in ONE transaction (all or none); the last position,
        or None if there were none."""
        last = None
        self._staged.committed = ((), ())
        with self.datastore.transaction(commit=True) as c:
            for chunk in chunks:
                positions = self._insert_events(c, chunk)
                if positions:
                    last = positions[-1]
        self._committed = ((), ())  # thousands of rows: the catch-up reads them from the file
        return last
