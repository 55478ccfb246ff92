"""The tamper-evident event store: eventsourcing's SQLite recorder plus a hash chain.

Every stored event gets a row in `event_chain` written in the same transaction:

    leaf = sha256(field(position) || field(originator_id) || field(originator_version)
                  || field(topic) || field(state))
    head = sha256(previous head || leaf)          (the genesis head is 32 zero bytes)

where field(x) is a 4-byte big-endian length followed by the bytes of x; integers are
8-byte big-endian signed, text is UTF-8, and the originator id is hashed exactly as it
is stored (the UUID's hex, or the text id). Binding the position (SQLite's rowid, which
eventsourcing uses as the notification id) into the leaf makes reordering detectable;
chaining the heads makes any edit, deletion or insertion in the middle detectable.
Truncation of the tail is only detectable against a checkpoint (see ledger.integrity).

Triggers refuse UPDATE and DELETE on both tables. They are a guard against mistakes,
not a security boundary: anyone with write access to the file can drop them, which is
why the chain exists and why verification never trusts the triggers.

It is plugged in by topic (APPLICATION_RECORDER_TOPIC, see ledger.config), so nothing
else in the application knows it is there.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from hashlib import sha256
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

CHAIN_TABLE = "event_chain"
GENESIS_HEAD = bytes(32)

# Fixed-width integer fields, with their length prefix (always 8) packed in one call.
_INT_FIELD = struct.Struct(">Iq")
_LEN = struct.Struct(">I")


def chain_link(
    prev_head: bytes,
    position: int,
    originator_id: str,
    originator_version: int,
    topic: str,
    state: bytes,
) -> tuple[bytes, bytes]:
    """The (leaf, head) for one stored event. The single definition of the chain.

    Used by the recorder when writing and by ledger.integrity when verifying, so the
    two can never drift apart. Raises TypeError/AttributeError/struct.error if a
    column holds a value of the wrong type (verification reports that as tampering).
    """
    oid = originator_id.encode()
    top = topic.encode()
    leaf = sha256(
        b"".join(
            (
                _INT_FIELD.pack(8, position),
                _LEN.pack(len(oid)),
                oid,
                _INT_FIELD.pack(8, originator_version),
                _LEN.pack(len(top)),
                top,
                _LEN.pack(len(state)),
                state,
            )
        )
    ).digest()
    return leaf, sha256(prev_head + leaf).digest()


def _append_only_triggers(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{action.lower()} "
        f"BEFORE {action} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {action} refused'); END"
        for action in ("UPDATE", "DELETE")
    ]


class HashChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """SQLiteApplicationRecorder that appends a hash-chain row for every event."""

    # Fixed names: ledger.integrity verifies exactly these tables.
    insert_chain_statement = f"INSERT INTO {CHAIN_TABLE} VALUES (?,?,?)"
    select_head_statement = f"SELECT head FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1"

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} ("
            "position INTEGER PRIMARY KEY, "
            "leaf BLOB NOT NULL, "
            "head BLOB NOT NULL)"
        )
        statements += _append_only_triggers(self.events_table_name)
        statements += _append_only_triggers(CHAIN_TABLE)
        return statements

    def _insert_events(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> Sequence[int] | None:
        # The base class's INSERTs take SQLite's write lock, so from here until commit
        # no other connection (thread or process) can append: the head read below is
        # the true predecessor of these positions.
        positions = super()._insert_events(c, stored_events, **kwargs)
        if not positions:
            return positions
        c.execute(self.select_head_statement)
        row = c.fetchone()
        head: bytes = row[0] if row is not None else GENESIS_HEAD
        links = []
        append = links.append  # a hot loop on batched saves: keep lookups local
        for position, s in zip(positions, stored_events, strict=True):
            oid = s.originator_id
            leaf, head = chain_link(
                head,
                position,
                oid.hex if isinstance(oid, UUID) else oid,
                s.originator_version,
                s.topic,
                s.state,
            )
            append((position, leaf, head))
        c.executemany(self.insert_chain_statement, links)
        return positions
