"""Background jobs with two nodes on one PostgreSQL log (issue 14): each node has its own
projections and job store; a job runs once, on the node that keeps its file."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest

from govledger.jobs import Worker
from ledger.transfer.kinds import COLUMNS
from ledger.transfer.stored_files import store
from projections.queries.jobs import get_job
from projections.system import open_system

if __package__:
    from .postgres_server import Database, PostgresServer, find_pg_bin
else:
    from postgres_server import Database, PostgresServer, find_pg_bin

PG_BIN = find_pg_bin()
pytestmark = pytest.mark.skipif(PG_BIN is None, reason="PostgreSQL server binaries not installed")


@pytest.fixture
def pg_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    assert PG_BIN is not None
    server = PostgresServer(PG_BIN)
    server.start()
    try:
        with server.database() as database:
            for key, value in database.env().items():
                monkeypatch.setenv(key, value)
            yield database
    finally:
        server.stop()


def test_a_job_runs_once_on_the_node_that_keeps_its_file(pg_database: Database, tmp_path: Path) -> None:
    node_a, node_b = tmp_path / "a", tmp_path / "b"
    with open_system(node_a) as a, open_system(node_b) as b:
        a.ledger.register_programme("plan", "Plan", cadence="quarterly", actor="setup")
        a.ledger.open_account("pat", display_name="Pat", role="programme manager", actor="setup")
        a.ledger.assign_programme("pat", "plan", actor="setup")
        rows = "".join(f"plan,P{n},action,Do P{n},,,\n" for n in range(20))
        kept = store(node_a, io.BytesIO(f"{','.join(COLUMNS['items'])}\n{rows}".encode()), "items.csv")
        job = a.ledger.queue_job(
            "import", file_sha256=kept.sha256, file_name="items.csv", file_size=kept.size,
            options={"stored": "items.csv"}, actor="pat",
        )
        b.projector.catch_up()  # node B's projections see the queued job too
        # Node B does not keep the file: its worker leaves the job for node A's.
        assert not Worker(b, name="b1").run_once()
        assert a.ledger.get_job(job)["state"] == "queued"
        # Two workers on node A race for it: one claims and runs it (in a process of its
        # own, as the worker loop does), the other finds none.
        workers = [Worker(a, name=f"a{n}", in_child=True) for n in (1, 2)]
        ran: list[bool] = []
        threads = [threading.Thread(target=lambda w=w: ran.append(w.run_once())) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert sorted(ran) == [False, True]
        names = [type(e).__name__ for e in a.ledger.events.get(UUID(str(job)))]
        assert [n for n in names if n != "Progressed"] == ["Queued", "Started", "Finished"]
        b.projector.catch_up()
        shown = get_job(b.projections_db, str(job), now=datetime.now(UTC))
        assert shown is not None and shown["result"]["summary"] == "Recorded 20 events (items: 20)."
