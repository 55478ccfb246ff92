"""A tiny aggregate and writers for the event-store tests.

A module of its own (not a test file) so that processes started with the `spawn`
method can import it; it deliberately avoids the real domain model.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from multiprocessing.synchronize import Barrier
from pathlib import Path
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from ledger.config import EVENTS_DB, event_store_env, resolve_data_dir


class Tally(Aggregate):
    """Counts things; its id is derived from its name so tests can find it again."""

    @staticmethod
    def create_id(name: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"govledger-test/{name}")

    @event("Started")
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    @event("Counted")
    def count_one(self, note: str = "") -> None:
        self.count += 1


def make_app(data_dir: str | os.PathLike[str]) -> Application:
    return Application(env=event_store_env(data_dir))


def append_tallies(
    data_dir: str | os.PathLike[str],
    names: list[str],
    counts: int,
    *,
    batched: bool = False,
) -> None:
    """Create a Tally per name and count `counts` times.

    Unbatched: one save (one transaction, one event) per change. Batched: every
    tally's events in one save.
    """
    app = make_app(data_dir)
    try:
        tallies = [Tally(name) for name in names]
        if batched:
            for tally in tallies:
                for i in range(counts):
                    tally.count_one(note=f"{i}")
            app.save(*tallies)
            return
        for tally in tallies:
            app.save(tally)
            for i in range(counts):
                tally.count_one(note=f"{i}")
                app.save(tally)
    finally:
        app.close()


def worker_names(worker: int) -> tuple[list[str], list[str]]:
    """The tallies a concurrent writer saves singly, and those it saves in one batch."""
    return (
        [f"w{worker}-single-{i}" for i in range(10)],
        [f"w{worker}-batch-{i}" for i in range(20)],
    )


def concurrent_writer(data_dir: str, worker: int, barrier: Barrier, counts: int) -> None:
    """One of several processes appending to the same events.db at once.

    Some tallies are saved an event at a time and some in one batch, so single- and
    multi-event transactions from different processes interleave.
    """
    barrier.wait(timeout=120)  # start together so the writers really contend
    single, batch = worker_names(worker)
    append_tallies(data_dir, single, counts)
    append_tallies(data_dir, batch, counts, batched=True)


def events_db(data_dir: str | os.PathLike[str]) -> Path:
    return resolve_data_dir(data_dir) / EVENTS_DB


@contextmanager
def guards_dropped(db: Path) -> Iterator[sqlite3.Connection]:
    """A raw connection to an events file with its append-only triggers dropped, as
    someone holding the file could; committed on exit. For tamper tests only."""
    with closing(sqlite3.connect(db)) as conn:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            conn.execute(f'DROP TRIGGER "{name}"')
        with conn:
            yield conn
