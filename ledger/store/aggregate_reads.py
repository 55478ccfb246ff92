"""Reading several aggregates' events at once from the SQLite event store: a mixin of
the hash-chained recorder (ledger.store.sqlite), for commands that would otherwise
spend one transaction per aggregate (an import asks after thousands of ids; a rating
loads its programme, item and review)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder


class AggregateReads(SQLiteApplicationRecorder):
    def existing_ids(self, ids: Collection[UUID]) -> set[UUID]:
        """Which of `ids` have any event: one query per 500 ids, where loading each to
        learn it is missing costs a transaction (an import asks after thousands)."""
        wanted = [i.hex for i in ids]  # as the library stores them
        found: set[UUID] = set()
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                c.execute(
                    f"SELECT DISTINCT originator_id FROM {self.events_table_name} "
                    f"WHERE originator_id IN ({','.join('?' * len(chunk))})", chunk,
                )
                found.update(UUID(row[0]) for row in c.fetchall())
        return found

    def select_events_after(self, after: Mapping[UUID, int]) -> list[StoredEvent]:
        """The events of several aggregates, each after a version (0: all of them), in
        one read (`select_events` takes a transaction per aggregate); by aggregate,
        then version."""
        if not after:
            return []
        match = " OR ".join(["(originator_id=? AND originator_version>?)"] * len(after))
        params = [value for i, version in after.items() for value in (i.hex, version)]
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT originator_id, originator_version, topic, state "
                f"FROM {self.events_table_name} WHERE {match} ORDER BY originator_id, originator_version",
                params,
            )
            return [StoredEvent(self.convert_originator_id(r[0]), r[1], r[2], r[3]) for r in c.fetchall()]
