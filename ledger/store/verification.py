"""Verify the event store's hash chain: the library API behind `govledger verify`.

Verification reads the store read-only, recomputes every leaf and head from the stored
events in one ordered scan (paged, so memory stays flat however long the log is) and
reports the first position where the stored log and the chain disagree.

Either backend: `verify` takes an SQLite file path or a `PostgresEventStore`;
`event_store()` / `verify_store(env)` pick one from the same settings as ledger.config.
Each backend only supplies rows (ledger.store.sqlite / ledger.store.postgres
`log_pages`); the checking itself (`check_chain`) is one pure function over them.

Damage is a finding, not a failure to verify: text that is not UTF-8, a damaged
database page or a file that is not an intact SQLite database give a failed
VerifyResult naming the first position that could not be checked. Only a store that
cannot be reached at all raises (FileNotFoundError, StoreUnavailable, or sqlite3's
OperationalError for a file that cannot be opened).

What the chain alone can detect: any changed byte in any stored column, an event
deleted from the middle, an event inserted without a chain row, rows reordered or
swapped, and a chain table edited out of step with the events. What only a checkpoint
can detect: the tail cut off (events and chain rows deleted from the end), or the whole
history rewritten with a freshly computed chain. Keep checkpoints somewhere the
database's administrators cannot write (for example, attached to the published pack).
"""

from __future__ import annotations

import os
import sqlite3
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias
from uuid import UUID

from ledger.config import EVENTS_DB, POSTGRES_MODULE, resolve_data_dir
from ledger.store import sqlite as sqlite_store
from ledger.store.chain import (
    GENESIS_HEAD,
    PAGE_SIZE,
    Checkpoint,
    Row,
    StoreDamaged,
    StoreUnavailable,
    chain_link,
)

if TYPE_CHECKING:
    from ledger.store.postgres import PostgresEventStore

__all__ = [
    "PAGE_SIZE",
    "EventStore",
    "Progress",
    "StoreUnavailable",
    "VerifyResult",
    "check_chain",
    "describe",
    "event_store",
    "verify",
    "verify_store",
]

# Called with (last position checked, last position in the log) after each page; the
# CLI's progress bar. On SQLite positions are 1..n, so that is (done, total).
Progress = Callable[[int, int], None]

# An SQLite event store is its file; a PostgreSQL one its connection settings.
EventStore: TypeAlias = "str | os.PathLike[str] | PostgresEventStore"


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int  # events checked (all of them when ok)
    head_hex: str  # chain head after the last good position
    first_bad_position: int | None
    problem: str  # empty when ok


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
        from ledger.store.postgres import PostgresEventStore

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


def describe(store: EventStore) -> str:
    """Where the store is, for messages and checkpoints (never a password)."""
    if _is_postgres(store):
        return store.describe()  # type: ignore[union-attr]
    return str(Path(store).resolve())  # type: ignore[arg-type]


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


def _unusable(problem: str) -> VerifyResult:
    return VerifyResult(False, 0, GENESIS_HEAD.hex(), None, problem)


def _verify_sqlite(db_path: Path, checkpoint: Checkpoint | None, progress: Progress | None) -> VerifyResult:
    conn = sqlite_store.open_read_only(db_path)
    try:
        # One read transaction, so every query below sees the same snapshot even while
        # the application keeps appending (WAL lets readers and the writer coexist).
        conn.execute("BEGIN")
        try:
            tables = sqlite_store.tables(conn)
        except sqlite3.DatabaseError as e:  # the header or the schema page is damaged
            if not sqlite_store.is_damage(e):
                raise
            return _unusable(
                _with_shortfall(db_path, None, f"{db_path} is not an intact SQLite database (SQLite: {e})")
            )
        if sqlite_store.EVENTS_TABLE not in tables:
            return _unusable(f"{db_path} is not a ledger event store (no {sqlite_store.EVENTS_TABLE} table)")
        if sqlite_store.CHAIN_TABLE not in tables:
            return _unusable(
                f"{db_path} has no {sqlite_store.CHAIN_TABLE} table: the log is not hash-chained"
            )
        result = check_chain(
            sqlite_store.log_pages(conn, PAGE_SIZE),
            checkpoint,
            total=_sqlite_total(conn),
            progress=progress,
            contiguous=True,
        )
    finally:  # ends the read transaction (a damaged file can refuse a COMMIT)
        conn.close()
    if not result.ok:
        return replace(result, problem=_with_shortfall(db_path, result.first_bad_position, result.problem))
    return result


def _with_shortfall(db_path: Path, position: int | None, problem: str) -> str:
    """The problem, led by the file having been cut short if it was: what SQLite reads
    past the cut is then not worth describing on its own."""
    note = sqlite_store.shortfall(db_path)
    if not note:
        return problem
    near = f" near position {position}" if position is not None else ""
    return f"the file was cut short{near}: {note} (found there: {problem})"


def _sqlite_total(conn: sqlite3.Connection) -> int:
    """The last position, for progress only: max(rowid) is O(1) and equals the count
    when the log is intact. 0 when damage hides it (the scan then reports the damage)."""
    try:
        return conn.execute(f"SELECT max(rowid) FROM {sqlite_store.EVENTS_TABLE}").fetchone()[0] or 0
    except sqlite3.DatabaseError as e:
        if not sqlite_store.is_damage(e):
            raise
        return 0


def _verify_postgres(
    store: PostgresEventStore, checkpoint: Checkpoint | None, progress: Progress | None
) -> VerifyResult:
    from ledger.store import postgres

    with postgres.postgres_snapshot(store) as conn:
        tables = postgres.table_names(conn, store.schema)
        where = store.describe()
        if store.events_table not in tables:
            return _unusable(f"{where} is not a ledger event store (no {store.events_table} table)")
        if store.chain_table not in tables:
            return _unusable(f"{where} has no {store.chain_table} table: the log is not hash-chained")
        return check_chain(
            postgres.log_pages(conn, store, PAGE_SIZE),
            checkpoint,
            total=postgres.last_position(conn, store),
            progress=progress,
        )


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
    try:
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
                except UnicodeEncodeError:  # read with its bytes kept: not UTF-8 as stored
                    return bad(
                        position,
                        f"the event at position {position} has text that is not valid UTF-8: it was altered",
                    )
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
    except StoreDamaged as e:
        return bad(
            last + 1,
            f"database page damaged near position {last + 1}: the file cannot be read "
            f"from there on ({e.description})",
        )

    if cp_events > checked:
        return bad(
            last + 1,
            f"the checkpoint covers {cp_events} events but the log has only {checked}: "
            "events were removed from the end",
        )
    return VerifyResult(True, checked, head.hex(), None, "")
