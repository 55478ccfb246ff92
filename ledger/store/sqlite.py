"""The tamper-evident event store on SQLite: eventsourcing's recorder plus a hash chain.

Every stored event gets a row in `event_chain` (position, leaf, head) written in the
same transaction; ledger.store.chain defines a link. The position is SQLite's rowid,
which eventsourcing uses as the notification id, so positions run 1, 2, 3...

Triggers refuse UPDATE and DELETE on both tables. They are a guard against mistakes,
not a security boundary: anyone with write access to the file can drop them, which is
why the chain exists and why verification never trusts the triggers.

It is plugged in by topic (APPLICATION_RECORDER_TOPIC, see ledger.config), so nothing
else in the application knows it is there. Verification reads the file through
`open_read_only` and `log_pages` (ledger.store.verification).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from ledger.store.chain import GENESIS_HEAD, ChainLink, Row, StoreDamaged, chain_link, hashed_originator_id

EVENTS_TABLE = "stored_events"
CHAIN_TABLE = "event_chain"


def _append_only_triggers(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{action.lower()} "
        f"BEFORE {action} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {action} refused'); END"
        for action in ("UPDATE", "DELETE")
    ]


class HashChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """SQLiteApplicationRecorder that appends a hash-chain row for every event."""

    # Fixed names: ledger.store.verification verifies exactly these tables.
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
            leaf, head = chain_link(
                head, position, hashed_originator_id(s.originator_id), s.originator_version, s.topic, s.state
            )
            append((position, leaf, head))
        c.executemany(self.insert_chain_statement, links)
        return positions

    # --- reading the chain -------------------------------------------------------------

    select_chain_statement = (
        f"SELECT position, leaf, head FROM {CHAIN_TABLE} "
        "WHERE position > ? AND position <= ? ORDER BY position"
    )

    def read_chain(self, after: int, last: int) -> list[ChainLink]:
        """The stored chain links with after < position <= last, in position order."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(self.select_chain_statement, (after, last))
            return [ChainLink(*row) for row in c.fetchall()]


# --- Reading the file for verification ----------------------------------------------------


def open_read_only(db_path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A connection to the event store that cannot write (FileNotFoundError if absent)."""
    path = Path(db_path)
    if not path.is_file():
        raise FileNotFoundError(f"No event store at {path}")
    # mode=ro: verification must never be able to write, even by accident.
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    return sqlite3.connect(uri, uri=True, isolation_level=None)


def tables(conn: sqlite3.Connection) -> set[str]:
    """The file's table names. Raises sqlite3.DatabaseError if the schema is damaged."""
    try:
        return _table_names(conn)
    except sqlite3.DatabaseError as e:
        if not is_damage(e):
            raise
        # A file cut short fails SQLite's check of the page count in its header. With
        # writable_schema SQLite reads on regardless (the connection is still read-only),
        # so verification can check every position before the cut.
        conn.execute("PRAGMA writable_schema=ON")
        return _table_names(conn)


def _table_names(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def shortfall(db_path: str | os.PathLike[str]) -> str:
    """A sentence if the file is shorter than the pages its header records, else ''."""
    path = Path(db_path)
    with path.open("rb") as f:
        header = f.read(100)
    # The header's page count is only valid while its "valid for" counter matches.
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00") or header[24:28] != header[92:96]:
        return ""
    page_size = int.from_bytes(header[16:18]) or 1
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32])
    size = path.stat().st_size
    if size >= pages * page_size:
        return ""
    return f"it is {size:,} bytes but its header records {pages:,} pages of {page_size:,} bytes"


def is_damage(error: sqlite3.Error) -> bool:
    """Whether an error means the file's content is damaged (so verification reports
    it), rather than that the file cannot be reached (locked, no permission, I/O)."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
    # The sqlite3 module's own error for stored text that is not UTF-8 has no code.
    return isinstance(error, sqlite3.OperationalError) and str(error).startswith("Could not decode")


_SELECT_LOG = (
    f"SELECT e.rowid, 1, e.originator_id, e.originator_version, e.topic, e.state, c.leaf, c.head "
    f"FROM {EVENTS_TABLE} AS e LEFT JOIN {CHAIN_TABLE} AS c ON c.position = e.rowid "
    f"WHERE e.rowid > ? ORDER BY e.rowid"
)


def log_pages(conn: sqlite3.Connection, page_size: int) -> Iterator[Sequence[Row]]:
    """Every position of the log with its chain row, in pages, for verification.

    Raises StoreDamaged when the file cannot be read any further, after yielding every
    row before the damage, so the report names the first position it could not check.
    """
    last = 0
    try:
        cursor = conn.execute(_SELECT_LOG, (0,))
        while rows := cursor.fetchmany(page_size):
            last = rows[-1][0]
            yield rows
    except sqlite3.DatabaseError as e:
        if not is_damage(e):
            raise
        last = yield from _rows_up_to_damage(conn, last)
    # Chain rows past the last event: the join above, driven by events, cannot see
    # them. (Rows for missing positions in the middle show up as gaps.)
    try:
        orphans = conn.execute(
            f"SELECT position, 0, NULL, NULL, NULL, NULL, leaf, head FROM {CHAIN_TABLE} "
            "WHERE position > ? ORDER BY position LIMIT 1",
            (last,),
        ).fetchall()
    except sqlite3.DatabaseError as e:
        if not is_damage(e):
            raise
        raise StoreDamaged(f"SQLite: {e}") from e
    if orphans:
        yield orphans


def _rows_up_to_damage(conn: sqlite3.Connection, after: int) -> Generator[Sequence[Row], None, int]:
    """Re-read from `after` one row at a time, so that the rows a failed page held are
    still checked; returns the last position read, or raises StoreDamaged where the file
    cannot be read. Text that is not UTF-8 is read with its bytes kept (as surrogates),
    so that verification reports its event as altered."""
    conn.text_factory = lambda raw: raw.decode("utf-8", "surrogateescape")
    try:
        # A query per row: a cursor steps on to the next row as it returns one, so it
        # would fail on the damaged page before giving the last readable row.
        while (row := conn.execute(_SELECT_LOG + " LIMIT 1", (after,)).fetchone()) is not None:
            after = row[0]
            yield [row]
    except sqlite3.DatabaseError as e:
        if not is_damage(e):
            raise
        raise StoreDamaged(f"SQLite: {e}") from e
    return after
