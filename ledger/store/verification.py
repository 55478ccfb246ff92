"""Verify the event store's hash chain, and take checkpoints of its head.

The library API behind `govledger verify` and `govledger checkpoint`. Verification
reads the store read-only, recomputes every leaf and head from the stored events in
one ordered scan (paged, so memory stays flat however long the log is) and reports the
first position where the stored log and the chain disagree.

Either backend: `verify` and `write_checkpoint` take an SQLite file path or a
`PostgresEventStore`; `event_store()` / `verify_store(env)` pick one from the same
settings as ledger.config. Each backend only supplies rows (a read-only SQLite
connection; a read-only PostgreSQL snapshot through server-side cursors); the checking
itself (`check_chain`) is one pure function over those rows.

What the chain alone can detect: any changed byte in any stored column, an event
deleted from the middle, an event inserted without a chain row, rows reordered or
swapped, and a chain table edited out of step with the events. What only a checkpoint
can detect: the tail cut off (events and chain rows deleted from the end), or the whole
history rewritten with a freshly computed chain. Keep checkpoints somewhere the
database's administrators cannot write (for example, attached to the published pack).
"""

from __future__ import annotations

import json
import os
import sqlite3
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import quote
from uuid import UUID

from ledger.config import EVENTS_DB, POSTGRES_MODULE, resolve_data_dir
from ledger.errors import LedgerError
from ledger.store import CHAIN_TABLE, GENESIS_HEAD, chain_link

if TYPE_CHECKING:
    import psycopg

    from ledger.store_postgres import PostgresEventStore

EVENTS_TABLE = "stored_events"
PAGE_SIZE = 10_000

# Called with (last position checked, last position in the log) after each page; the
# CLI's progress bar. On SQLite positions are 1..n, so that is (done, total).
Progress = Callable[[int, int], None]

# An SQLite event store is its file; a PostgreSQL one its connection settings.
EventStore: TypeAlias = "str | os.PathLike[str] | PostgresEventStore"

# One position of the log as a backend supplies it, in position order:
#   (position, has_event, originator_id, originator_version, topic, state, leaf, head)
# The event columns are None when only the chain has the position; leaf and head are
# None when only the events table has it. The originator id is as stored: text on
# SQLite, a UUID from PostgreSQL's uuid column.
Row: TypeAlias = tuple[int, bool, Any, Any, Any, Any, Any, Any]


class ChainBroken(LedgerError):
    """The log failed verification, so no checkpoint was written."""


class StoreUnavailable(LedgerError):
    """The configured event store cannot be reached (a server down, a wrong password)."""


@dataclass(frozen=True)
class Checkpoint:
    """The chain head after the first `events` positions, at a point in time."""

    events: int
    head: str
    taken_at: str
    database: str

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Checkpoint:
        """Read a checkpoint file written by `write_checkpoint`."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            checkpoint = cls(
                events=int(data["events"]),
                head=str(data["head"]).lower(),
                taken_at=str(data.get("taken_at", "")),
                database=str(data.get("database", "")),
            )
            if checkpoint.events < 0:
                raise ValueError("events is negative")
            if len(bytes.fromhex(checkpoint.head)) != len(GENESIS_HEAD):
                raise ValueError("head is not a sha256 digest")
        except (KeyError, TypeError, AttributeError, ValueError) as e:
            raise ValueError(f"{path} is not a ledger checkpoint ({e})") from e
        return checkpoint


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int  # events checked (all of them when ok)
    head_hex: str  # chain head after the last good position
    first_bad_position: int | None
    problem: str  # empty when ok


def open_read_only(db_path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A connection to the event store that cannot write (FileNotFoundError if absent)."""
    path = Path(db_path)
    if not path.is_file():
        raise FileNotFoundError(f"No event store at {path}")
    # mode=ro: verification must never be able to write, even by accident.
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    return sqlite3.connect(uri, uri=True, isolation_level=None)


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


# --- Choosing the store ---------------------------------------------------------------


