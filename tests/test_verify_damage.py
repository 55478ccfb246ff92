"""`govledger verify` on a damaged SQLite event store (issue 9, finding 6).

Damage found is exit status 1 naming the first position that could not be checked;
exit status 2 is only for a store that cannot be reached. Each test damages a copy of
a real log written through the hash-chained recorder, one transaction per event (so
the events' and the chain's b-tree pages interleave through the file as they do in use),
and runs the real command line.
"""

from __future__ import annotations

import os
import sqlite3
import struct
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner

from govledger.cli import main
from ledger.store import verify

if __package__:  # tests/ may or may not become a package; the helper works either way
    from . import helpers_store
else:
    import helpers_store

TALLIES, COUNTS = 30, 9
EVENTS = TALLIES * (COUNTS + 1)


@pytest.fixture(autouse=True)
def _sqlite_event_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)
    monkeypatch.delenv("GOVLEDGER_DATA_DIR", raising=False)


@pytest.fixture(scope="module")
def log_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real, intact log of EVENTS events, closed (so nothing is left in a WAL file)."""
    data_dir = tmp_path_factory.mktemp("log")
    helpers_store.append_tallies(data_dir, [f"t{i}" for i in range(TALLIES)], counts=COUNTS)
    db = helpers_store.events_db(data_dir)
    assert not db.with_name("events.db-wal").exists()
    assert verify(db).events == EVENTS
    return db.read_bytes()


@pytest.fixture
def data_dir(tmp_path: Path, log_bytes: bytes) -> Path:
    (tmp_path / "events.db").write_bytes(log_bytes)
    return tmp_path


def run_verify(data_dir: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), "verify"])
    return result.exit_code, result.stdout, result.stderr


def assert_damage_named(data_dir: Path, position: int, words: str) -> str:
    code, out, err = run_verify(data_dir)
    assert (code, err) == (1, ""), out + err
    assert f"NOT INTACT: first bad position {position}\n" in out
    assert words in out
    assert f"The {position - 1} events before it verify" in out
    assert "Traceback" not in out
    return out


# --- Reading the file's b-trees, to damage exactly one page ------------------------------


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = 0
    for k in range(9):
        byte = data[i + k]
        if k == 8:
            return (value << 8) | byte, i + 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, i + k + 1
    raise AssertionError("unreachable")


def leaf_pages(data: bytes, table: str) -> list[tuple[int, int]]:
    """(page number, first rowid) of each leaf page of a table's b-tree, in rowid order
    (SQLite's file format, section 1.6: b-tree pages)."""
    page_size = struct.unpack(">H", data[16:18])[0]
    with closing(sqlite3.connect(":memory:")) as conn:
        conn.deserialize(data[:18] + b"\x01\x01" + data[20:])  # in memory: not WAL mode
        (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()

    def walk(page: int) -> list[tuple[int, int]]:
        start = (page - 1) * page_size
        header = start + (100 if page == 1 else 0)
        cells = struct.unpack(">H", data[header + 3 : header + 5])[0]
        if data[header] == 0x0D:  # a table leaf: its first cell is (payload size, rowid, ...)
            first_cell = struct.unpack(">H", data[header + 8 : header + 10])[0]
            _, i = _varint(data, start + first_cell)
            return [(page, _varint(data, i)[0])]
        assert data[header] == 0x05, "a table interior page"
        children = []
        for n in range(cells):
            cell = struct.unpack(">H", data[header + 12 + 2 * n : header + 14 + 2 * n])[0]
            children.append(struct.unpack(">I", data[start + cell : start + cell + 4])[0])
        children.append(struct.unpack(">I", data[header + 8 : header + 12])[0])  # right-most
        return [leaf for child in children for leaf in walk(child)]

    return walk(root)


# --- Damage is exit 1, naming the position ----------------------------------------------


def test_a_topic_byte_made_invalid_utf8_is_found_at_its_position(data_dir: Path) -> None:
    db = data_dir / "events.db"
    with closing(sqlite3.connect(db)) as conn:
        (topic,) = conn.execute("SELECT topic FROM stored_events WHERE rowid = 7").fetchone()
        damaged = bytearray(topic.encode())
        damaged[len(damaged) // 2] = 0xFF
        conn.execute("DROP TRIGGER stored_events_no_update")
        with conn:
            conn.execute(
                "UPDATE stored_events SET topic = CAST(? AS TEXT) WHERE rowid = 7", (bytes(damaged),)
            )
    assert_damage_named(data_dir, 7, "the event at position 7 has text that is not valid UTF-8")


def test_a_damaged_btree_page_in_the_middle_is_found_at_its_first_position(
    data_dir: Path, log_bytes: bytes
) -> None:
    leaves = leaf_pages(log_bytes, "stored_events")
    page, first_position = leaves[len(leaves) // 2]
    assert 1 < first_position < EVENTS
    page_size = struct.unpack(">H", log_bytes[16:18])[0]
    damaged = bytearray(log_bytes)
    damaged[(page - 1) * page_size : page * page_size] = b"\xff" * page_size
    (data_dir / "events.db").write_bytes(bytes(damaged))
    assert_damage_named(data_dir, first_position, f"database page damaged near position {first_position}")


def test_a_file_cut_short_mid_page_is_found_at_the_first_position_it_lost(
    data_dir: Path, log_bytes: bytes
) -> None:
    page_size = struct.unpack(">H", log_bytes[16:18])[0]
    kept_pages = len(log_bytes) // page_size // 2
    (data_dir / "events.db").write_bytes(log_bytes[: kept_pages * page_size + page_size // 2])
    # The first position whose event or chain row was on a page that is now gone.
    lost = [
        first
        for table in ("stored_events", "event_chain")
        for page, first in leaf_pages(log_bytes, table)
        if page > kept_pages
    ]
    position = min(lost)
    assert 1 < position < EVENTS
    # SQLite reads a page past the end as empty or as damaged: either way, that position.
    assert_damage_named(data_dir, position, f"the file was cut short near position {position}: it is ")


def test_a_file_that_is_not_an_sqlite_database_is_reported_as_damage(data_dir: Path) -> None:
    (data_dir / "events.db").write_text("not a database " * 1000)
    code, out, err = run_verify(data_dir)
    assert (code, err) == (1, "")
    assert out.startswith("NOT INTACT: ")
    assert "is not an intact SQLite database" in out


def test_a_damaged_log_is_not_checkpointed(data_dir: Path, log_bytes: bytes) -> None:
    page, first_position = leaf_pages(log_bytes, "event_chain")[2]
    page_size = struct.unpack(">H", log_bytes[16:18])[0]
    damaged = bytearray(log_bytes)
    damaged[(page - 1) * page_size : page * page_size] = bytes(page_size)
    (data_dir / "events.db").write_bytes(bytes(damaged))
    out_file = data_dir / "cp.json"
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), "checkpoint", "--out", str(out_file)])
    assert result.exit_code == 1
    assert f"Not checkpointing: position {first_position}: database page damaged" in result.stderr
    assert not out_file.exists()


# --- A store that cannot be reached is exit 2 -------------------------------------------


def test_a_missing_store_exits_2(tmp_path: Path) -> None:
    code, out, err = run_verify(tmp_path / "nowhere")
    assert (code, out) == (2, "")
    assert "No event store at" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a file whatever its permissions")
def test_an_unreadable_store_exits_2(data_dir: Path) -> None:
    (data_dir / "events.db").chmod(0)
    code, out, err = run_verify(data_dir)
    assert (code, out) == (2, "")
    assert "Cannot read" in err
