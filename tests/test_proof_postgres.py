"""Signed checkpoints and proofs on the PostgreSQL event store, against a real server:
positions with a gap (a rolled-back save), the checkpoint's root recomputed from the
events equal to the stored tree's, proofs made there and checked offline.

Skipped only when no PostgreSQL server binaries are installed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from test_merkle_postgres import PG_BIN, pg_database, pg_server, record_with_a_gap  # noqa: F401

from govledger.cli import main
from ledger import proofcheck
from ledger.application import Ledger
from ledger.config import event_store_env
from ledger.store import event_store
from ledger.store import signed_checkpoints as signed
from ledger.store.merkle import MerkleLog

pytestmark = pytest.mark.skipif(PG_BIN is None, reason="PostgreSQL server binaries not installed")


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def gapped(pg_database: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ledger]:  # noqa: F811
    for name in (signed.ORIGIN_ENV, signed.SIGNING_KEY_ENV):
        monkeypatch.delenv(name, raising=False)
    app = Ledger(env=event_store_env())
    try:
        record_with_a_gap(app)
        yield app
    finally:
        app.close()


def test_checkpoint_proofs_and_verify_on_postgres(gapped: Ledger, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    assert (
        run("keygen", "--out-private", str(keys / "k"), "--out-public", str(keys / "k.vkey")).exit_code == 0
    )
    old = tmp_path / "old.txt"
    made = run(
        "--data-dir", str(tmp_path / "unused"), "checkpoint", "--out", str(old), "--key", str(keys / "k")
    )
    assert made.exit_code == 0, made.output
    log = MerkleLog(gapped.recorder)
    size = log.size()
    checkpoint = proofcheck.parse_checkpoint(old.read_text())
    assert (checkpoint.size, checkpoint.root) == (size, log.root())
    assert signed.log_root(event_store()) == (size, log.root())

    last = gapped.get_log_position()
    gapped.record_status(
        "plan", "A1", period="2024/25 Q2", status="Amber", update="Slipped", actor="pm", mitigation="In hand"
    )
    new = tmp_path / "new.txt"
    assert run("checkpoint", "--out", str(new), "--key", str(keys / "k")).exit_code == 0
    assert run("verify", "--checkpoint", str(old)).exit_code == 0

    proof, consistency = tmp_path / "p.json", tmp_path / "c.json"
    made = run("proof", "inclusion", str(last), "--checkpoint", str(new), "--out", str(proof))
    assert made.exit_code == 0, made.output
    assert json.loads(proof.read_text())["event"]["position"] == last
    assert json.loads(proof.read_text())["index"] == size - 1  # dense index over gapped positions
    assert (
        run("proof", "consistency", "--old", str(old), "--new", str(new), "--out", str(consistency)).exit_code
        == 0
    )
    for path, trusted in ((proof, [new]), (consistency, [old])):
        options = [arg for cp in trusted for arg in ("--checkpoint", str(cp))]
        held = run("proof", "check", str(path), *options, "--public-key", str(keys / "k.vkey"))
        assert held.exit_code == 0, held.output
    assert not (tmp_path / "unused").exists()