def event_store(
    data_dir: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Path | PostgresEventStore:
    """The event store the settings point at, without creating anything.

    PostgreSQL when PERSISTENCE_MODULE is eventsourcing.postgres (connection from the
    POSTGRES_* settings), else the SQLite file in the data directory. `env` defaults
    to the process environment, as ledger.config.event_store_env reads it. Raises
    StoreUnavailable if a PostgreSQL setting is missing.
    """
    settings = os.environ if env is None else env
    if settings.get("PERSISTENCE_MODULE") == POSTGRES_MODULE:
        from ledger.store_postgres import PostgresEventStore

        try:
            return PostgresEventStore.from_env(settings)
        except ValueError as e:  # a setting is missing: there is no store to reach
            raise StoreUnavailable(str(e)) from e
    # Like event_store_env, the data directory decides; only an explicit env names a file.
    if env is not None and env.get("SQLITE_DBNAME"):
        return Path(env["SQLITE_DBNAME"])
    return resolve_data_dir(data_dir) / EVENTS_DB


def verify_store(
    env: Mapping[str, str],
    checkpoint: Checkpoint | str | os.PathLike[str] | None = None,
    *,
    progress: Progress | None = None,
) -> VerifyResult:
    """`verify` the store an eventsourcing environment (ledger.config.event_store_env) names."""
    return verify(event_store(env=env), checkpoint, progress=progress)


# --- Verifying ------------------------------------------------------------------------


def verify(
    store: EventStore,
    checkpoint: Checkpoint | str | os.PathLike[str] | None = None,
    *,
    progress: Progress | None = None,
) -> VerifyResult:
    """Recompute the hash chain of the event store: an SQLite file or a PostgreSQL store.

    With `checkpoint`, also check that the log still extends that checkpoint unchanged:
    the recomputed head after the checkpoint's number of events must equal its head.
    Raises FileNotFoundError if there is no SQLite file, StoreUnavailable if the
    PostgreSQL server cannot be reached.
    """
    if checkpoint is not None and not isinstance(checkpoint, Checkpoint):
        checkpoint = Checkpoint.load(checkpoint)
    if _is_postgres(store):
        return _verify_postgres(store, checkpoint, progress)  # type: ignore[arg-type]
    return _verify_sqlite(Path(store), checkpoint, progress)  # type: ignore[arg-type]


def _is_postgres(store: EventStore) -> bool:
    return not isinstance(store, str | os.PathLike)


def _describe(store: EventStore) -> str:
    if _is_postgres(store):
        return store.describe()  # type: ignore[union-attr]
    return str(Path(store).resolve())  # type: ignore[arg-type]


def _unusable(problem: str) -> VerifyResult:
    return VerifyResult(False, 0, GENESIS_HEAD.hex(), None, problem)


def _verify_sqlite(db_path: Path, checkpoint: Checkpoint | None, progress: Progress | None) -> VerifyResult:
    conn = open_read_only(db_path)
    try:
        # One read transaction, so every query below sees the same snapshot even while
        # the application keeps appending (WAL lets readers and the writer coexist).
        conn.execute("BEGIN")
        tables = _tables(conn)
        if EVENTS_TABLE not in tables:
            return _unusable(f"{db_path} is not a ledger event store (no {EVENTS_TABLE} table)")
        if CHAIN_TABLE not in tables:
            return _unusable(f"{db_path} has no {CHAIN_TABLE} table: the log is not hash-chained")
        # max(rowid) is O(1) and equals the count when the log is intact; only for progress.
        total = conn.execute(f"SELECT max(rowid) FROM {EVENTS_TABLE}").fetchone()[0] or 0
        result = check_chain(_sqlite_pages(conn), checkpoint, total=total, progress=progress, contiguous=True)
        conn.execute("COMMIT")
        return result
    finally:
        conn.close()


def _sqlite_pages(conn: sqlite3.Connection) -> Iterator[Sequence[Row]]:
    cursor = conn.execute(
        f"SELECT e.rowid, 1, e.originator_id, e.originator_version, e.topic, e.state, "
        f"c.leaf, c.head "
        f"FROM {EVENTS_TABLE} AS e LEFT JOIN {CHAIN_TABLE} AS c ON c.position = e.rowid "
        f"ORDER BY e.rowid"
    )
    last = 0
    while rows := cursor.fetchmany(PAGE_SIZE):
        last = rows[-1][0]
        yield rows
    # Chain rows past the last event: the join above, driven by events, cannot see them.
    # (Rows for missing positions in the middle show up as gaps, positions being 1..n.)
    orphans = conn.execute(
        f"SELECT position, 0, NULL, NULL, NULL, NULL, leaf, head FROM {CHAIN_TABLE} "
        "WHERE position > ? ORDER BY position LIMIT 1",
        (last,),
    ).fetchall()
    if orphans:
        yield orphans


@contextmanager
def postgres_snapshot(store: PostgresEventStore) -> Iterator[psycopg.Connection[Any]]:
    """A read-only, repeatable-read transaction on a PostgreSQL event store.

    Every query in it sees the same log however much is appended meanwhile, and none
    of them can write. Raises StoreUnavailable if the server cannot be reached, or
    refuses a query (a missing privilege, say).
    """
    import psycopg

    try:
        conn = store.connect(autocommit=False)
    except psycopg.Error as e:
        raise StoreUnavailable(f"Cannot connect to the event store at {store.describe()}: {e}") from e
    try:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            yield conn
    except psycopg.Error as e:
        raise StoreUnavailable(f"Cannot read the event store at {store.describe()}: {e}") from e
    finally:
        conn.close()


def _verify_postgres(
    store: PostgresEventStore, checkpoint: Checkpoint | None, progress: Progress | None
) -> VerifyResult:
    from psycopg import sql

    with postgres_snapshot(store) as conn:
        tables = {
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (store.schema,),
            )
        }
        where = store.describe()
        if store.events_table not in tables:
            return _unusable(f"{where} is not a ledger event store (no {store.events_table} table)")
        if store.chain_table not in tables:
            return _unusable(f"{where} has no {store.chain_table} table: the log is not hash-chained")
        events = sql.Identifier(store.schema, store.events_table)
        chain = sql.Identifier(store.schema, store.chain_table)
        total = conn.execute(sql.SQL("SELECT max(notification_id) FROM {}").format(events)).fetchone()
        # Two ordered server-side cursors merged here, rather than a FULL JOIN that
        # the server would sort (whole rows, state included) before the first row.
        with (
            conn.cursor(name="govledger_verify_events") as event_cursor,
            conn.cursor(name="govledger_verify_chain") as chain_cursor,
        ):
            event_cursor.itersize = chain_cursor.itersize = PAGE_SIZE
            event_cursor.execute(
                sql.SQL(
                    "SELECT notification_id, originator_id, originator_version, topic, state "
                    "FROM {} ORDER BY notification_id"
                ).format(events)
            )
            chain_cursor.execute(
                sql.SQL("SELECT position, leaf, head FROM {} ORDER BY position").format(chain)
            )
            rows = _merge_by_position(event_cursor, chain_cursor)
            return check_chain(
                _pages(rows), checkpoint, total=(total[0] if total else 0) or 0, progress=progress
            )


