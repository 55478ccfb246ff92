"""Crash suite (issue 16, item 3): SIGKILL a writer, the projector and an import at random
points, again and again on the same ledger; the writer on SQLite and on the throwaway
PostgreSQL server (tests/postgres_server.py). After each kill:

- the hash chain verifies;
- nothing a client was told had succeeded is lost (each writer's journal, written after
  the ledger answered; an import is acknowledged by its exit status 0), and an import is
  all or nothing;
- the projections, caught up by the next process to open them, equal a rebuild.

GOVLEDGER_CRASHES sets the number of kills (6 in CI, the kinds taking turns; the full run
uses 50); the writer's share is made on each store. The figures print at the end.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from assurance_workload import Journal, account, check_store, seed, write_commands
from test_projections_postgres import PG_BIN, pg_database, pg_server  # noqa: F401  (fixtures)

from ledger.application import open_ledger
from ledger.store.verification import event_store, verify
from projections.queries import get_projection_position

if __package__:
    from .postgres_server import Database
else:
    from postgres_server import Database

CRASHES = int(os.environ.get("GOVLEDGER_CRASHES", "6"))
SEED_REPORTS = Path(__file__).resolve().parents[1] / "govledger" / "demo" / "seed"
GOVLEDGER = str(Path(sys.executable).with_name("govledger"))
COUNTS: Counter[str] = Counter()


@pytest.fixture(autouse=True)
def _sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)


@pytest.fixture(scope="module", autouse=True)
def report_counts() -> object:
    yield
    print(
        f"\ncrash ({CRASHES} kills): " + ", ".join(f"{k} {v}" for k, v in sorted(COUNTS.items())),
        file=sys.__stdout__,
    )


def kills(kind: str) -> int:
    """This kind's share of the kills, the kinds taking turns."""
    order = ("writer", "projector", "import")
    return len(range(order.index(kind), CRASHES, len(order)))


def after_the_kill(data_dir: Path) -> None:
    _, projections_equal = check_store(data_dir, data_dir.parent)
    assert projections_equal
    COUNTS["chain verified"] += 1
    COUNTS["projections equal a rebuild"] += 1


def test_a_writer_killed_anywhere_loses_no_acknowledged_command(tmp_path: Path) -> None:
    kill_writers(tmp_path / "data", "SQLite")


