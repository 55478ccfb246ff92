"""`govledger verify` beyond the chain (issue 15, item 5): the stored Merkle tree, every
published report's stored bytes, every password in the credential store, and a signed
checkpoint's signature. Each is altered in a real data directory, written through the
ledger, the publisher and the account functions the app uses, and verify must name it.
"""

from __future__ import annotations

from pathlib import Path

import helpers_store
import pytest
from click.testing import CliRunner
from test_reports_support import PLAN, Q1, record_plan

from govledger.cli import main
from ledger.store.merkle import Frontier, node_id
from ledger.store.tree_check import compare_tree
from projections.reports import publish as pub
from projections.system import open_system
from web.accounts import create_account, set_password
from web.credentials import CredentialStore

PASSWORD, NEW_PASSWORD = "correct horse battery staple", "another long pass phrase"


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two editions of one report, two accounts (one reset, one deactivated)."""
    data = tmp_path_factory.mktemp("ledger")
    credentials = CredentialStore(data / "credentials.db", method="pbkdf2:sha256:1000")
    with open_system(data) as system:
        record_plan(system.ledger)
        pub.publish(system, PLAN, "committee", Q1, actor="pm")
        system.ledger.record_status(
            PLAN, "A1.1.2", period=Q1, status="Green", update="Caught up", actor="o", reason="Caught up"
        )
        pub.publish(system, PLAN, "committee", Q1, actor="pm", reason="Corrected A1")
        for username in ("ada", "bob"):
            create_account(
                system.ledger, credentials, username=username, display_name=username.title(),
                role="auditor", password=PASSWORD, actor="admin",
            )  # fmt: skip
        set_password(
            system.ledger, credentials, username="ada", password=NEW_PASSWORD, actor="helpdesk",
            reason="Forgotten",
        )  # fmt: skip
        system.ledger.deactivate_account("bob", actor="admin", reason="Left")
    return data


@pytest.fixture
def data_dir(original: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)
    copy = tmp_path / "data"
    for path in original.rglob("*"):
        if path.is_file() and "-wal" not in path.name and "-shm" not in path.name:
            target = copy / path.relative_to(original)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    return copy


def verify(data_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), "verify", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def sql(db: Path, *statements: str) -> None:
    with helpers_store.guards_dropped(db) as conn:
        for statement in statements:
            conn.execute(statement)


def publications(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "publications").glob("*.html"))


def test_an_untouched_data_directory_verifies_with_every_check_counted(data_dir: Path) -> None:
    code, out = verify(data_dir)
    assert code == 0, out
    assert "Published reports: 2 stored copies checked" in out
    assert "Credentials: 2 stored passwords checked" in out
    assert "leaves and" in out and "nodes agree with the events, root " in out
    assert "NOT INTACT" not in out


def test_a_published_report_altered_on_disk_is_named(data_dir: Path) -> None:
    first = publications(data_dir)[0]
    first.chmod(0o644)
    first.write_bytes(first.read_bytes().replace(b"</body>", b"<p>added later</p></body>"))
    code, out = verify(data_dir)
    assert code == 1
    assert "NOT INTACT: 1 disagreement(s) beside the log:" in out
    [line] = [line for line in out.splitlines() if line.startswith("- ")]
    assert "published report '" in line and f"(committee, {Q1}, edition " in line
    assert f"its stored HTML copy hashes to {pub.sha256_hex(first.read_bytes())[:16]}" in line
    assert f"not the {first.stem[:16]}... its publication event records" in line


def test_each_missing_report_is_named_by_its_edition(data_dir: Path) -> None:
    for path in publications(data_dir):
        path.unlink()
    code, out = verify(data_dir)
    assert code == 1
    assert "NOT INTACT: 2 disagreement(s)" in out
    for edition in (1, 2):
        assert f"(committee, {Q1}, edition {edition}, position " in out
    assert out.count("its stored HTML copy is missing") == 2


def test_a_password_for_an_account_the_ledger_never_opened_is_named(data_dir: Path) -> None:
    CredentialStore(data_dir / "credentials.db", method="pbkdf2:sha256:1000").set_password(
        "mallory", PASSWORD, actor="admin"
    )
    code, out = verify(data_dir)
    assert code == 1
    assert "- account 'mallory': the credential store holds a password for it, but the ledger never" in out


def test_a_password_reset_outside_the_ledger_is_named(data_dir: Path) -> None:
    """Written straight into the store, as someone with the file could: a later time, and
    (for bob, deactivated) someone the ledger never saw set it."""
    sql(
        data_dir / "credentials.db",
        "UPDATE credentials SET changed_at = '2099-01-01T00:00:00+00:00' WHERE username = 'ada'",
        "UPDATE credentials SET changed_by = 'intruder' WHERE username = 'bob'",
    )
    code, out = verify(data_dir)
    assert code == 1
    assert "- account 'ada': its password was last set at 2099-01-01T00:00:00+00:00 by helpdesk" in out
    assert "last password event for it is at" in out and "by helpdesk (position" in out
    assert "- account 'bob': its password was set by intruder, but the ledger records admin setting it" in out


def test_an_older_credential_store_put_back_after_a_reset_is_named(data_dir: Path, original: Path) -> None:
    """ada's reset is in the ledger; a store from before it is not what the ledger says."""
    sql(
        data_dir / "credentials.db",
        "UPDATE credentials SET changed_by = 'admin', changed_at = '2000-01-01T00:00:00+00:00' "
        "WHERE username = 'ada'",
    )
    code, out = verify(data_dir)
    assert code == 1
    assert "account 'ada': its password was last set at 2000-01-01T00:00:00+00:00 by admin" in out


