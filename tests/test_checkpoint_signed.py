"""Signed checkpoints (ledger.store.signed_checkpoints) and `govledger keygen` /
`govledger checkpoint --key` / `govledger verify --checkpoint` on a real event store.

The C2SP formats are checked by ledger.proofcheck, tested against the specification's
own example in test_proofcheck.py; here the writer must produce what it accepts.
"""

from __future__ import annotations

import base64
import json
import shutil
import stat
from pathlib import Path

import helpers_store
import pytest
from click.testing import CliRunner
from test_integrity import rebuild_chain, tamper

from govledger.cli import main
from ledger import proofcheck
from ledger.store import signed_checkpoints as signed
from ledger.store import verify
from ledger.store.merkle import backfill, merkle_log

EVENTS = 9  # 3 tallies, each Started + counted twice


@pytest.fixture(autouse=True)
def _sqlite_and_no_deployment_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PERSISTENCE_MODULE", "GOVLEDGER_DATA_DIR", signed.ORIGIN_ENV, signed.SIGNING_KEY_ENV):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "data"
    helpers_store.append_tallies(directory, ["a", "b", "c"], counts=2)
    return directory


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    private, public = tmp_path / "keys" / "log.key", tmp_path / "keys" / "log.vkey"
    result = run(
        "keygen", "--out-private", str(private), "--out-public", str(public), "--name", "example.org/ledger"
    )
    assert result.exit_code == 0, result.output
    return private, public


