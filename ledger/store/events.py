"""Reading stored events a page at a time, as rows, for readers that apply a whole log
(the projector's rebuild and catch-up).

eventsourcing's `select_notifications` builds a Notification object per event; a
replay of a million events only needs each row's five values, so `event_page_reader`
reads them with one SQL query per page on SQLite and PostgreSQL (any other recorder
goes through `select_notifications`). The values are what eventsourcing's own reader
gives a mapper: the originator id converted as the recorder converts it, state bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

# (position, originator_id, originator_version, topic, state)
StoredRow = tuple[int, Any, int, str, bytes]
# Called with (after, limit, stop): up to `limit` rows with after < position (<= stop).
EventPageReader = Callable[[int, int, "int | None"], Sequence[StoredRow]]

# Ids repeat (an item is rated every period): converting each text id once per replay
# saves a UUID parse per event. Bounded, so a huge estate can't grow it without limit.
_ID_CACHE_LIMIT = 100_000


def event_page_reader(recorder: ApplicationRecorder) -> EventPageReader:
    """A reader of the recorder's stored events in position order, a page per call."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        return _sqlite_reader(recorder)
    # Imported here: it loads psycopg, which a SQLite ledger never needs.
    from eventsourcing.postgres import PostgresApplicationRecorder

    if isinstance(recorder, PostgresApplicationRecorder):
        return _postgres_reader(recorder)
    return _notifications_reader(recorder)


def _sqlite_reader(recorder: SQLiteApplicationRecorder) -> EventPageReader:
    table = recorder.events_table_name
    select = f"SELECT rowid, originator_id, originator_version, topic, state FROM {table} WHERE rowid > ?"
    paged = f"{select} ORDER BY rowid LIMIT ?"
    bounded = f"{select} AND rowid <= ? ORDER BY rowid LIMIT ?"
    as_uuid = recorder.datastore.originator_id_type == "uuid"
    ids: dict[str, UUID] = {}

    def convert(text: str) -> UUID:
        if len(ids) >= _ID_CACHE_LIMIT:
            ids.clear()
        ids[text] = found = UUID(text)
        return found

    def read(after: int, limit: int, stop: int | None = None) -> list[StoredRow]:
        with recorder.datastore.transaction(commit=False) as c:
            if stop is None:
                c.execute(paged, (after, limit))
            else:
                c.execute(bounded, (after, stop, limit))
            rows = c.fetchall()
        if not as_uuid:
            return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]
        get = ids.get
        return [(r[0], get(r[1]) or convert(r[1]), r[2], r[3], r[4]) for r in rows]

    return read


def _postgres_reader(recorder: Any) -> EventPageReader:
    from psycopg.sql import SQL, Identifier

    select = SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state "
        "FROM {schema}.{table} WHERE notification_id > %s"
    ).format(schema=Identifier(recorder.datastore.schema), table=Identifier(recorder.events_table_name))
    paged = select + SQL(" ORDER BY notification_id LIMIT %s")
    bounded = select + SQL(" AND notification_id <= %s ORDER BY notification_id LIMIT %s")

    def read(after: int, limit: int, stop: int | None = None) -> list[StoredRow]:
        with recorder.datastore.transaction(commit=False) as curs:
            if stop is None:
                curs.execute(paged, (after, limit), prepare=True)
            else:
                curs.execute(bounded, (after, stop, limit), prepare=True)
            rows = curs.fetchall()
        # Rows are dicts (the datastore's row factory); state arrives as bytes or a
        # memoryview, and the mapper expects bytes.
        return [
            (
                r["notification_id"],
                r["originator_id"],
                r["originator_version"],
                r["topic"],
                bytes(r["state"]),
            )
            for r in rows
        ]

    return read


def _notifications_reader(recorder: ApplicationRecorder) -> EventPageReader:
    def read(after: int, limit: int, stop: int | None = None) -> list[StoredRow]:
        return [
            (n.id, n.originator_id, n.originator_version, n.topic, n.state)
            for n in recorder.select_notifications(
                start=after, limit=limit, stop=stop, inclusive_of_start=False
            )
        ]

    return read
