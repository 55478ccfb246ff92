"""Take checkpoints of the event store's chain head: the library API behind
`govledger checkpoint`.

A checkpoint (ledger.store.chain.Checkpoint) records how many events the log held and
the chain head after them. Later, `verify(store, checkpoint)` proves the log still
begins with exactly those events, which the chain alone cannot: cutting events off
the end, or rewriting all of history with a fresh chain. Keep checkpoints where the
database's administrators cannot write.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from ledger.errors import LedgerError
from ledger.store.chain import Checkpoint
from ledger.store.verification import EventStore, Progress, describe, event_store, verify


class ChainBroken(LedgerError):
    """The log failed verification, so no checkpoint was written."""


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
        database=describe(store),
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
