"""`govledger backup` and `govledger restore` (issue 16, item 4) on SQLite.

The backup is taken while another process keeps recording commands through the real
Ledger. Restored into a fresh directory, `govledger verify` must give exactly the
manifest's count and head, the restored events must be the live log's first events, the
projections must equal a replay of the live log to that position, and every published
report must still be exactly its bytes. Damaged backups and occupied data directories
are refused with nothing written.
"""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helpers_store
import pytest
from click.testing import CliRunner, Result
from test_projections_support import data_tables, dump
from test_reports_support import PLAN, Q1, record_plan

from govledger import backup as backup_module
from govledger.cli import main
from ledger.application import open_ledger
from projections.reports import publish as pub
from projections.system import open_system, snapshot
from web import config as web_config
from web.credentials import CredentialStore

BUSY = "busy"  # the programme the background writer keeps rating
PASSWORD = "correct horse battery staple"


def govledger(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--data-dir", str(data_dir), *args])


def keep_writing(data_dir: str, started: Any, stop: Any, written: Any) -> None:
    """Register and rate items through the real Ledger until told to stop."""
    ledger = open_ledger(data_dir)
    try:
        n = 0
        while not stop.is_set():
            n += 1
            ledger.register_item(BUSY, f"W{n}", kind="action", title=f"Work {n}", actor="officer")
            ledger.record_status(
                BUSY, f"W{n}", period=Q1, status="Green", update=f"Update {n}", actor="officer"
            )
            written.value = n
            if n == 20:
                started.set()
    finally:
        ledger.close()


class Writer:
    """A separate process writing commands while the test runs."""

    def __init__(self, data_dir: Path) -> None:
        context = multiprocessing.get_context("spawn")
        self.started, self.stop, self.written = context.Event(), context.Event(), context.Value("i", 0)
        self.process = context.Process(
            target=keep_writing, args=(str(data_dir), self.started, self.stop, self.written)
        )

    def __enter__(self) -> Writer:
        self.process.start()
        assert self.started.wait(timeout=60), "the writer never started writing"
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.process.join(timeout=60)
        assert self.process.exitcode == 0


def live_data_dir(root: Path) -> Path:
    """A data directory with a published report, a password and a secret key."""
    data = root / "live"
    with open_system(data) as system:
        record_plan(system.ledger)
        system.ledger.register_programme(BUSY, "Busy programme", cadence="quarterly", actor="pm")
        pub.publish(system, PLAN, "committee", Q1, actor="pm")
        pub.publish(system, PLAN, "highlight", Q1, actor="pm")
        # Through the ledger, as the app does: verify checks the credential against it.
        system.ledger.open_account("admin", display_name="Admin", role="administrator", actor="setup")
    CredentialStore(data / web_config.CREDENTIALS_DB).set_password("admin", PASSWORD, actor="setup")
    web_config.load_or_create_secret(data)
    return data


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)
    return live_data_dir(tmp_path)


@pytest.fixture
def backed_up(live: Path, tmp_path: Path) -> Iterator[Path]:
    out = tmp_path / "backup"
    result = govledger(live, "backup", str(out))
    assert result.exit_code == 0, result.output
    yield out


def modes(directory: Path) -> dict[str, int]:
    return {str(p.relative_to(directory)): stat.S_IMODE(p.stat().st_mode) for p in directory.rglob("*")}


def events(db: Path, up_to: int) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute(
            "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
            "WHERE rowid <= ? ORDER BY rowid",
            (up_to,),
        ).fetchall()


def test_a_backup_taken_while_writes_continue_restores_to_exactly_its_manifest(
    live: Path, tmp_path: Path
) -> None:
    out, restored = tmp_path / "backup", tmp_path / "restored"
    with Writer(live) as writer:
        result = govledger(live, "backup", str(out))
        assert result.exit_code == 0, result.output
        at_backup = writer.written.value
    final = open_ledger(live)
    try:
        final_position = final.get_log_position()
    finally:
        final.close()

    manifest = json.loads((out / "manifest.json").read_text())
    assert 40 <= manifest["events"] < final_position  # mid-stream: writes went on after it
    assert at_backup >= 20
    assert set(manifest["files"]) == {
        "events.db", "credentials.db", "secret_key",
        *(f"publications/{p.name}" for p in (live / "publications").iterdir()),
    }  # fmt: skip
    assert "projections.db" not in manifest["files"]
    # Owner-only: the backup holds password hashes.
    assert set(modes(out).values()) <= {0o600, 0o700}

    result = govledger(restored, "restore", str(out))
    assert result.exit_code == 0, result.output
    result = govledger(restored, "verify")
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == f"Intact: {manifest['events']} events, head {manifest['head']}"
    assert events(restored / "events.db", final_position) == events(live / "events.db", manifest["events"])
    assert {name: mode for name, mode in modes(restored).items() if mode not in {0o400, 0o600, 0o700}} == {}

    # The read model equals a replay of the live log to the backup's position.
    replay = snapshot(live, tmp_path / "as-at.db", str(manifest["events"]))
    assert data_tables(dump(restored / "projections.db")) == data_tables(dump(replay.path))

    # Every publication: stored bytes hash to their name, and the report still renders
    # from the restored log to exactly those bytes.
    stored = sorted((restored / "publications").iterdir())
    # Each report's HTML and Word paper, and one CSV: both reports hold the same items.
    assert sorted(path.suffix for path in stored) == [".csv", ".docx", ".docx", ".html", ".html"]
    for path in stored:
        assert pub.sha256_hex(path.read_bytes()) == path.stem
        assert path.read_bytes() == (live / "publications" / path.name).read_bytes()
    with open_system(restored) as system:
        for kind in ("committee", "highlight"):
            copy = pub.fetch_published(system, PLAN, kind, Q1)
            assert copy.source == "stored" and copy.stored_file_ok
            assert pub.rebuild(system, copy.edition) == copy.content
            assert pub.sha256_hex(copy.content) == copy.edition.content_sha256
            for fmt in ("csv", "docx"):
                assert pub.fetch_document(system, copy.edition, fmt).source == "stored"

    assert CredentialStore(restored / web_config.CREDENTIALS_DB).verify("admin", PASSWORD)
    assert (restored / "secret_key").read_bytes() == (live / "secret_key").read_bytes()