@pytest.mark.skipif(PG_BIN is None, reason="PostgreSQL server binaries not installed: run scripts/setup.sh")
def test_a_writer_killed_anywhere_on_postgres_loses_no_acknowledged_command(
    pg_database: Database,  # noqa: F811
    tmp_path: Path,
) -> None:
    assert os.environ["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    kill_writers(tmp_path / "data", "PostgreSQL")


def kill_writers(data_dir: Path, store: str) -> None:
    """SIGKILL a writer at a random point, `kills("writer")` times on one ledger (the
    configured store: on PostgreSQL the server sees the connection drop mid-command)."""
    data_dir.mkdir()  # on PostgreSQL it holds only projections.db and the journals
    ledger = open_ledger(data_dir)
    try:
        targets = seed(ledger)
    finally:
        ledger.close()
    rng, context = random.Random(1), multiprocessing.get_context("spawn")
    journals: list[Path] = []
    for n in range(kills("writer")):
        journal = data_dir / f"journal-{n}.jsonl"
        journals.append(journal)
        writer = context.Process(target=write_commands, args=(str(data_dir), n, 10**6, targets, str(journal)))
        writer.start()
        wanted = rng.randint(1, 30)  # answers journaled before the kill: a random point
        while len(Journal.read([journal])) < wanted and writer.is_alive():
            time.sleep(0.002)
        time.sleep(rng.uniform(0, 0.02))
        os.kill(writer.pid or 0, signal.SIGKILL)
        writer.join()
        assert writer.exitcode == -signal.SIGKILL
        COUNTS[f"writer killed ({store})"] += 1

        entries = Journal.read(journals)
        ledger = open_ledger(data_dir)
        try:
            figures = account(ledger, entries, targets)
        finally:
            ledger.close()
        assert not figures.lost and not figures.duplicated and not figures.refused_but_recorded
        # At most the command in flight: saved, killed before its answer was journaled.
        answered = {e["id"] for e in entries}
        for token in figures.unacknowledged:
            _, worker, number = token.split("-")
            assert f"cmd-{worker}-{int(number) - 1}" in answered or number == "0"
        COUNTS[f"acknowledged commands checked ({store})"] = figures.accepted  # all journals so far
        COUNTS[f"saved but killed before the answer ({store})"] = len(figures.unacknowledged)  # so far
        after_the_kill(data_dir)


def govledger(data_dir: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [GOVLEDGER, "--data-dir", str(data_dir), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def kill_at_random(
    process: subprocess.Popen[bytes], started: Callable[[], bool], window: float, rng: random.Random
) -> bool:
    """SIGKILL at a random moment within `window` seconds of the work having `started`.
    True if the process was still running then."""
    while not started() and process.poll() is None:
        time.sleep(0.002)
    deadline = time.monotonic() + rng.uniform(0, window)
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.002)
    running = process.poll() is None
    process.kill()
    process.communicate()  # reaps it and closes its pipe
    return running


def reference_run(data_dir: Path, *args: str) -> float:
    """One run to its end: how long a kill can land in."""
    started = time.monotonic()
    process = govledger(data_dir, *args)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err.decode()
    return time.monotonic() - started


def record_unprojected(data_dir: Path, n: int, count: int = 2_500) -> None:
    """`count` events written by a ledger with no projector, for the projector to catch up on."""
    ledger = open_ledger(data_dir)
    try:
        with ledger.batch() as batch:
            for i in range(count // 2):
                ref = f"B{n}.{i}"
                ledger.register_item("shared-plan", ref, kind="action", title=ref, actor="pm", batch=batch)
                ledger.record_status(
                    "shared-plan", ref, period="2024/25 Q1", status="Green", update=f"{ref} done",
                    actor="pm", batch=batch,
                )  # fmt: skip
    finally:
        ledger.close()


def test_the_projector_killed_anywhere_catches_up_to_equal_a_rebuild(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    ledger = open_ledger(data_dir)
    try:
        seed(ledger)
    finally:
        ledger.close()
    record_unprojected(data_dir, -1)
    reference_run(data_dir, "project")  # the file and its schema exist before the kills
    rng = random.Random(2)
    projections_db = data_dir / "projections.db"
    for n in range(kills("projector")):
        before = get_projection_position(projections_db)
        record_unprojected(data_dir, n)
        head = verify(event_store(data_dir)).events

        def applying(before: int = before) -> bool:  # its first page is in
            return get_projection_position(projections_db) > before

        COUNTS["projector killed"] += 1
        COUNTS["projector killed mid-run"] += kill_at_random(
            govledger(data_dir, "project"),
            applying,
            0.15,
            rng,  # its pages take about that long
        )
        COUNTS["projector killed part way through the log"] += (
            before < get_projection_position(projections_db) < head
        )
        after_the_kill(data_dir)


def test_an_import_killed_anywhere_is_all_or_nothing(tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    window = reference_run(reference, "import", str(SEED_REPORTS))
    complete = verify(event_store(reference)).events
    assert complete > 200
    rng = random.Random(3)
    for n in range(kills("import")):
        data_dir = tmp_path / f"data-{n}"
        process = govledger(data_dir, "import", str(SEED_REPORTS))
        # From the moment it creates the event store to about when a whole run ends.
        running = kill_at_random(process, (data_dir / "events.db").exists, window / 2, rng)
        COUNTS["import killed"] += 1
        COUNTS["import killed mid-run"] += running
        if not (data_dir / "events.db").exists():
            COUNTS["import killed before it opened the ledger"] += 1
            continue
        if not verify(event_store(data_dir)).ok:
            # Killed between creating the very first events.db and its tables: there is no
            # log yet (verify says so) and nothing was acknowledged; the next command to
            # open the ledger creates the tables, as it does for a new data directory.
            COUNTS["import killed while creating the first store"] += 1
            open_ledger(data_dir).close()
        result = verify(event_store(data_dir))
        assert result.ok, result
        assert result.events in (0, complete)  # all or nothing
        if not running:  # it finished and said so: the client was told it succeeded
            assert process.returncode == 0 and result.events == complete
        COUNTS["import all"] += result.events == complete
        COUNTS["import nothing"] += result.events == 0
        after_the_kill(data_dir)
        shutil.rmtree(data_dir)
