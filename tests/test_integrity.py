"""Verification of the hash chain and checkpoints, through the library API and the
`govledger verify` / `govledger checkpoint` commands.

Tampering is done with raw sqlite3 after dropping the append-only triggers, as anyone
with write access to the file could."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from govledger.cli import main
from ledger.store import (
    GENESIS_HEAD,
    ChainBroken,
    Checkpoint,
    chain_link,
    verification,
    verify,
    write_checkpoint,
)
from ledger.store.sqlite import open_read_only

if __package__:  # tests/ may or may not become a package; the helper works either way
    from . import helpers_store
else:
    import helpers_store

EVENTS = 12  # 4 tallies, each Started + counted twice


@pytest.fixture(autouse=True)
def _sqlite_event_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)
    monkeypatch.delenv("GOVLEDGER_DATA_DIR", raising=False)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "data"
    helpers_store.append_tallies(directory, ["a", "b"], counts=2)
    helpers_store.append_tallies(directory, ["c", "d"], counts=2, batched=True)
    return directory


@pytest.fixture
def db(data_dir: Path) -> Path:
    return helpers_store.events_db(data_dir)


tamper = helpers_store.guards_dropped


def event_row(conn: sqlite3.Connection, position: int) -> tuple[str, int, str, bytes]:
    return conn.execute(
        "SELECT originator_id, originator_version, topic, state FROM stored_events WHERE rowid = ?",
        (position,),
    ).fetchone()


def rebuild_chain(conn: sqlite3.Connection) -> None:
    """What an attacker who knows the algorithm does after editing history."""
    conn.execute("DELETE FROM event_chain")
    head = GENESIS_HEAD
    rows = conn.execute(
        "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
    ).fetchall()
    for position, *fields in rows:
        leaf, head = chain_link(head, position, *fields)
        conn.execute("INSERT INTO event_chain VALUES (?,?,?)", (position, leaf, head))


def last_head(db: Path) -> str:
    with closing(sqlite3.connect(db)) as conn:
        row = conn.execute("SELECT head FROM event_chain ORDER BY position DESC LIMIT 1")
        return row.fetchone()[0].hex()


def assert_bad_at(db: Path, position: int, words: str) -> verification.VerifyResult:
    result = verify(db)
    assert not result.ok
    assert result.first_bad_position == position, result.problem
    assert words in result.problem
    assert result.events == min(position, EVENTS + 1) - 1
    return result


# --- An untouched log -----------------------------------------------------------------


def test_an_untouched_log_verifies_with_its_length_and_last_head(db: Path) -> None:
    result = verify(db)
    assert result == verification.VerifyResult(True, EVENTS, last_head(db), None, "")


def test_an_empty_store_verifies_with_the_genesis_head(tmp_path: Path) -> None:
    helpers_store.make_app(tmp_path).close()
    result = verify(helpers_store.events_db(tmp_path))
    assert (result.ok, result.events, result.head_hex) == (True, 0, GENESIS_HEAD.hex())


def test_verification_reads_in_pages_and_reports_progress(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verification, "PAGE_SIZE", 5)
    reports: list[tuple[int, int]] = []
    result = verify(db, progress=lambda done, total: reports.append((done, total)))
    assert result.ok
    assert reports == [(5, EVENTS), (10, EVENTS), (12, EVENTS)]


def test_verification_opens_the_database_read_only(db: Path) -> None:
    before = db.read_bytes()
    with (
        closing(open_read_only(db)) as conn,
        pytest.raises(sqlite3.OperationalError, match="readonly"),
    ):
        conn.execute("DELETE FROM event_chain")
    verify(db)
    assert db.read_bytes() == before


def test_a_missing_database_is_an_error_not_an_empty_log(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        verify(tmp_path / "events.db")
    assert not (tmp_path / "events.db").exists()


def test_a_store_written_without_the_chain_is_reported(tmp_path: Path) -> None:
    recorder = SQLiteApplicationRecorder(SQLiteDatastore(str(tmp_path / "plain.db")))
    recorder.create_table()
    result = verify(tmp_path / "plain.db")
    assert not result.ok
    assert "no event_chain table" in result.problem


# --- Tampering the chain alone reveals ------------------------------------------------


def test_one_flipped_byte_in_an_events_state_is_found_at_its_position(db: Path) -> None:
    with tamper(db) as conn:
        state = bytearray(event_row(conn, 5)[3])
        state[len(state) // 2] ^= 0x01
        conn.execute("UPDATE stored_events SET state = ? WHERE rowid = 5", (bytes(state),))
    assert_bad_at(db, 5, "is not the event that was recorded")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("originator_id", "0" * 32),
        ("originator_version", 99),
        ("topic", "ledger.domain:Forged"),
    ],
)
def test_a_changed_id_version_or_topic_is_found(db: Path, column: str, value: object) -> None:
    with tamper(db) as conn:
        conn.execute(f"UPDATE stored_events SET {column} = ? WHERE rowid = 7", (value,))
    assert_bad_at(db, 7, "is not the event that was recorded")


def test_a_state_retyped_as_text_is_found(db: Path) -> None:
    with tamper(db) as conn:
        conn.execute("UPDATE stored_events SET state = CAST(state AS TEXT) WHERE rowid = 3")
    assert_bad_at(db, 3, "wrong type")


def test_a_deleted_event_is_found_where_it_was(db: Path) -> None:
    with tamper(db) as conn:
        conn.execute("DELETE FROM stored_events WHERE rowid = 4")
    assert_bad_at(db, 4, "no event at position 4")


def test_a_deleted_event_and_its_chain_row_are_found_where_they_were(db: Path) -> None:
    with tamper(db) as conn:
        conn.execute("DELETE FROM stored_events WHERE rowid = 4")
        conn.execute("DELETE FROM event_chain WHERE position = 4")
    assert_bad_at(db, 4, "an event was deleted")


def test_the_last_event_deleted_without_its_chain_row_is_found(db: Path) -> None:
    with tamper(db) as conn:
        conn.execute(f"DELETE FROM stored_events WHERE rowid = {EVENTS}")
    assert_bad_at(db, EVENTS, f"a row at position {EVENTS} but there is no such event")


def test_two_swapped_events_are_found_at_the_first(db: Path) -> None:
    with tamper(db) as conn:
        three, eight = event_row(conn, 3), event_row(conn, 8)
        # (originator_id, originator_version) is unique, so park one row first.
        conn.execute("UPDATE stored_events SET originator_id = 'parked' WHERE rowid = 3")
        update = (
            "UPDATE stored_events SET originator_id = ?, originator_version = ?, "
            "topic = ?, state = ? WHERE rowid = ?"
        )
        conn.execute(update, (*three, 8))
        conn.execute(update, (*eight, 3))
        assert event_row(conn, 3) == eight
    assert_bad_at(db, 3, "its content or position was altered")


def test_a_forged_event_appended_without_a_chain_row_is_found(db: Path) -> None:
    with tamper(db) as conn:
        forged = ("f" * 32, 1, "ledger.domain:Forged", b"{}")
        conn.execute("INSERT INTO stored_events VALUES (?,?,?,?)", forged)
    assert_bad_at(db, EVENTS + 1, "has no chain row")


def test_a_forged_event_given_the_deleted_events_position_is_found(db: Path) -> None:
    with tamper(db) as conn:
        conn.execute("DELETE FROM stored_events WHERE rowid = 6")
        forged = (6, "f" * 32, 1, "ledger.domain:Forged", b"{}")
        conn.execute(
            "INSERT INTO stored_events (rowid, originator_id, originator_version, "
            "topic, state) VALUES (?,?,?,?,?)",
            forged,
        )
    assert_bad_at(db, 6, "is not the event that was recorded")


def test_an_edited_chain_head_is_found(db: Path) -> None:
    with tamper(db) as conn:
        conn.execute("UPDATE event_chain SET head = ? WHERE position = 9", (bytes(32),))
    assert_bad_at(db, 9, "does not follow from the chain before it")


# --- Checkpoints ----------------------------------------------------------------------


def test_a_checkpoint_records_length_head_time_and_database(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "checkpoints" / "q1.json"
    written = write_checkpoint(db, out)
    data = json.loads(out.read_text())
    assert data == {
        "events": EVENTS,
        "head": last_head(db),
        "taken_at": written.taken_at,
        "database": str(db.resolve()),
    }
    assert datetime.fromisoformat(data["taken_at"]).utcoffset().total_seconds() == 0
    assert Checkpoint.load(out) == written


def test_an_earlier_checkpoint_still_verifies_after_more_events(
    data_dir: Path, db: Path, tmp_path: Path
) -> None:
    checkpoint = write_checkpoint(db, tmp_path / "cp.json")
    helpers_store.append_tallies(data_dir, ["e"], counts=3)
    for given in (checkpoint, tmp_path / "cp.json", str(tmp_path / "cp.json")):
        result = verify(db, checkpoint=given)
        assert (result.ok, result.events) == (True, EVENTS + 4)


def test_a_checkpoint_exposes_history_rewritten_with_a_fresh_chain(db: Path, tmp_path: Path) -> None:
    write_checkpoint(db, tmp_path / "cp.json")
    with tamper(db) as conn:
        conn.execute("UPDATE stored_events SET topic = 'ledger.domain:Forged' WHERE rowid = 2")
        rebuild_chain(conn)
    assert verify(db).ok  # the chain alone cannot tell...
    result = verify(db, checkpoint=tmp_path / "cp.json")  # ...the checkpoint can
    assert (result.ok, result.first_bad_position) == (False, EVENTS)
    assert "differs from the checkpoint" in result.problem


def test_a_checkpoint_exposes_events_cut_off_the_end(db: Path, tmp_path: Path) -> None:
    write_checkpoint(db, tmp_path / "cp.json")
    with tamper(db) as conn:
        conn.execute(f"DELETE FROM stored_events WHERE rowid > {EVENTS - 2}")
        conn.execute(f"DELETE FROM event_chain WHERE position > {EVENTS - 2}")
    assert verify(db).ok
    result = verify(db, checkpoint=tmp_path / "cp.json")
    assert (result.ok, result.first_bad_position) == (False, EVENTS - 1)
    assert "removed from the end" in result.problem


def test_no_checkpoint_is_written_for_a_tampered_log(db: Path, tmp_path: Path) -> None:
    with tamper(db) as conn:
        conn.execute("DELETE FROM stored_events WHERE rowid = 2")
    with pytest.raises(ChainBroken, match="position 2"):
        write_checkpoint(db, tmp_path / "cp.json")
    assert not (tmp_path / "cp.json").exists()


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        '{"events": 3}',
        '{"events": 3, "head": "abc"}',
        '{"events": -1, "head": "' + "0" * 64 + '"}',
    ],
)
def test_a_malformed_checkpoint_is_rejected(tmp_path: Path, content: str) -> None:
    (tmp_path / "cp.json").write_text(content)
    with pytest.raises(ValueError, match="is not a ledger checkpoint"):
        Checkpoint.load(tmp_path / "cp.json")


# --- The commands ---------------------------------------------------------------------


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_verify_prints_intact_and_exits_0(data_dir: Path, db: Path) -> None:
    code, out, _ = run("--data-dir", str(data_dir), "verify")
    assert code == 0
    assert out.startswith(f"Intact: {EVENTS} events, head {last_head(db)}\n")


def test_the_data_dir_can_come_from_the_environment(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVLEDGER_DATA_DIR", str(data_dir))
    code, out, _ = run("verify")
    assert code == 0
    assert out.startswith(f"Intact: {EVENTS} events")


def test_verify_names_the_first_bad_position_and_exits_1(data_dir: Path, db: Path) -> None:
    with tamper(db) as conn:
        conn.execute("UPDATE stored_events SET topic = 'x' WHERE rowid = 5")
    code, out, _ = run("--data-dir", str(data_dir), "verify")
    assert code == 1
    assert "first bad position 5" in out
    assert "is not the event that was recorded" in out


def test_verify_without_an_event_store_exits_2_without_a_traceback(tmp_path: Path) -> None:
    code, out, err = run("--data-dir", str(tmp_path / "nowhere"), "verify")
    assert code == 2
    assert out == ""
    assert f"No event store at {tmp_path / 'nowhere' / 'events.db'}" in err
    assert "Traceback" not in err
    assert not (tmp_path / "nowhere").exists()


def test_checkpoint_then_verify_against_it(data_dir: Path, db: Path, tmp_path: Path) -> None:
    cp = tmp_path / "cp.json"
    code, out, _ = run("--data-dir", str(data_dir), "checkpoint", "--out", str(cp))
    assert code == 0
    assert f"{EVENTS} events" in out
    assert json.loads(cp.read_text())["events"] == EVENTS

    code, out, _ = run("--data-dir", str(data_dir), "verify", "--checkpoint", str(cp))
    assert code == 0
    assert "Extends the checkpoint" in out

    with tamper(db) as conn:
        conn.execute("UPDATE stored_events SET topic = 'x' WHERE rowid = 1")
        rebuild_chain(conn)
    code, out, _ = run("--data-dir", str(data_dir), "verify", "--checkpoint", str(cp))
    assert code == 1
    assert f"first bad position {EVENTS}" in out


def test_checkpoint_of_a_tampered_log_exits_1_and_writes_nothing(
    data_dir: Path, db: Path, tmp_path: Path
) -> None:
    with tamper(db) as conn:
        conn.execute("DELETE FROM event_chain WHERE position = 3")
    code, _, err = run("--data-dir", str(data_dir), "checkpoint", "--out", str(tmp_path / "c"))
    assert code == 1
    assert "Not checkpointing: position 3" in err
    assert not (tmp_path / "c").exists()


def test_checkpoint_without_an_event_store_exits_2(tmp_path: Path) -> None:
    code, _, err = run("--data-dir", str(tmp_path), "checkpoint", "--out", str(tmp_path / "c"))
    assert code == 2
    assert "No event store" in err


def test_verify_with_a_malformed_checkpoint_is_a_usage_error(data_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "cp.json").write_text("{}")
    code, _, err = run("--data-dir", str(data_dir), "verify", "--checkpoint", str(tmp_path / "cp.json"))
    assert code == 2
    assert "is not a ledger checkpoint" in err
