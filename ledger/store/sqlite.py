"""The tamper-evident event store on SQLite: eventsourcing's recorder plus a hash chain.

Every stored event gets a row in `event_chain` (position, leaf, head) written in the
same transaction; ledger.store.chain defines a link. The position is SQLite's rowid,
which eventsourcing uses as the notification id, so positions run 1, 2, 3...

The same transaction adds the event's leaf, and the interior nodes it completes, to
the Merkle tree (ledger.store.merkle): `merkle_tree` (id, hash), every complete subtree
numbered in the order appends complete them (`merkle.node_id`), so a commit writes its
few new rows at the table's end, one page, beside the chain's. Leaf i is the event at
position i + 1 (positions are dense here). The right edge an append builds on is kept
between appends and trusted only while the table's last row is the one it ended with.
A log older than the tree (or than this layout: an earlier one kept `merkle_leaves`
and `merkle_nodes`, now unused) gets it from `merkle_extend` (`govledger
merkle-backfill`); until then appends leave the tree alone.

Triggers refuse UPDATE and DELETE on all three tables. They are a guard against mistakes,
not a security boundary: anyone with write access to the file can drop them, which is
why the chain exists and why verification never trusts the triggers.

Plugged in by topic (APPLICATION_RECORDER_TOPIC, ledger.config); its connections cache
statements (ledger.store.connections). Verification reads it with `open_read_only`, `log_pages`.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
from collections.abc import Collection, Generator, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteCursor

from ledger.store.aggregate_reads import AggregateReads
from ledger.store.chain import (
    GENESIS_HEAD,
    ChainLink,
    Row,
    StoreDamaged,
    hashed_originator_id,
    leaf_input,
    link,
)
from ledger.store.chunked import ChunkedInserts
from ledger.store.connections import CachedStatements
from ledger.store.merkle import (
    EventRow,
    Frontier,
    NodeKey,
    TreeState,
    event_leaves,
    grow,
    leaf_hash,
    leaves_in,
    node_id,
    stored_frontier,
)

EVENTS_TABLE = "stored_events"
CHAIN_TABLE = "event_chain"
# The Merkle tree (ledger.store.merkle): every complete subtree, by `node_id`.
TREE_TABLE = "merkle_tree"
# The tree's earlier layout, left unused in files written before this one (see above).
EARLIER_TREE_TABLES = {"merkle_leaves", "merkle_nodes"}

# The most events of one save kept for the catch-up after it (see `_committed`).
KEEP_COMMITTED = 64


def _append_only_triggers(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{action.lower()} "
        f"BEFORE {action} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {action} refused'); END"
        for action in ("UPDATE", "DELETE")
    ]


class HashChainedSQLiteApplicationRecorder(CachedStatements, ChunkedInserts, AggregateReads):
    """SQLiteApplicationRecorder that appends a hash-chain row for every event."""

    # Fixed names: ledger.store.verification verifies exactly these tables.
    insert_chain_statement = f"INSERT INTO {CHAIN_TABLE} VALUES (?,?,?)"
    # The chain's head, and the tree's last node, in one statement. Three scalar
    # subqueries, each one b-tree seek: a LEFT JOIN on a derived table made SQLite
    # materialise it, about 10 µs more a commit (a twentieth of a single commit's CPU).
    select_head_statement = (
        f"SELECT (SELECT head FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1), "
        f"(SELECT max(id) FROM {TREE_TABLE}), "
        f"(SELECT hash FROM {TREE_TABLE} ORDER BY id DESC LIMIT 1)"
    )
    insert_tree_statement = f"INSERT INTO {TREE_TABLE} VALUES (?,?)"

    # The tree's right edge after the last append through this recorder, with the last
    # row it wrote: (id, hash, edge). Used only while that row is still the table's
    # last, so a rolled-back append or another process's append just means a re-read.
    _edge: tuple[int, bytes, list[tuple[int, bytes]]] | None = None

    # The last save committed through this recorder: its chain links and its rows as
    # the projector reads them, so the catch-up right after it need not read them back
    # (read_chain, committed_rows). Committed rows never change; a save that failed
    # never gets here (`_staged` is per thread).
    _committed: tuple[tuple[ChainLink, ...], tuple[tuple[Any, ...], ...]] = ((), ())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._staged = threading.local()

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        self._staged.committed = ((), ())
        positions = super().insert_events(stored_events, **kwargs)  # returns once committed
        self._committed = self._staged.committed
        return positions

    def committed_rows(self, after: int, last: int) -> list[tuple[Any, ...]] | None:
        """The rows (position, originator id, version, topic, state) with after < position
        <= last if they are exactly the last save's here, else None (read the file)."""
        rows = self._committed[1]
        if rows and rows[0][0] == after + 1 and rows[-1][0] == last:
            return list(rows)
        return None

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} ("
            "position INTEGER PRIMARY KEY, "
            "leaf BLOB NOT NULL, "
            "head BLOB NOT NULL)"
        )
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {TREE_TABLE} (id INTEGER PRIMARY KEY, hash BLOB NOT NULL)"
        )
        for table in (self.events_table_name, CHAIN_TABLE, TREE_TABLE):
            statements += _append_only_triggers(table)
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
        head, last_id, last_hash = c.fetchone()
        head = GENESIS_HEAD if head is None else head
        links = []
        leaves = []
        append, add_leaf = links.append, leaves.append  # a hot loop on batched saves
        for position, s in zip(positions, stored_events, strict=True):
            encoded = leaf_input(
                position, hashed_originator_id(s.originator_id), s.originator_version, s.topic, s.state
            )
            leaf, head = link(head, encoded)
            append((position, leaf, head))
            add_leaf((position, leaf_hash(encoded)))
        c.executemany(self.insert_chain_statement, links)
        if len(links) <= KEEP_COMMITTED:  # a command's save, not an import's thousands
            rows = zip(positions, stored_events, strict=True)
            self._staged.committed = (
                tuple(ChainLink(*link) for link in links),
                tuple((p, e.originator_id, e.originator_version, e.topic, e.state) for p, e in rows),
            )
        # The tree grows only if it reaches the event before these (else: backfill first).
        if leaves_in(0 if last_id is None else last_id + 1) == positions[0] - 1:
            self._grow_tree(c, last_id, last_hash, leaves)
        return positions

    # --- the Merkle tree ---------------------------------------------------------------

    def _grow_tree(
        self, c: SQLiteCursor, last_id: int | None, last_hash: bytes | None, leaves: list[tuple[int, bytes]]
    ) -> None:
        """Add the (position, leaf hash) leaves to the tree whose last row is given."""
        cached = self._edge
        if cached is not None and cached[:2] == (last_id, last_hash):
            frontier = Frontier(cached[2])
        else:  # the tree holds one leaf per event before these
            frontier = stored_frontier(leaves[0][0] - 1, functools.partial(self._read_nodes, c))
        self._insert_tree(c, frontier, leaves)

    def _insert_tree(self, c: SQLiteCursor, frontier: Frontier, leaves: list[tuple[int, bytes]]) -> None:
        added = grow(frontier, leaves)
        rows = sorted(
            [(node_id(0, index), value) for index, _, value in added.leaves]
            + [(node_id(level, index), value) for level, index, value in added.nodes]
        )
        c.executemany(self.insert_tree_statement, rows)
        self._edge = (rows[-1][0], rows[-1][1], list(frontier.edge))

    @staticmethod
    def select_nodes_statement(count: int) -> str:
        """The stored nodes of `count` ids, each looked up by the table's integer key."""
        return f"SELECT id, hash FROM {TREE_TABLE} WHERE id IN ({','.join('?' * count)})"

    def _read_nodes(self, c: SQLiteCursor, keys: Collection[NodeKey]) -> dict[NodeKey, bytes]:
        if not keys:
            return {}
        ids = {node_id(level, index): (level, index) for level, index in keys}
        c.execute(self.select_nodes_statement(len(ids)), list(ids))
        return {ids[number]: value for number, value in c.fetchall()}

    def merkle_state(self) -> TreeState:
        with self.datastore.transaction(commit=False) as c:
            return self._tree_state(c)

    def _tree_state(self, c: SQLiteCursor) -> TreeState:
        c.execute(
            f"SELECT (SELECT max(id) FROM {TREE_TABLE}), (SELECT max(rowid) FROM {self.events_table_name})"
        )
        last_id, last_position = c.fetchone()
        # A table that is no whole tree (it cannot be, appends are atomic) reaches nothing.
        size = leaves_in(0 if last_id is None else last_id + 1) or 0
        return TreeState(size, size or None, last_position)

    def merkle_read(self, keys: Collection[NodeKey]) -> tuple[TreeState, dict[NodeKey, bytes]]:
        with self.datastore.transaction(commit=False) as c:
            return self._tree_state(c), self._read_nodes(c, list(keys))

    def merkle_position(self, index: int) -> int | None:
        return index + 1 if 0 <= index < self.merkle_state().leaves else None

    def merkle_index(self, position: int) -> int | None:
        return position - 1 if 0 < position <= self.merkle_state().leaves else None

    select_event_statement = (
        "SELECT rowid, originator_id, originator_version, topic, state FROM {table} "
        "WHERE rowid > ? ORDER BY rowid LIMIT ?"
    )

    def event_row(self, position: int) -> EventRow | None:
        with self.datastore.transaction(commit=False) as c:
            rows = self._event_rows(c, position - 1, 1)
        return rows[0] if rows and rows[0][0] == position else None

    def _event_rows(self, c: SQLiteCursor, after: int, limit: int) -> list[EventRow]:
        c.execute(self.select_event_statement.format(table=self.events_table_name), (after, limit))
        return [tuple(row) for row in c.fetchall()]  # type: ignore[misc]

    def merkle_extend(self, limit: int) -> TreeState:
        """Add up to `limit` of the events the tree does not cover yet, in one
        transaction holding the write lock (so no append interleaves)."""
        with self.datastore.get_connection(commit=True) as conn:
            c = conn.cursor()
            c.execute("BEGIN IMMEDIATE")
            try:
                state = self._tree_state(c)
                if not state.current:
                    rows = self._event_rows(c, state.last_leaf_position or 0, limit)
                    frontier = stored_frontier(state.leaves, functools.partial(self._read_nodes, c))
                    self._insert_tree(c, frontier, event_leaves(rows))
                    state = self._tree_state(c)
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        return state

    # --- reading the chain -------------------------------------------------------------

    select_chain_statement = (
        f"SELECT position, leaf, head FROM {CHAIN_TABLE} "
        "WHERE position > ? AND position <= ? ORDER BY position"
    )

    def read_chain(self, after: int, last: int) -> list[ChainLink]:
        """The stored chain links with after < position <= last, in position order."""
        committed = self._committed[0]
        if committed and committed[0].position == after + 1 and committed[-1].position == last:
            return list(committed)
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
