"""The projector: pulls new events from the ledger's notification log and writes the
read model, one page (up to 1,000 events) per SQLite transaction.

Exactly once: the rows a page produces and the new tracking position are written in
the same transaction, which starts with BEGIN IMMEDIATE and re-reads the position, so
two projectors (say, two web workers) on the same file never apply an event twice and a
crash half-way through a page leaves nothing of it behind.

Handlers are functions of (event, read-model state) (projections.state); the caller
passes them in (the composition root passes projections.handlers.HANDLERS), so live
catch-up, rebuild from zero and as-at snapshots all run this one code path.

A projection never falls behind silently: any error in a handler or the flush rolls the
page back and propagates as `ProjectionFailed`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.store import chain_reader
from ledger.store.events import EventPageReader, StoredRow, event_page_reader
from projections.decoding import EventDecoder
from projections.schema import PROJECTION, SCHEMA_VERSION, create_schema
from projections.state import RATING_COLUMNS, Change, Handler, Row, State, check_columns

if TYPE_CHECKING:
    from eventsourcing.application import Application

__all__ = ["PROJECTION", "Change", "Handler", "ProjectionFailed", "Projector", "Row", "State"]

PAGE_SIZE = 1000
# A build from zero (rebuild, snapshot) writes bigger pages: an item rated in several
# periods of one page is written once, and each page's fixed costs are shared by more.
BUILD_PAGE_SIZE = 5000
# Aggregate ids as text, kept for the ids seen most (an item is rated every period).
ID_TEXT_LIMIT = 100_000
# Called with (last position applied, last position in the log) after each page.
Progress = Callable[[int, int], None]
# Applies one stored row straight from its stored state (a rebuild's fast path for the
# commonest events), given its chain head: its audit_log row's values, or None to have
# the row decoded and its handler applied as usual.
RowApplier = Callable[[StoredRow, "bytes | None", State], "tuple[Any, ...] | None"]


class ProjectionFailed(Exception):
    """An event could not be projected. Nothing of its page was written; the event is
    still in the ledger, so fix the cause and catch up (or rebuild)."""

    def __init__(self, message: str, position: int | None = None, event_type: str = "") -> None:
        super().__init__(message)
        self.position = position
        self.event_type = event_type


class SchemaOutOfDate(Exception):
    """projections.db was written by a different version of the projections: rebuild it."""


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection to a projections database, WAL on."""
    conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL can lose the last commit on power loss but never corrupts; the
    # position is in the same transaction, so the projector simply re-applies it.
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


