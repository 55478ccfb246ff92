"""Read chosen events straight from the event store, read-only, for verification's
wider checks (ledger.coverage): publications and account changes.

`verify` must never write to the store it audits, so this does not open the ledger
application (whose recorder creates tables and triggers); it reads the rows in one
read-only snapshot and decodes their state with eventsourcing's JSON transcoder and
the transcodings the ledger's events use (the Application's defaults).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex

from ledger.store import sqlite as sqlite_store
from ledger.store.verification import EventStore

if TYPE_CHECKING:
    from ledger.store.postgres import PostgresEventStore


@dataclass(frozen=True)
class LoggedEvent:
    position: int
    originator_id: str  # hex, as SQLite stores it
    topic: str
    state: dict[str, Any]  # the event's attributes, decoded (timestamp a datetime)


def _transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    return transcoder


def logged_events(store: EventStore, topics: Collection[str]) -> Iterator[LoggedEvent]:
    """The events with these topics, in log order, from one read-only snapshot."""
    transcoder = _transcoder()
    wanted = sorted(topics)
    for position, originator_id, topic, state in _rows(store, wanted):
        oid = originator_id.hex if isinstance(originator_id, UUID) else originator_id  # PostgreSQL's uuid
        yield LoggedEvent(position, oid, topic, transcoder.decode(bytes(state)))


def _rows(store: EventStore, topics: list[str]) -> Iterator[tuple[int, Any, str, bytes]]:
    if not isinstance(store, str | os.PathLike):
        yield from _postgres_rows(store, topics)
        return
    with closing(sqlite_store.open_read_only(store)) as conn:
        conn.execute("BEGIN")
        marks = ",".join("?" * len(topics))
        yield from conn.execute(
            f"SELECT rowid, originator_id, topic, state FROM {sqlite_store.EVENTS_TABLE} "
            f"WHERE topic IN ({marks}) ORDER BY rowid",
            topics,
        )


def _postgres_rows(store: PostgresEventStore, topics: list[str]) -> Iterator[tuple[int, Any, str, bytes]]:
    from psycopg.sql import SQL, Identifier

    from ledger.store.postgres import postgres_snapshot

    with postgres_snapshot(store) as conn:
        yield from conn.execute(
            SQL(
                "SELECT notification_id, originator_id, topic, state FROM {} "
                "WHERE topic = ANY(%s) ORDER BY notification_id"
            ).format(Identifier(store.schema, store.events_table)),
            (topics,),
        )
