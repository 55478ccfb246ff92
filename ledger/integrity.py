"""Verify the event store's hash chain, and take checkpoints of its head.

The library API behind `govledger verify` and `govledger checkpoint`. Verification
opens the database read-only, recomputes every leaf and head from the stored events in
one ordered scan (paged, so memory stays flat however long the log is) and reports the
first position where the stored log and the chain disagree.

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
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from ledger.errors import LedgerError
from ledger.store import CHAIN_TABLE, GENESIS_HEAD, chain_link

EVENTS_TABLE = "stored_events"
PAGE_SIZE = 10_000

# Called with (positions checked so far, total) after each page; the CLI's progress bar.
Progress = Callable[[int, int], None]


class ChainBroken(LedgerError):
    """The log failed verification, so no checkpoint was written."""


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


def verify(
    db_path: str | os.PathLike[str],
    checkpoint: Checkpoint | str | os.PathLike[str] | None = None,
    *,
    progress: Progress | None = None,
) -> VerifyResult:
    """Recompute the hash chain of the event store at `db_path`.

    With `checkpoint`, also check that the log still extends that checkpoint unchanged:
    the recomputed head at the checkpoint's position must equal the checkpoint's head.
    Raises FileNotFoundError if there is no database file.
    """
    if checkpoint is not None and not isinstance(checkpoint, Checkpoint):
        checkpoint = Checkpoint.load(checkpoint)
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
        result = _scan(conn, checkpoint, progress)
        conn.execute("COMMIT")
        return result
    finally:
        conn.close()


def _unusable(problem: str) -> VerifyResult:
    return VerifyResult(False, 0, GENESIS_HEAD.hex(), None, problem)


def _scan(conn: sqlite3.Connection, checkpoint: Checkpoint | None, progress: Progress | None) -> VerifyResult:
    # max(rowid) is O(1) and equals the count when the log is intact; only for progress.
    total = conn.execute(f"SELECT max(rowid) FROM {EVENTS_TABLE}").fetchone()[0] or 0
    cp_events = checkpoint.events if checkpoint is not None else -1
    cp_head = bytes.fromhex(checkpoint.head) if checkpoint is not None else b""

    cursor = conn.execute(
        f"SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state, "
        f"c.leaf, c.head "
        f"FROM {EVENTS_TABLE} AS e LEFT JOIN {CHAIN_TABLE} AS c ON c.position = e.rowid "
        f"ORDER BY e.rowid"
    )
    head = GENESIS_HEAD
    expected = 1  # positions are rowids: 1, 2, 3... with no gaps, since nothing deletes

    def bad(position: int, problem: str) -> VerifyResult:
        # `expected - 1` positions verified; `head` is the chain head after them.
        return VerifyResult(False, expected - 1, head.hex(), position, problem)

    if cp_events == 0 and cp_head != GENESIS_HEAD:
        return bad(1, "the checkpoint claims 0 events but its head is not the genesis head")
    while rows := cursor.fetchmany(PAGE_SIZE):
        for position, oid, version, topic, state, stored_leaf, stored_head in rows:
            if position != expected:
                return bad(
                    expected,
                    f"no event at position {expected} (the next is {position}): an event was deleted",
                )
            if stored_leaf is None:
                return bad(
                    position,
                    f"the event at position {position} has no chain row: it was inserted "
                    "outside the ledger, or its chain row was deleted",
                )
            try:
                leaf, next_head = chain_link(head, position, oid, version, topic, state)
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
                return bad(
                    position,
                    f"the chain row at position {position} does not follow from the chain "
                    "before it: the chain table was rewritten",
                )
            if position == cp_events and next_head != cp_head:
                return bad(
                    position,
                    f"the chain head at position {position} differs from the checkpoint's: "
                    f"history at or before position {position} was rewritten since it was taken",
                )
            head = next_head
            expected += 1
        if progress is not None:
            progress(expected - 1, total)

    events = expected - 1
    orphan = conn.execute(
        f"SELECT position FROM {CHAIN_TABLE} WHERE position > ? ORDER BY position LIMIT 1",
        (events,),
    ).fetchone()
    if orphan is not None:
        return bad(
            orphan[0],
            f"the chain has a row at position {orphan[0]} but there is no such event: an event was deleted",
        )
    if cp_events > events:
        return bad(
            events + 1,
            f"the checkpoint covers {cp_events} events but the log has only {events}: "
            "events were removed from the end",
        )
    return VerifyResult(True, events, head.hex(), None, "")


def write_checkpoint(
    db_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
) -> Checkpoint:
    """Verify the log, then write its current length and head to `out_path` as JSON.

    Refuses (ChainBroken) if the log does not verify: a checkpoint of a tampered log
    would vouch for the tampering.
    """
    result = verify(db_path, progress=progress)
    if not result.ok:
        raise ChainBroken(f"Not checkpointing: position {result.first_bad_position}: {result.problem}")
    checkpoint = Checkpoint(
        events=result.events,
        head=result.head_hex,
        taken_at=datetime.now(UTC).isoformat(timespec="seconds"),
        database=str(Path(db_path).resolve()),
    )
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(asdict(checkpoint), indent=2) + "\n", encoding="utf-8")
    return checkpoint
