"""Concurrency suite (issue 16, item 2): 8 writer processes on one shared set of items
and risks, mixing updates, corrections and re-ratings with fresh and stale versions.

Counted from the log against each writer's journal: every accepted command is in the log
exactly once, every refused one is absent and got a conflict naming the changes made
since the version it saw (checked against the log), nothing in the log is unaccounted
for; the chain verifies and the projections equal a rebuild. On SQLite and on the
throwaway PostgreSQL server. GOVLEDGER_CONCURRENCY_COMMANDS sets the commands per writer
(25 in CI; the full run uses 1,000). The figures print at the end.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from pathlib import Path

import pytest
from assurance_workload import Journal, account, check_store, seed, write_commands
from test_projections_postgres import PG_BIN, pg_database, pg_server  # noqa: F401  (fixtures)

from ledger.application import open_ledger

if __package__:
    from .postgres_server import Database
else:
    from postgres_server import Database

WRITERS = 8
COMMANDS = int(os.environ.get("GOVLEDGER_CONCURRENCY_COMMANDS", "25"))


def run_writers(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir.mkdir()  # on PostgreSQL it holds only projections.db and the journals
    ledger = open_ledger(data_dir)
    try:
        targets = seed(ledger)
        before = ledger.get_log_position()
    finally:
        ledger.close()
    # The tables exist now; the library's table creation is not safe to run concurrently.
    monkeypatch.setenv("CREATE_TABLE", "n")
    context = multiprocessing.get_context("spawn")  # the environment (PostgreSQL) goes with it
    journals = [data_dir / f"journal-{w}.jsonl" for w in range(WRITERS)]
    writers = [
        context.Process(target=write_commands, args=(str(data_dir), w, COMMANDS, targets, str(journals[w])))
        for w in range(WRITERS)
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=60 + COMMANDS)
    assert [w.exitcode for w in writers] == [0] * WRITERS

    ledger = open_ledger(data_dir)
    try:
        figures = account(ledger, Journal.read(journals), targets)
    finally:
        ledger.close()
    verified, projections_equal = check_store(data_dir, data_dir.parent)
    store = "PostgreSQL" if os.environ.get("PERSISTENCE_MODULE") == "eventsourcing.postgres" else "SQLite"
    print(
        f"\nconcurrency ({store}, {WRITERS} writers x {COMMANDS} commands): {figures.line()}, "
        f"chain verified {verified} events, projections equal a rebuild: {projections_equal}",
        file=sys.__stdout__,
    )
    assert figures.tried == WRITERS * COMMANDS
    assert not figures.lost and not figures.duplicated and not figures.refused_but_recorded
    assert not figures.unacknowledged and figures.other_refusals == 0
    assert figures.conflicts_naming_the_change == figures.conflicts > 0
    assert figures.accepted > 0 and figures.accepted + figures.conflicts == figures.tried
    assert figures.events == before + figures.accepted
    assert projections_equal


def test_eight_writers_on_sqlite_lose_nothing_and_every_refusal_names_the_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)
    run_writers(tmp_path / "data", monkeypatch)


@pytest.mark.skipif(PG_BIN is None, reason="PostgreSQL server binaries not installed: run scripts/setup.sh")
def test_eight_writers_on_postgres_lose_nothing_and_every_refusal_names_the_change(
    pg_database: Database,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_writers(tmp_path / "data", monkeypatch)