def test_restore_refuses_a_data_directory_that_is_not_empty_unless_forced(
    backed_up: Path, live: Path, tmp_path: Path
) -> None:
    target = tmp_path / "occupied"
    target.mkdir()
    (target / "events.db").write_bytes(b"someone's ledger")

    result = govledger(target, "restore", str(backed_up))
    assert result.exit_code == 1
    assert f"{target} is not empty (it holds events.db)" in result.output and "--force" in result.output
    assert [p.name for p in target.iterdir()] == ["events.db"]
    assert (target / "events.db").read_bytes() == b"someone's ledger"

    result = govledger(target, "restore", "--force", str(backed_up))
    assert result.exit_code == 0, result.output
    [aside] = tmp_path.glob("occupied.before-restore-*")
    assert f"moved to {aside}" in result.output
    assert (aside / "events.db").read_bytes() == b"someone's ledger"  # moved, never deleted
    assert govledger(target, "verify").exit_code == 0


def test_a_tampered_or_incomplete_backup_is_refused_and_nothing_is_written(
    backed_up: Path, tmp_path: Path
) -> None:
    [publication] = sorted((backed_up / "publications").glob("*.html"))[:1]
    publication.write_bytes(publication.read_bytes().replace(b"Green", b"Amber", 1))
    (backed_up / "credentials.db").unlink()
    target = tmp_path / "restored"

    result = govledger(target, "restore", str(backed_up))

    assert result.exit_code == 1
    assert "damaged; nothing was restored" in result.output
    assert f"publications/{publication.name} has been altered" in result.output
    assert "credentials.db is missing" in result.output
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if "restoring" in p.name] == []


def test_an_altered_log_with_a_recomputed_manifest_fails_the_head_check(
    backed_up: Path, tmp_path: Path
) -> None:
    db = backed_up / "events.db"
    db.chmod(0o600)
    with helpers_store.guards_dropped(db) as conn:  # as someone with the file could
        conn.execute("UPDATE stored_events SET state = replace(state, 'Green', 'Amber')")
    manifest = json.loads((backed_up / "manifest.json").read_text())
    manifest["files"]["events.db"] = pub.sha256_hex(db.read_bytes())
    (backed_up / "manifest.json").write_text(json.dumps(manifest))
    target = tmp_path / "restored"

    result = govledger(target, "restore", str(backed_up))

    assert result.exit_code == 1
    assert "does not match the backup's manifest" in result.output
    assert not target.exists()


def test_a_manifest_naming_files_outside_the_backup_is_refused(backed_up: Path, tmp_path: Path) -> None:
    manifest = json.loads((backed_up / "manifest.json").read_text())
    manifest["files"]["../../etc/cron.d/x"] = "0" * 64
    (backed_up / "manifest.json").write_text(json.dumps(manifest))

    result = govledger(tmp_path / "restored", "restore", str(backed_up))

    assert result.exit_code == 1
    assert "lists files a backup never holds: ../../etc/cron.d/x" in result.output
    assert not (tmp_path / "restored").exists()


def test_backup_refuses_an_occupied_target_or_a_missing_ledger(live: Path, tmp_path: Path) -> None:
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("keep me")
    result = govledger(live, "backup", str(occupied))
    assert result.exit_code == 1 and "already exists and is not empty" in result.output
    assert [p.name for p in occupied.iterdir()] == ["notes.txt"]

    result = govledger(tmp_path / "nothing-here", "backup", str(tmp_path / "out"))
    assert result.exit_code == 1 and "No event store at" in result.output
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


def test_backup_names_the_files_the_web_app_keeps() -> None:
    assert backup_module.CREDENTIALS_DB == web_config.CREDENTIALS_DB
    assert backup_module.SECRET_KEY_FILE == web_config.SECRET_KEY_FILE
    assert backup_module.PUBLICATIONS_DIR == pub.PUBLICATIONS_DIR
