"""Import reads a file a chunk at a time (issue 14 item 8) and still checks every row and
records all or nothing: a bad row near the end of a file much larger than a chunk is
named by row and column and nothing is recorded; encodings are settled over every chunk;
a file's rows are not kept once checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_import import assert_refused, generated

from ledger.application import Ledger
from ledger.transfer import read
from ledger.transfer.importing import import_file, prepare

HEADER = "programme,ref,period,status,update,mitigation,reason\n"


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 1 KB: every file below spans many, as a million rows span 1 MB chunks."""
    monkeypatch.setattr(read, "CHUNK", 1024)
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)


def _replace_line(path: Path, number: int, edit: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[number - 1] = edit
    path.write_text("".join(lines), encoding="utf-8")


def test_a_bad_row_near_the_end_names_its_row_and_column_and_records_nothing(
    ledger: Ledger, tmp_path: Path
) -> None:
    folder = generated(tmp_path / "in", 2_700)  # statuses.csv ~190 KB: ~190 chunks
    statuses = folder / "statuses.csv"
    rows = statuses.read_text(encoding="utf-8").count("\n")
    bad = rows - 3  # Excel's row number: the header is row 1
    line = statuses.read_text(encoding="utf-8").splitlines()[bad - 1].split(",")
    line[3] = "Purple"
    _replace_line(statuses, bad, ",".join(line) + "\n")
    result = import_file(ledger, folder, actor="bulk")
    assert [(p.file, p.row, p.column) for p in result.problems] == [("statuses.csv", bad, "status")]
    assert not result.recorded and ledger.get_log_position() == 0
    # The same file with the row put right records every row, in one go.
    line[3] = "Green"
    _replace_line(statuses, bad, ",".join(line) + "\n")
    done = import_file(ledger, folder, actor="bulk")
    assert done.ok and done.event_count == 1 + 300 + 2_700 == ledger.get_log_position()


def test_a_row_that_is_not_utf8_past_the_first_chunk_is_found_by_its_line(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = tmp_path / "statuses.csv"
    good = "".join(f"send,WS1,2026-03,Green,Café {n} – ok,,\n" for n in range(200))  # ~7 KB
    path.write_bytes((HEADER + good).encode("utf-8") + "send,WS1,2026-04,Green,£5,,\n".encode("cp1252"))
    result = import_file(ledger, path, actor="bob")
    assert_refused(
        ledger, result, 0,
        "statuses.csv: mixes UTF-8 with another encoding (the first character that is not UTF-8 "
        "is on line 202)",
    )


def test_a_windows_1252_file_over_many_chunks_is_read_whole(tmp_path: Path, ledger: Ledger) -> None:
    path = tmp_path / "statuses.csv"
    path.write_bytes((HEADER + "".join(
        f"send,WS{n},2026-03,Green,“Budget” £{n}m,,\n" for n in range(300)
    )).encode("cp1252"))
    prepared = prepare(ledger, path)
    assert any(n.startswith("statuses.csv is not UTF-8: it was read as Windows-1252") for n in prepared.notes)
    # Every row read (each names a programme this empty ledger lacks) and its text decoded.
    assert prepared.checked.named["send"][3] == 300
    assert [p.row for p in prepared.problems if p.column == "programme"][-1] == 301


def test_a_row_that_is_not_well_formed_csv_late_in_the_file_is_refused(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = tmp_path / "statuses.csv"
    rows = "".join(f"send,WS1,2026-03,Green,Update {n},,\n" for n in range(100))
    too_long = "x" * 200_000  # over the csv module's field limit
    path.write_text(HEADER + rows + f'send,WS1,2026-04,Green,"{too_long}",,\n', encoding="utf-8")
    result = import_file(ledger, path, actor="bob")
    assert any(str(p).startswith("statuses.csv: is not a well-formed CSV file") for p in result.problems)
    assert not result.recorded and ledger.get_log_position() == 0


def test_the_rows_are_not_kept_once_checked(ledger: Ledger, tmp_path: Path) -> None:
    prepared = prepare(ledger, generated(tmp_path / "in", 900))
    assert all(list(table.rows) == [] for table in prepared.tables)
    assert len(prepared.checked.rows) == 1 + 100 + 900 and not prepared.problems