def test_a_sign_out_recorded_for_an_unknown_account_is_named(data_dir: Path) -> None:
    CredentialStore(data_dir / "credentials.db").end_sessions("ghost")
    code, out = verify(data_dir)
    assert code == 1
    assert "account 'ghost': the credential store records sign-outs for it" in out


def test_an_altered_merkle_node_is_named_and_the_chain_still_holds(data_dir: Path) -> None:
    sql(
        data_dir / "events.db",
        f"UPDATE merkle_tree SET hash = zeroblob(32) WHERE id = {node_id(2, 1)}",
    )
    code, out = verify(data_dir)
    assert code == 1
    assert "Intact: " in out  # the chain is not what changed
    assert "Merkle tree does not agree with the events: the node over leaves 4 to 7 (level 2) is not" in out


def test_verify_writes_nothing_into_the_stores_it_checks(data_dir: Path) -> None:
    before = {p: p.read_bytes() for p in (data_dir / "credentials.db", data_dir / "events.db")}
    assert verify(data_dir)[0] == 0
    assert {p: p.read_bytes() for p in before} == before


# --- a signed checkpoint's signature -------------------------------------------------------


@pytest.fixture
def keys(data_dir: Path, tmp_path: Path) -> tuple[Path, Path, Path]:
    private, public, other = tmp_path / "k.private", tmp_path / "k.pub", tmp_path / "other"
    runner = CliRunner()
    for priv, pub_ in ((private, public), (other, tmp_path / "other.pub")):
        result = runner.invoke(main, ["keygen", "--out-private", str(priv), "--out-public", str(pub_)])
        assert result.exit_code == 0, result.output
    checkpoint = tmp_path / "cp.txt"
    result = runner.invoke(
        main, ["--data-dir", str(data_dir), "checkpoint", "--out", str(checkpoint), "--key", str(private)]
    )
    assert result.exit_code == 0, result.output
    return checkpoint, public, tmp_path / "other.pub"


def test_a_checkpoint_signed_by_the_key_verifies(data_dir: Path, keys: tuple[Path, Path, Path]) -> None:
    checkpoint, public, _ = keys
    code, out = verify(data_dir, "--checkpoint", str(checkpoint), "--public-key", str(public))
    assert code == 0, out
    assert "checkpoint of " in out and "signed by k.pub's key" in out