class Projector:
    """Keeps a projections database up to date with a ledger's event log."""

    def __init__(
        self,
        ledger: Application[Any],
        path: str | Path,
        *,
        handlers: Mapping[str, Handler],
        page_size: int = PAGE_SIZE,
        conn: sqlite3.Connection | None = None,
        bulk_load: bool = False,
        read_page: EventPageReader | None = None,
        chain_heads: ChainHeads | None = None,
        appliers: Mapping[str, RowApplier] | None = None,
    ) -> None:
        """`read_page` and `chain_heads` replace the whole log's readers with a chosen
        part's (one programme's events, projections.asat). `appliers`: by stored topic,
        what applies a row without decoding it (projections.ratings_at_end)."""
        self.ledger = ledger
        self.path = Path(path)
        self.page_size = page_size
        # "Aggregate.Event" -> handler, e.g. projections.handlers.HANDLERS.
        self.handlers = handlers
        self.conn = conn or connect(self.path)
        self._lock = threading.Lock()
        self._cached_position: int | None = None
        self._chain_heads = chain_heads or _chain_heads(ledger)
        # Stored rows a page per query, decoded straight to events (projections.decoding).
        self._read_page = read_page or event_page_reader(ledger.recorder)
        self._decode = EventDecoder(ledger.mapper)
        self._appliers = appliers or {}
        self._id_text: dict[Any, str] = {}
        created = self._ensure_schema(bulk_load)
        # A file we have just created holds nothing we don't know about.
        self._state = State(self.conn, complete=created)
        if created:
            self._cached_position = 0

    def _ensure_schema(self, bulk_load: bool) -> bool:
        """Create the tables in a new file (True), or check an existing file's version."""
        # The write lock before looking: several processes opening a new file at once
        # (serve --workers, writers) would otherwise each find it empty and all but one
        # fail inserting the tracking row. The concurrency suite found this.
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            found = self.conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'projection_position'"
            ).fetchone()
            if not found:
                create_schema(self.conn, bulk_load=bulk_load)
                self.conn.execute(
                    "INSERT INTO projection_position VALUES (?, 0, ?, NULL)",
                    (PROJECTION, SCHEMA_VERSION),
                )
                return True
        row = self.conn.execute(
            "SELECT schema_version FROM projection_position WHERE projection = ?", (PROJECTION,)
        ).fetchone()
        if row is None or row[0] != SCHEMA_VERSION:
            raise SchemaOutOfDate(
                f"{self.path} was built by another version of the projections "
                f"(schema {row[0] if row else 'unknown'}, expected {SCHEMA_VERSION}): rebuild it."
            )
        return False

    @property
    def position(self) -> int:
        """The last event log position applied."""
        row = self.conn.execute(
            "SELECT position FROM projection_position WHERE projection = ?", (PROJECTION,)
        ).fetchone()
        return int(row[0])

    def close(self) -> None:
        self.conn.close()

    def catch_up(
        self,
        *,
        stop: int | None = None,
        include: Callable[[Any], bool] | None = None,
        progress: Progress | None = None,
    ) -> int:
        """Apply every event after the tracked position (up to `stop`, if given), a page
        per transaction. `include` skips events (as-at a time). Returns events applied."""
        applied = 0
        with self._lock:
            while True:
                seen, count = self._run_page(stop, include)
                applied += count
                if progress is not None and seen:
                    progress(self._cached_position or 0, self.ledger.recorder.max_notification_id() or 0)
                if seen < self.page_size:
                    return applied

    def _run_page(self, stop: int | None, include: Callable[[Any], bool] | None) -> tuple[int, int]:
        """One page in one transaction: (notifications seen, events applied)."""
        conn, state = self.conn, self._state
        conn.execute("BEGIN IMMEDIATE")
        try:
            position = conn.execute(
                "SELECT position FROM projection_position WHERE projection = ?", (PROJECTION,)
            ).fetchone()[0]
            if position != self._cached_position:
                state.forget()  # another projector moved it on: our cache is stale
                self._cached_position = None
            if stop is not None and position >= stop:
                conn.rollback()
                return 0, 0
            rows = self._read_page(position, self.page_size, stop)
            if not rows:
                conn.rollback()
                self._cached_position = position
                return 0, 0
            last = rows[-1][0]
            heads = self._chain_heads(position, last)
            decode, apply = self._decode, self._apply
            appliers = self._appliers if include is None else {}
            applied = 0
            for row in rows:
                applier = appliers.get(row[3]) if appliers else None
                if applier is not None:
                    try:
                        values = applier(row, heads.get(row[0]), state)
                    except Exception as error:
                        raise ProjectionFailed(
                            f"Projecting {row[3]} at position {row[0]} failed: {error}", row[0], row[3]
                        ) from error
                    if values is not None:
                        state.append_values("audit_log", values)
                        applied += 1
                        continue
                event, recorded_at = decode(row)
                if include is not None and not include(event):
                    continue
                apply(event, row[0], heads.get(row[0]), recorded_at)
                applied += 1
            state.flush()
            self._write_position(last)
            conn.commit()
        except BaseException as error:
            conn.rollback()
            state.forget()
            self._cached_position = None
            if isinstance(error, ProjectionFailed | KeyboardInterrupt | SystemExit):
                raise
            raise ProjectionFailed(
                f"Projecting the page after position {position} failed: {error}"
            ) from error
        state.commit()
        self._cached_position = last
        return len(rows), applied

    def _write_position(self, position: int) -> None:
        self.conn.execute(
            "UPDATE projection_position SET position = ? WHERE projection = ?", (position, PROJECTION)
        )

    def _apply(self, event: Any, position: int, head: bytes | None, recorded_at: str) -> None:
        event_type = type(event).__qualname__  # e.g. "Item.StatusRecorded"
        handler = self.handlers.get(event_type)
        if handler is None:
            raise ProjectionFailed(
                f"No projection handler for {event_type} (position {position}): add one to "
                "projections.handlers and its HANDLERS.",
                position,
                event_type,
            )
        state = self._state
        state.position = position
        state.recorded_at = recorded_at
        originator_id = event.originator_id
        aggregate_id = self._id_text.get(originator_id)
        if aggregate_id is None:
            if len(self._id_text) >= ID_TEXT_LIMIT:
                self._id_text.clear()
            aggregate_id = self._id_text[originator_id] = str(originator_id)
        state.aggregate_id = aggregate_id
        try:
            change = handler(event, state)
        except Exception as error:
            raise ProjectionFailed(
                f"Projecting {event_type} at position {position} failed: {error}", position, event_type
            ) from error
        kind, name = _split_type(event_type)
        values = audit_values(
            position, recorded_at, getattr(event, "actor", ""), kind, name, change,
            getattr(event, "reason", ""), aggregate_id, event.originator_version, head,
        )  # fmt: skip
        state.append_values("audit_log", values)


def audit_values(
    position: int, recorded_at: str, actor: str, kind: str, name: str, change: Change,
    reason: str, aggregate_id: str, version: int, head: bytes | None,
) -> tuple[Any, ...]:  # fmt: skip
    """An event's audit_log row, as values in AUDIT_COLUMNS' order."""
    return (
        position, recorded_at, actor, change.programme, change.subject_ref, kind, name,
        change.summary, change.field, change.from_value, change.to_value, reason, change.period,
        aggregate_id, version, head.hex() if head is not None else None, *change.rating,
    )  # fmt: skip


# The audit row's values above, in this order (checked against the schema on import).
AUDIT_COLUMNS = (
    *("position", "recorded_at", "actor", "programme", "subject_ref", "aggregate_kind"),
    *("event_type", "summary", "field", "from_value", "to_value", "reason", "period"),
    *("aggregate_id", "version", "chain_head"),
    *RATING_COLUMNS,
)
check_columns("audit_log", AUDIT_COLUMNS)


@lru_cache(maxsize=256)
def _split_type(event_type: str) -> tuple[str, str]:
    kind, _, name = event_type.rpartition(".")
    return kind, name


# Reads the hash-chain heads for the positions after `after` up to `last`.
ChainHeads = Callable[[int, int], dict[int, bytes]]


def _no_chain(after: int, last: int) -> dict[int, bytes]:
    return {}


def _chain_heads(ledger: Application[Any]) -> ChainHeads:
    """The event store's hash-chain heads, through its public chain reader; an event
    store without a chain gives none."""
    read = chain_reader(ledger.recorder)
    if read is None:
        return _no_chain
    return lambda after, last: {link.position: link.head for link in read(after, last)}
