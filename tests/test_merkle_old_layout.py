"""A log written while the SQLite tree was two tables (merkle_leaves, merkle_nodes) is
migrated by `govledger merkle-backfill`: until then `verify` says the tree is in the
earlier layout and what to run, and proofs are refused naming the command; after it,
the rebuilt tree has the root the old version signed, so the old checkpoint still
verifies and a later log is proved consistent with it. The fixture was written by the
earlier writer itself (tests/fixtures/merkle_two_tables/README.md)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from govledger.cli import main
from ledger import proofcheck
from ledger.application import open_ledger
from ledger.store import signed_checkpoints as signed

FIXTURE = Path(__file__).parent / "fixtures" / "merkle_two_tables"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("PERSISTENCE_MODULE", "GOVLEDGER_DATA_DIR", signed.ORIGIN_ENV, signed.SIGNING_KEY_ENV):
        monkeypatch.delenv(name, raising=False)
    copy = tmp_path / "data"
    copy.mkdir()
    shutil.copyfile(FIXTURE / "events.db", copy / "events.db")
    return copy


def tables(events_db: Path) -> set[str]:
    with sqlite3.connect(events_db) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_the_fixture_is_the_earlier_layout(data: Path) -> None:
    assert {"merkle_leaves", "merkle_nodes"} <= tables(data / "events.db")
    assert "merkle_tree" not in tables(data / "events.db")


def test_verify_says_the_tree_is_in_the_earlier_layout_and_what_to_run(data: Path) -> None:
    result = run("--data-dir", str(data), "verify")
    assert result.exit_code == 0, result.output  # the chain holds: not a finding
    assert "Intact: 20 events" in result.output
    assert "earlier layout (merkle_leaves, merkle_nodes)" in result.output
    assert "run `govledger merkle-backfill`" in result.output
    old = FIXTURE / "checkpoint.txt"
    out = str(data.parent / "p.json")
    refused = run("--data-dir", str(data), "proof", "inclusion", "3", "--checkpoint", str(old), "--out", out)
    assert refused.exit_code != 0 and "govledger merkle-backfill" in refused.output


def test_backfill_rebuilds_the_tree_the_old_version_signed(data: Path, tmp_path: Path) -> None:
    old = FIXTURE / "checkpoint.txt"
    vkey = FIXTURE / "log.vkey"
    # The current version records on the old file before the migration: the tree waits.
    ledger = open_ledger(data)
    try:
        ledger.register_programme("later", "Later", cadence="monthly", actor="pm")
    finally:
        ledger.close()
    said = run("--data-dir", str(data), "verify")
    assert said.exit_code == 0 and "earlier layout" in said.output

    migrated = run("--data-dir", str(data), "merkle-backfill")
    assert migrated.exit_code == 0, migrated.output
    assert "Merkle tree complete: 21 events" in migrated.output

    checked = run("--data-dir", str(data), "verify", "--checkpoint", str(old), "--public-key", str(vkey))
    assert checked.exit_code == 0, checked.output
    assert "21 leaves" in checked.output and "earlier layout" not in checked.output

    new = tmp_path / "new.txt"
    assert run("--data-dir", str(data), "checkpoint", "--out", str(new)).exit_code == 0
    proof = tmp_path / "consistency.json"
    made = run(
        "--data-dir", str(data), "proof", "consistency",
        "--old", str(old), "--new", str(new), "--out", str(proof),
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    # (the old checkpoint's signature held in `verify --public-key` above; the new one is unsigned)
    held = run("proof", "check", str(proof), "--checkpoint", str(old), "--checkpoint", str(new))
    assert held.exit_code == 0, held.output
    assert proofcheck.parse_checkpoint(new.read_text()).size == 21