def _merge_by_position(events: Iterable[tuple[Any, ...]], chain: Iterable[tuple[Any, ...]]) -> Iterator[Row]:
    """Rows for every position in either table, in order (both inputs are ordered)."""
    event_iter, chain_iter = iter(events), iter(chain)
    e = next(event_iter, None)
    c = next(chain_iter, None)
    while e is not None or c is not None:
        if c is None or (e is not None and e[0] < c[0]):
            assert e is not None
            yield (e[0], True, e[1], e[2], e[3], e[4], None, None)
            e = next(event_iter, None)
        elif e is None or c[0] < e[0]:
            yield (c[0], False, None, None, None, None, c[1], c[2])
            c = next(chain_iter, None)
        else:
            yield (e[0], True, e[1], e[2], e[3], e[4], c[1], c[2])
            e = next(event_iter, None)
            c = next(chain_iter, None)


def _pages(rows: Iterator[Row]) -> Iterator[list[Row]]:
    while page := list(islice(rows, PAGE_SIZE)):
        yield page


def check_chain(
    pages: Iterable[Sequence[Row]],
    checkpoint: Checkpoint | None = None,
    *,
    total: int = 0,
    progress: Progress | None = None,
    contiguous: bool = False,
) -> VerifyResult:
    """Check the log's rows, in position order, against the hash chain. Pure: no I/O.

    `contiguous`: positions must run 1, 2, 3... so a gap is itself a deleted event
    (SQLite's rowids). Without it (PostgreSQL's notification ids, which a rolled-back
    transaction leaves gaps in) a deleted event shows as an orphan chain row, or, if
    its chain row went too, as the next chain row not following from the one before.
    """
    cp_events = checkpoint.events if checkpoint is not None else -1
    cp_head = bytes.fromhex(checkpoint.head) if checkpoint is not None else b""
    head = GENESIS_HEAD
    checked = 0  # events verified so far; `head` is the chain head after them
    last = 0  # the last position seen

    def bad(position: int, problem: str) -> VerifyResult:
        return VerifyResult(False, checked, head.hex(), position, problem)

    if cp_events == 0 and cp_head != GENESIS_HEAD:
        return bad(1, "the checkpoint claims 0 events but its head is not the genesis head")
    for rows in pages:
        for position, has_event, oid, version, topic, state, stored_leaf, stored_head in rows:
            if contiguous and position != last + 1:
                return bad(
                    last + 1,
                    f"no event at position {last + 1} (the next is {position}): an event was deleted",
                )
            if not has_event:
                return bad(
                    position,
                    f"the chain has a row at position {position} but there is no such event: "
                    "an event was deleted",
                )
            if stored_leaf is None:
                return bad(
                    position,
                    f"the event at position {position} has no chain row: it was inserted "
                    "outside the ledger, or its chain row was deleted",
                )
            if isinstance(oid, UUID):  # PostgreSQL's uuid column; hashed as SQLite stores it
                oid = oid.hex
            try:
                leaf, next_head = chain_link(head, position, oid, version, topic, bytes(state))
            except (TypeError, AttributeError, struct.error, OverflowError):
                return bad(
                    position,
                    f"the event at position {position} has a column of the wrong type: it was altered",
                )
            if leaf != stored_leaf:
                return bad(
                    position,
                    f"the event at position {position} is not the event that was recorded "
                    "there (its content or position was altered)",
                )
            if next_head != stored_head:
                problem = (
                    f"the chain row at position {position} does not follow from the chain "
                    "before it: the chain table was rewritten"
                )
                if not contiguous:
                    problem += ", or an event before it was deleted together with its chain row"
                return bad(position, problem)
            head = next_head
            checked += 1
            last = position
            if checked == cp_events and head != cp_head:
                return bad(
                    position,
                    f"the chain head at position {position} differs from the checkpoint's: "
                    f"history at or before position {position} was rewritten since it was taken",
                )
        if progress is not None:
            progress(last, total)

    if cp_events > checked:
        return bad(
            last + 1,
            f"the checkpoint covers {cp_events} events but the log has only {checked}: "
            "events were removed from the end",
        )
    return VerifyResult(True, checked, head.hex(), None, "")


# --- Checkpoints ----------------------------------------------------------------------


def write_checkpoint(
    store: EventStore,
    out_path: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
) -> Checkpoint:
    """Verify the log, then write its current length and head to `out_path` as JSON.

    Refuses (ChainBroken) if the log does not verify: a checkpoint of a tampered log
    would vouch for the tampering. `store` is an SQLite file or a PostgreSQL store.
    """
    result = verify(store, progress=progress)
    if not result.ok:
        raise ChainBroken(f"Not checkpointing: position {result.first_bad_position}: {result.problem}")
    checkpoint = Checkpoint(
        events=result.events,
        head=result.head_hex,
        taken_at=datetime.now(UTC).isoformat(timespec="seconds"),
        database=_describe(store),
    )
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(asdict(checkpoint), indent=2) + "\n", encoding="utf-8")
    return checkpoint


def checkpoint_store(
    env: Mapping[str, str],
    out_path: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
) -> Checkpoint:
    """`write_checkpoint` for the store an eventsourcing environment names."""
    return write_checkpoint(event_store(env=env), out_path, progress=progress)
