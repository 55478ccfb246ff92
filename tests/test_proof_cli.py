"""`govledger proof inclusion | consistency | check` and `govledger audit-bundle`, end to
end on a real ledger with a published report: proofs made from the store's Merkle tree,
checked with no data directory and no database (exit 0 holds, 1 fails)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from test_integrity import rebuild_chain, tamper
from test_reports_support import PLAN, Q1, record_plan

from govledger.cli import main
from ledger import proofcheck
from ledger.store import signed_checkpoints as signed
from projections.reports import publish as pub
from projections.system import open_system


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@dataclass
class Ledger:
    data: Path
    work: Path
    old: Path  # checkpoint before the publication
    new: Path  # checkpoint after it
    vkey: Path
    publication_position: int
    report: Path  # the published file


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    work = tmp_path_factory.mktemp("proofs")
    data = work / "data"
    monkeypatch = pytest.MonkeyPatch()
    for name in ("PERSISTENCE_MODULE", "GOVLEDGER_DATA_DIR", signed.ORIGIN_ENV, signed.SIGNING_KEY_ENV):
        monkeypatch.delenv(name, raising=False)
    keys = work / "keys"
    assert (
        run("keygen", "--out-private", str(keys / "k"), "--out-public", str(keys / "k.vkey")).exit_code == 0
    )
    with open_system(data) as system:
        record_plan(system.ledger)
        assert (
            run(
                "--data-dir",
                str(data),
                "checkpoint",
                "--out",
                str(work / "old.txt"),
                "--key",
                str(keys / "k"),
            ).exit_code
            == 0
        )
        edition = pub.publish(system, PLAN, "committee", Q1, actor="pm")
        position = system.ledger.get_log_position()
    assert (
        run(
            "--data-dir", str(data), "checkpoint", "--out", str(work / "new.txt"), "--key", str(keys / "k")
        ).exit_code
        == 0
    )
    report = pub.stored_path(data, edition.content_sha256)
    yield Ledger(data, work, work / "old.txt", work / "new.txt", keys / "k.vkey", position, report)
    monkeypatch.undo()


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An auditor's machine: an empty working directory and a data directory that does not exist."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GOVLEDGER_DATA_DIR", str(tmp_path / "no-ledger-here"))
    return tmp_path


def check(proof: Path, *options: str) -> Result:
    return run("proof", "check", str(proof), *options)


def test_a_publication_proof_checks_the_report_with_no_data_directory(
    ledger: Ledger, elsewhere: Path
) -> None:
    out = ledger.work / "publication.json"
    made = run(
        "--data-dir",
        str(ledger.data),
        "proof",
        "inclusion",
        str(ledger.publication_position),
        "--checkpoint",
        str(ledger.new),
        "--out",
        str(out),
    )
    assert made.exit_code == 0, made.output
    proof = json.loads(out.read_text())
    assert proof["event"]["position"] == ledger.publication_position
    assert proof["event"]["topic"].endswith("Publication.Published")
    assert proof["content_sha256"] == ledger.report.name.removesuffix(".html")

    copy = elsewhere / "report.html"
    shutil.copyfile(ledger.report, copy)
    held = check(
        out, "--checkpoint", str(ledger.new), "--public-key", str(ledger.vkey), "--content", str(copy)
    )
    assert held.exit_code == 0, held.output
    assert "Proof holds." in held.output and proof["content_sha256"] in held.output

    copy.write_bytes(copy.read_bytes().replace(b"</body>", b"<p>added later</p></body>"))
    failed = check(out, "--checkpoint", str(ledger.new), "--content", str(copy))
    assert failed.exit_code == 1
    assert "PROOF FAILS: the report file's SHA-256" in failed.output
    assert not (elsewhere / "no-ledger-here").exists() and list(elsewhere.iterdir()) == [copy]


def test_an_inclusion_proof_fails_against_the_wrong_checkpoint_or_key(
    ledger: Ledger, elsewhere: Path
) -> None:
    out = ledger.work / "first.json"
    made = run(
        "--data-dir",
        str(ledger.data),
        "proof",
        "inclusion",
        "1",
        "--checkpoint",
        str(ledger.old),
        "--out",
        str(out),
    )
    assert made.exit_code == 0, made.output
    assert check(out, "--checkpoint", str(ledger.old)).exit_code == 0
    wrong = check(out, "--checkpoint", str(ledger.new))
    assert wrong.exit_code == 1 and "not one the proof is made against" in wrong.output
    other_key = elsewhere / "other.vkey"
    assert run("keygen", "--out-private", str(elsewhere / "o"), "--out-public", str(other_key)).exit_code == 0
    unsigned = check(out, "--checkpoint", str(ledger.old), "--public-key", str(other_key))
    assert unsigned.exit_code == 1 and "not signed by key" in unsigned.output
    edited = json.loads(out.read_text())
    edited["event"]["state"] = edited["event"]["state"].replace("Test plan", "Another plan")
    (elsewhere / "edited.json").write_text(json.dumps(edited))
    assert check(elsewhere / "edited.json", "--checkpoint", str(ledger.old)).exit_code == 1


def test_no_proof_of_an_event_after_the_checkpoint_or_without_a_store(ledger: Ledger, tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    later = run(
        "--data-dir",
        str(ledger.data),
        "proof",
        "inclusion",
        str(ledger.publication_position),
        "--checkpoint",
        str(ledger.old),
        "--out",
        str(out),
    )
    assert later.exit_code == 1 and "recorded after the checkpoint" in later.output
    missing = run(
        "--data-dir",
        str(tmp_path / "none"),
        "proof",
        "inclusion",
        "1",
        "--checkpoint",
        str(ledger.old),
        "--out",
        str(out),
    )
    assert missing.exit_code == 2 and "No event store" in missing.output
    assert not out.exists() and not (tmp_path / "none").exists()


def test_no_proof_of_an_event_altered_behind_the_trees_back(ledger: Ledger, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(ledger.data, copy)
    with tamper(copy / "events.db") as conn:
        renamed = "CAST(replace(CAST(state AS TEXT), 'Test', 'Best') AS BLOB)"
        conn.execute(f"UPDATE stored_events SET state = {renamed} WHERE rowid = 1")
    out = tmp_path / "p.json"
    refused = run(
        "--data-dir", str(copy), "proof", "inclusion", "1", "--checkpoint", str(ledger.old), "--out", str(out)
    )
    assert refused.exit_code == 1 and "not the one the Merkle tree holds" in refused.output
    assert not out.exists()


def test_consistency_holds_across_appends_and_fails_for_a_rewritten_history(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "c.json"
    made = run(
        "--data-dir",
        str(ledger.data),
        "proof",
        "consistency",
        "--old",
        str(ledger.old),
        "--new",
        str(ledger.new),
        "--out",
        str(out),
    )
    assert made.exit_code == 0, made.output
    assert check(out, "--checkpoint", str(ledger.old), "--checkpoint", str(ledger.new)).exit_code == 0
    assert check(out, "--checkpoint", str(ledger.old), "--public-key", str(ledger.vkey)).exit_code == 0

    # A copy whose history is altered, its chain and tree rebuilt as an attacker would:
    # it verifies on its own, but proves nothing against the earlier checkpoint.
    copy = tmp_path / "copy"
    shutil.copytree(ledger.data, copy)
    with tamper(copy / "events.db") as conn:
        renamed = "CAST(replace(CAST(state AS TEXT), 'Test plan', 'Best plan') AS BLOB)"
        conn.execute(f"UPDATE stored_events SET state = {renamed} WHERE rowid = 1")
        rebuild_chain(conn)
        conn.execute("DELETE FROM merkle_tree")
    assert run("--data-dir", str(copy), "merkle-backfill").exit_code == 0
    assert run("--data-dir", str(copy), "verify").exit_code == 0
    forged_cp = tmp_path / "forged.txt"
    # (under the real log's origin: event 1 changed, the derived origin would give it away)
    monkeypatch.setenv(signed.ORIGIN_ENV, proofcheck.parse_checkpoint(ledger.old.read_text()).origin)
    assert run("--data-dir", str(copy), "checkpoint", "--out", str(forged_cp)).exit_code == 0
    refused = run(
        "--data-dir",
        str(copy),
        "proof",
        "consistency",
        "--old",
        str(ledger.old),
        "--new",
        str(forged_cp),
        "--out",
        str(tmp_path / "x.json"),
    )
    assert refused.exit_code == 1 and "no longer have the checkpoint's root" in refused.output
    # Even a proof computed from the forged tree does not hold against the real checkpoint.
    forged = json.loads(out.read_text())
    forged["new_checkpoint"] = forged_cp.read_text()
    forged["consistency_path"] = consistency_path_of(copy, ledger.old, forged_cp)
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    failed = check(tmp_path / "forged.json", "--checkpoint", str(ledger.old), "--checkpoint", str(forged_cp))
    assert failed.exit_code == 1
    assert "history was rewritten" in failed.output


def consistency_path_of(data: Path, old: Path, new: Path) -> list[str]:
    import base64

    from eventsourcing.persistence import InfrastructureFactory

    from ledger.config import event_store_env
    from ledger.store.merkle import MerkleLog

    sizes = [proofcheck.parse_checkpoint(p.read_text()).size for p in (old, new)]
    factory = InfrastructureFactory.construct(event_store_env(data))
    try:
        path = MerkleLog(factory.application_recorder()).consistency_proof(*sizes)
    finally:
        factory.close()
    return [base64.b64encode(h).decode() for h in path]


def test_an_audit_bundle_checks_offline_with_python_alone(ledger: Ledger, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    made = run(
        "--data-dir",
        str(ledger.data),
        "audit-bundle",
        "--from-checkpoint",
        str(ledger.old),
        "--to-checkpoint",
        str(ledger.new),
        "--out",
        str(bundle),
        "--public-key",
        str(ledger.vkey),
    )
    assert made.exit_code == 0, made.output
    old, new = (proofcheck.parse_checkpoint(p.read_text()).size for p in (ledger.old, ledger.new))
    events = sorted(bundle.glob("events/position-*.json"))
    assert len(events) == new - old > 0
    assert {json.loads(p.read_text())["event"]["position"] for p in events} >= {ledger.publication_position}
    readme = (bundle / "README.md").read_text()
    assert "govledger proof check" in readme and "python proofcheck.py" in readme

    def offline(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-I", "proofcheck.py", *args],
            cwd=bundle,
            capture_output=True,
            text=True,
            check=False,
        )

    key = ("--public-key", "log.vkey")
    assert offline("consistency.json", "checkpoint-from.txt", "checkpoint-to.txt", *key).returncode == 0
    for proof in events:
        assert offline(str(proof.relative_to(bundle)), "checkpoint-to.txt", *key).returncode == 0
    # Another event put in the place of the bundled one fails: it is not the leaf proved.
    other = tmp_path / "other.json"
    made = run(
        "--data-dir",
        str(ledger.data),
        "proof",
        "inclusion",
        "2",
        "--checkpoint",
        str(ledger.new),
        "--out",
        str(other),
    )
    assert made.exit_code == 0, made.output
    bundled, second = json.loads(events[0].read_text()), json.loads(other.read_text())
    swapped = {**bundled, "leaf_input": second["leaf_input"], "event": second["event"]}
    (bundle / "swapped.json").write_text(json.dumps(swapped))
    failed = offline("swapped.json", "checkpoint-to.txt", *key)
    assert failed.returncode == 1 and "PROOF FAILS" in failed.stderr

    refused = run(
        "--data-dir",
        str(ledger.data),
        "audit-bundle",
        "--from-checkpoint",
        str(ledger.old),
        "--to-checkpoint",
        str(ledger.new),
        "--out",
        str(bundle),
    )
    assert refused.exit_code == 2 and "is not empty" in refused.output
