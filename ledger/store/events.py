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

    committed_rows = getattr(recorder, "committed_rows", None)

    def read(after: int, limit: int, stop: int | None = None) -> list[StoredRow]:
        # A catch-up to the save just made here is given its rows without a read; only
        # with `stop`, as only then is it known that no later row is wanted.
        if committed_rows is not None and stop is not None and stop - after <= limit:
            rows = committed_rows(after, stop)
            if rows is not None:
                return rows
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


# ---------------------------------------------------------------- chosen records only

# Ids (or positions) per statement: well under SQLite's and psycopg's parameter limits.
_CHUNK = 500


def record_positions(recorder: ApplicationRecorder, originator_ids: Sequence[Any], stop: int) -> list[int]:
    """The log positions, up to `stop`, of every event of these records (aggregates), in
    order. Read through the events' own primary key (originator id, version), which holds
    the position too, so nothing of the rest of the log is read."""
    found: list[int] = []
    ids = [UUID(str(i)) for i in originator_ids]
    if isinstance(recorder, SQLiteApplicationRecorder):
        table = recorder.events_table_name
        for start in range(0, len(ids), _CHUNK):
            chunk = [i.hex for i in ids[start : start + _CHUNK]]  # as the recorder stores them
            marks = ",".join("?" * len(chunk))
            with recorder.datastore.transaction(commit=False) as c:
                c.execute(
                    f"SELECT rowid FROM {table} WHERE originator_id IN ({marks}) AND rowid <= ?",
                    (*chunk, stop),
                )
                found.extend(r[0] for r in c.fetchall())
    else:
        from psycopg.sql import SQL, Identifier

        select = SQL(
            "SELECT notification_id FROM {schema}.{table} "
            "WHERE originator_id = ANY(%s) AND notification_id <= %s"
        ).format(schema=Identifier(recorder.datastore.schema), table=Identifier(recorder.events_table_name))
        for start in range(0, len(ids), _CHUNK):
            with recorder.datastore.transaction(commit=False) as curs:
                curs.execute(select, (ids[start : start + _CHUNK], stop))
                found.extend(r["notification_id"] for r in curs.fetchall())
    found.sort()
    return found


def positions_reader(recorder: ApplicationRecorder, positions: Sequence[int]) -> EventPageReader:
    """An `EventPageReader` over only these positions (sorted): each page reads its rows
    by position, so a replay of one programme never scans the rest of the log."""
    from bisect import bisect_right

    table = recorder.events_table_name
    sqlite = isinstance(recorder, SQLiteApplicationRecorder)
    as_uuid = sqlite and recorder.datastore.originator_id_type == "uuid"

    def read(after: int, limit: int, stop: int | None = None) -> list[StoredRow]:
        first = bisect_right(positions, after)
        end = len(positions) if stop is None else bisect_right(positions, stop)
        wanted = list(positions[first : min(end, first + limit)])
        if not wanted:
            return []
        if sqlite:
            rows: list[Any] = []
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                with recorder.datastore.transaction(commit=False) as c:
                    c.execute(
                        "SELECT rowid, originator_id, originator_version, topic, state "
                        f"FROM {table} WHERE rowid IN ({','.join('?' * len(chunk))}) ORDER BY rowid",
                        chunk,
                    )
                    rows.extend(c.fetchall())
            return [(r[0], UUID(r[1]) if as_uuid else r[1], r[2], r[3], r[4]) for r in rows]
        from psycopg.sql import SQL, Identifier

        select = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {schema}.{table} WHERE notification_id = ANY(%s) ORDER BY notification_id"
        ).format(schema=Identifier(recorder.datastore.schema), table=Identifier(table))
        with recorder.datastore.transaction(commit=False) as curs:
            curs.execute(select, (wanted,))
            rows = curs.fetchall()
        return [
            (r["notification_id"], r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"]))
            for r in rows
        ]

    return read


def recorded_time(recorder: ApplicationRecorder, position: int) -> tuple[int, str] | None:
    """The first event at or after `position`: (its position, its recorded time as the
    stored ISO text), or None past the end of the log."""
    rows = event_page_reader(recorder)(position - 1, 1, None)
    if not rows:
        return None
    import orjson

    stamp = orjson.loads(rows[0][4])["timestamp"]
    return rows[0][0], stamp["_data_"] if isinstance(stamp, dict) else str(stamp)


def chain_heads_at(recorder: ApplicationRecorder, positions: Sequence[int]) -> dict[int, bytes]:
    """The hash chain's head at each of these positions ({} for a store without a chain)."""
    from ledger.store.sqlite import CHAIN_TABLE, HashChainedSQLiteApplicationRecorder

    heads: dict[int, bytes] = {}
    if isinstance(recorder, HashChainedSQLiteApplicationRecorder):
        for start in range(0, len(positions), _CHUNK):
            chunk = list(positions[start : start + _CHUNK])
            marks = ",".join("?" * len(chunk))
            with recorder.datastore.transaction(commit=False) as c:
                c.execute(f"SELECT position, head FROM {CHAIN_TABLE} WHERE position IN ({marks})", chunk)
                heads.update((r[0], r[1]) for r in c.fetchall())
        return heads
    chain_table = getattr(recorder, "chain_table_name", None)
    if chain_table is None or isinstance(recorder, SQLiteApplicationRecorder):
        return heads
    from psycopg.sql import SQL, Identifier

    select = SQL("SELECT position, head FROM {schema}.{table} WHERE position = ANY(%s)").format(
        schema=Identifier(recorder.datastore.schema), table=Identifier(chain_table)
    )
    with recorder.datastore.transaction(commit=False) as curs:
        curs.execute(select, (list(positions),))
        heads.update((r["position"], bytes(r["head"])) for r in curs.fetchall())
    return heads


def record_ids(recorder: ApplicationRecorder, stop: int) -> list[Any]:
    """Every record's (aggregate's) id, in the order the records were created (their
    first event's position), among the events up to `stop`: ids only, so a reader can
    then take one record at a time (`record_events`) and never hold the log."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT originator_id FROM {recorder.events_table_name} "
                "WHERE originator_version = 1 AND rowid <= ? ORDER BY rowid",
                (stop,),
            )
            found = [r[0] for r in c.fetchall()]
        return [UUID(i) for i in found] if recorder.datastore.originator_id_type == "uuid" else found
    from psycopg.sql import SQL, Identifier

    select = SQL(
        "SELECT originator_id FROM {schema}.{table} "
        "WHERE originator_version = 1 AND notification_id <= %s ORDER BY notification_id"
    ).format(schema=Identifier(recorder.datastore.schema), table=Identifier(recorder.events_table_name))
    with recorder.datastore.transaction(commit=False) as curs:
        curs.execute(select, (stop,))
        return [r["originator_id"] for r in curs.fetchall()]


def record_events(recorder: ApplicationRecorder, originator_id: Any, stop: int) -> list[StoredRow]:
    """One record's stored events up to position `stop`, in version order."""
    return positions_reader(recorder, record_positions(recorder, [originator_id], stop))(0, 1 << 62, None)
