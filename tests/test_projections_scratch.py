"""Issue 9, finding 5: a killed rebuild's scratch file (77-125 MB) is removed at the next
rebuild or start-up, and the removal never touches a build still running elsewhere."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_projections_support import dump, record_plan

from projections.scratch import remove_stale, scratch_file
from projections.system import open_system, rebuild, snapshot

REPO = Path(__file__).resolve().parents[1]

# A real `rebuild` in another process, paused after its first page until told to go on.
PAUSED_REBUILD = textwrap.dedent(
    """
    import sys
    from projections.system import rebuild

    def progress(done, total, told=[]):
        if not told:
            told.append(True)
            print("building", flush=True)
            sys.stdin.readline()

    print(rebuild(sys.argv[1], progress=progress), flush=True)
    """
)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "data"
    with open_system(directory) as system:
        record_plan(system.ledger)
    return directory


def scratch_files(data_dir: Path) -> list[str]:
    return sorted(p.name for p in data_dir.iterdir() if ".rebuild-" in p.name)


@pytest.fixture
def paused_rebuild(data_dir: Path) -> Iterator[subprocess.Popen[str]]:
    with subprocess.Popen(
        [sys.executable, "-c", PAUSED_REBUILD, str(data_dir)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:  # closes the pipes and waits, however the test ends
        try:
            assert process.stdout is not None and process.stdout.readline() == "building\n"
            yield process
        finally:
            if process.poll() is None:
                process.kill()


def test_a_killed_rebuilds_scratch_file_is_removed_by_the_next_rebuild(
    data_dir: Path, paused_rebuild: subprocess.Popen[str]
) -> None:
    [left] = scratch_files(data_dir)
    assert (data_dir / left).stat().st_size > 0  # pages already written
    os.kill(paused_rebuild.pid, signal.SIGKILL)
    paused_rebuild.wait(timeout=60)
    assert scratch_files(data_dir) == [left]  # what a killed rebuild leaves

    rebuild(data_dir)

    assert scratch_files(data_dir) == []


def test_a_killed_rebuilds_scratch_file_is_removed_at_start_up(
    data_dir: Path, paused_rebuild: subprocess.Popen[str]
) -> None:
    os.kill(paused_rebuild.pid, signal.SIGKILL)
    paused_rebuild.wait(timeout=60)
    # A round-1 build's leftover too: no lock, no sidecar needed to tell.
    (data_dir / ".projections.db.rebuild-99999999-deadbeef").write_bytes(b"x" * 4096)
    (data_dir / ".projections.db.rebuild-99999999-deadbeef-wal").write_bytes(b"x")
    (data_dir / ".projections.db.rebuild-88888888-cafecafe-shm").write_bytes(b"x")  # orphan
    assert len(scratch_files(data_dir)) == 4

    with open_system(data_dir):
        pass

    assert scratch_files(data_dir) == []


def test_a_rebuild_running_in_another_process_is_left_alone_and_finishes(
    data_dir: Path, paused_rebuild: subprocess.Popen[str]
) -> None:
    [running] = scratch_files(data_dir)
    with open_system(data_dir) as system:  # start-up sweeps
        assert remove_stale(system.projections_db) == []
        expected = dump(system.projections_db)
    assert rebuild(data_dir) > 0  # another rebuild, sweeping too, meanwhile
    assert running in scratch_files(data_dir)

    out, _ = paused_rebuild.communicate("go on\n", timeout=120)

    assert paused_rebuild.returncode == 0 and int(out.split()[-1]) > 0
    assert scratch_files(data_dir) == []
    assert dump(data_dir / "projections.db") == expected


def test_a_killed_snapshots_scratch_file_is_removed_by_the_next_snapshot(
    data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "as-at.db"
    stale = tmp_path / ".as-at.db.snapshot-99999999-deadbeef"
    stale.write_bytes(b"x" * 4096)
    with scratch_file(out, "snapshot") as mine:  # this process's own build: kept
        snapshot(data_dir, out, 5)
        assert mine.exists() and not stale.exists()
    assert not mine.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".as-at")) == []