def test_a_checkpoint_not_signed_by_the_key_fails(data_dir: Path, keys: tuple[Path, Path, Path]) -> None:
    checkpoint, _, other = keys
    code, out = verify(data_dir, "--checkpoint", str(checkpoint), "--public-key", str(other))
    assert code == 1
    assert "fails its signature check" in out and "is not signed by key" in out


def test_a_checkpoint_edited_after_signing_fails(data_dir: Path, keys: tuple[Path, Path, Path]) -> None:
    checkpoint, public, _ = keys
    origin, size, *rest = checkpoint.read_text().split("\n")
    checkpoint.write_text("\n".join([origin, str(int(size) - 1), *rest]))
    code, out = verify(data_dir, "--checkpoint", str(checkpoint), "--public-key", str(public))
    assert code == 1
    assert "signature on the" in out and "fails" in out


@pytest.mark.parametrize("with_json", [False, True])
def test_a_public_key_needs_a_signed_checkpoint(
    data_dir: Path, keys: tuple[Path, Path, Path], tmp_path: Path, with_json: bool
) -> None:
    _, public, _ = keys
    args = ["--public-key", str(public)]
    if with_json:
        cp = tmp_path / "cp.json"
        taken = CliRunner().invoke(main, ["--data-dir", str(data_dir), "checkpoint", "--out", str(cp)])
        assert taken.exit_code == 0
        args += ["--checkpoint", str(cp)]
    code, out = verify(data_dir, *args)
    assert code == 2
    assert "--public-key" in out


# --- the tree check itself ----------------------------------------------------------------


def _tree(count: int, positions: bool = False) -> tuple[list, list]:
    """Events and their stored tree: (node id, hash, position or None), as SQLite keeps
    it, or with each leaf's position, as PostgreSQL does."""
    events = [(p, "ab" * 16, 1, "t", bytes([p])) for p in range(1, count + 1)]
    frontier, stored = Frontier(), []
    for event in events:
        for level, index, value in frontier.add_event(event):
            stored.append((node_id(level, index), value, event[0] if positions and level == 0 else None))
    return events, stored


def test_the_tree_check_passes_a_whole_tree_and_a_partial_one() -> None:
    events, stored = _tree(11)
    whole = compare_tree(events, stored)
    assert (whole.ok, whole.leaves, whole.nodes, whole.events, whole.complete) == (True, 11, 8, 11, True)
    partial = compare_tree(events, stored[: node_id(3, 0) + 1])  # a tree the backfill has not finished
    assert (partial.ok, partial.leaves, partial.nodes, partial.events) == (True, 8, 7, 11)
    assert not partial.complete
    assert partial.summary().endswith("covering 8 of 11 events (run `govledger merkle-backfill`)")


def _replaced(stored: list, number: int, row: tuple) -> list:
    return [row if n == number else (n, h, p) for n, h, p in stored]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda ns: _replaced(ns, node_id(0, 3), (node_id(0, 3), b"x" * 32, None)),
         "leaf 3 (position 4) is not the hash of the event stored there"),
        (lambda ns: _replaced(ns, node_id(0, 3), (node_id(0, 3), ns[node_id(0, 3)][1], 9)),
         "leaf 3 is stored for position 9, not 4"),
        (lambda ns: [*ns, (len(ns), b"x" * 32, None)], "leaf 11 is stored beyond the tree the events make"),
        (lambda ns: [n for n in ns if n[0] != node_id(2, 0)],
         "the node over leaves 0 to 3 (level 2) is missing"),
        (lambda ns: _replaced(ns, node_id(2, 1), (node_id(2, 1), b"x" * 32, None)),
         "the node over leaves 4 to 7 (level 2) is not the hash of those leaves"),
        (lambda ns: [*ns, (10**6, b"x" * 32, None)], "is stored beyond the tree the events make"),
        (lambda ns: [n for n in ns if n[0] != node_id(0, 5)], "leaf 5 (position 6) is missing"),
    ],
)
def test_the_tree_check_names_what_differs(change: object, words: str) -> None:
    events, stored = _tree(11, positions=True)
    result = compare_tree(events, change(stored))  # type: ignore[operator]
    assert not result.ok
    assert words in result.problem