def run(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


def test_keygen_writes_a_0600_private_key_and_a_vkey_that_agree(keys: tuple[Path, Path]) -> None:
    private, public = keys
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    name, key_id, raw = proofcheck.parse_vkey(public.read_text())
    key = signed.load_signing_key(private)
    assert (name, key_id, raw) == (key.name, key.key_id, key.public_bytes) and name == "example.org/ledger"
    assert private.read_text().startswith(f"PRIVATE+KEY+example.org/ledger+{key_id.hex()}+")


def test_keygen_refuses_the_data_directory_and_existing_files_unless_forced(
    tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    data = tmp_path / "data"
    inside = data / "signing.key"
    result = run(
        "--data-dir", str(data), "keygen", "--out-private", str(inside), "--out-public", str(tmp_path / "p")
    )
    assert result.exit_code == 1
    assert "inside the data directory" in result.output
    assert not inside.exists() and not (tmp_path / "p").exists()

    private, public = keys
    before = private.read_text()
    result = run("keygen", "--out-private", str(private), "--out-public", str(public))
    assert result.exit_code == 1 and "Refusing to replace" in result.output
    assert private.read_text() == before

    result = run(
        "--data-dir",
        str(data),
        "keygen",
        "--out-private",
        str(inside),
        "--out-public",
        str(public),
        "--force",
    )
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(inside.stat().st_mode) == 0o600


def test_a_damaged_key_file_is_refused_by_name(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    private, _ = keys
    text = private.read_text()
    private.write_text(text.replace("example.org/ledger", "example.org/other"))
    with pytest.raises(signed.KeyFileError, match="key ID does not match"):
        signed.load_signing_key(private)


def test_a_signed_checkpoint_is_c2sp_text_whose_root_is_the_trees(
    data_dir: Path, tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    private, public = keys
    out = tmp_path / "cp.txt"
    result = run("--data-dir", str(data_dir), "checkpoint", "--out", str(out), "--key", str(private))
    assert result.exit_code == 0, result.output
    assert "signed by example.org/ledger" in result.output
    text = out.read_text()
    origin, size, root, blank, signature, end = text.split("\n")
    assert (size, blank, end) == (str(EVENTS), "", "")
    assert signature.startswith("\u2014 example.org/ledger ")
    checkpoint = proofcheck.parse_checkpoint(text)
    proofcheck.check_signature(checkpoint, public.read_text())
    # The origin is stable for the log: derived from its first event, the same next time.
    assert origin == signed.default_origin(data_dir / "events.db") and origin.startswith("governance-ledger/")
    # The root recomputed from the events is the one the store's Merkle tree gives.
    assert base64.b64decode(root) == stored_tree_root(data_dir, EVENTS)


def stored_tree_root(data_dir: Path, size: int) -> bytes:
    from eventsourcing.persistence import InfrastructureFactory

    from ledger.config import event_store_env

    factory = InfrastructureFactory.construct(event_store_env(data_dir))
    try:
        log = merkle_log(factory.application_recorder())
        assert log is not None
        return log.root(size)
    finally:
        factory.close()


def test_unsigned_by_default_and_the_origin_from_the_environment(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(signed.ORIGIN_ENV, "council.example/ledger")
    out = tmp_path / "cp.txt"
    result = run("--data-dir", str(data_dir), "checkpoint", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "unsigned" in result.output
    assert out.read_text().startswith(f"council.example/ledger\n{EVENTS}\n")
    assert proofcheck.parse_checkpoint(out.read_text()).signatures == ()


def test_the_key_from_the_environment_signs_and_json_stays_the_older_kind(
    data_dir: Path, tmp_path: Path, keys: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(signed.SIGNING_KEY_ENV, str(keys[0]))
    assert run("--data-dir", str(data_dir), "checkpoint", "--out", str(tmp_path / "cp.txt")).exit_code == 0
    proofcheck.check_signature(
        proofcheck.parse_checkpoint((tmp_path / "cp.txt").read_text()), keys[1].read_text()
    )
    result = run("--data-dir", str(data_dir), "checkpoint", "--out", str(tmp_path / "cp.json"))
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "cp.json").read_text())["events"] == EVENTS
    refused = run(
        "--data-dir", str(data_dir), "checkpoint", "--out", str(tmp_path / "x.json"), "--key", str(keys[0])
    )
    assert refused.exit_code == 2 and "cannot be signed" in refused.output


def test_verify_accepts_both_kinds_of_checkpoint(data_dir: Path, tmp_path: Path) -> None:
    for name in ("cp.txt", "cp.json"):
        assert run("--data-dir", str(data_dir), "checkpoint", "--out", str(tmp_path / name)).exit_code == 0
    helpers_store.append_tallies(data_dir, ["d"], counts=1)
    for name, says in (("cp.txt", f"checkpoint of {EVENTS} events."), ("cp.json", "Extends the checkpoint")):
        result = run("--data-dir", str(data_dir), "verify", "--checkpoint", str(tmp_path / name))
        assert result.exit_code == 0, result.output
        assert f"Intact: {EVENTS + 2} events" in result.output and says in result.output
    (tmp_path / "bad.txt").write_text("not\na checkpoint\n")
    result = run("--data-dir", str(data_dir), "verify", "--checkpoint", str(tmp_path / "bad.txt"))
    assert result.exit_code == 2 and "is not a ledger checkpoint" in result.output


def test_verify_with_a_c2sp_checkpoint_catches_what_the_chain_alone_cannot(
    data_dir: Path, tmp_path: Path
) -> None:
    """History rewritten with a fresh chain, and the tail cut off: the chain alone is
    fooled by both; the stored Merkle tree, still holding the old leaves, is not; and the
    checkpoint's Merkle root and size catch both whatever was done to the tree."""
    checkpoint = tmp_path / "cp.txt"
    assert run("--data-dir", str(data_dir), "checkpoint", "--out", str(checkpoint)).exit_code == 0
    rewritten, cut = tmp_path / "rewritten", tmp_path / "cut"
    shutil.copytree(data_dir, rewritten)
    shutil.copytree(data_dir, cut)
    with tamper(rewritten / "events.db") as conn:
        renamed = "CAST(replace(CAST(state AS TEXT), '\"a\"', '\"z\"') AS BLOB)"
        conn.execute(f"UPDATE stored_events SET state = {renamed} WHERE rowid = 1")
        rebuild_chain(conn)
    with tamper(cut / "events.db") as conn:
        conn.execute(f"DELETE FROM stored_events WHERE rowid = {EVENTS}")
        conn.execute(f"DELETE FROM event_chain WHERE position = {EVENTS}")
    for directory, words in (
        (rewritten, "Merkle root of the first 9 events differs"),
        (cut, "events were removed"),
    ):
        assert verify(directory / "events.db").ok  # the chain alone is fooled
        result = run("--data-dir", str(directory), "verify")
        assert result.exit_code == 1, result.output
        assert "the Merkle tree does not agree with the events: leaf" in result.output
        result = run("--data-dir", str(directory), "verify", "--checkpoint", str(checkpoint))
        assert result.exit_code == 1, result.output
        assert words in result.output


def test_a_tampered_log_is_not_checkpointed(data_dir: Path, tmp_path: Path) -> None:
    with helpers_store.guards_dropped(data_dir / "events.db") as conn:
        conn.execute("UPDATE stored_events SET topic = 'x' WHERE rowid = 2")
    out = tmp_path / "cp.txt"
    result = run("--data-dir", str(data_dir), "checkpoint", "--out", str(out))
    assert result.exit_code == 1 and "position 2" in result.output
    assert not out.exists()


def test_backfilled_tree_and_recomputed_root_agree(data_dir: Path) -> None:
    """The checkpoint's root (from the events) equals the stored tree's after a backfill too."""
    from eventsourcing.persistence import InfrastructureFactory

    from ledger.config import event_store_env

    with tamper(data_dir / "events.db") as conn:
        conn.execute("DELETE FROM merkle_tree")
    factory = InfrastructureFactory.construct(event_store_env(data_dir))
    try:
        backfill(factory.application_recorder())
    finally:
        factory.close()
    assert signed.log_root(data_dir / "events.db") == (EVENTS, stored_tree_root(data_dir, EVENTS))
