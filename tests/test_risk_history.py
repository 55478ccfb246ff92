"""Issue 11 item 6: a risk register with a history. A register of 16 risks x 12 quarters
(post-mitigation ratings only for half of them, closures, a reopening, risks that join
late or drop off) gives the same register and the same risk_history whichever order
its quarters are imported in, and in one file; export -> import round-trips history
and closures; a bad row is refused by row and column with nothing recorded."""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ledger.periods import Cadence, Period
from ledger.transfer.export import export
from ledger.transfer.importing import import_file
from projections.reports.build import build_report
from projections.system import System, open_system

HEADER = [
    "programme", "ref", "kind", "period", "description", "owner", "rag_before", "mitigation",
    "rag_after", "state", "reason",
]
PROGRAMMES = [
    [
        "programme", "name", "cadence", "scale", "requires_mitigation", "description",
        "contact_name", "contact_phone", "contact_email",
    ],
    ["strategic", "Strategic risk register", "quarterly", "rag", "no", "", "", "", ""],
]
QUARTERS = [Period(Cadence.QUARTERLY, 2022 + q // 4, q % 4 + 1).label for q in range(12)]
RAGS = ("Red", "Amber", "Green")
# ref -> (first quarter on the register, last quarter on it, {quarter: open from then on?})
LIFE: dict[str, tuple[int, int, dict[int, bool]]] = {
    "R3": (0, 11, {6: False}),  # closed in the seventh quarter, still printed as closed
    "R5": (0, 11, {4: False, 8: True}),  # closed, then reopened
    "R7": (0, 11, {11: False}),  # closed in the latest quarter
    "R9": (3, 11, {}),  # joins the register late
    "R11": (0, 8, {8: False}),  # closed, then no longer printed
}
REGISTER_COLUMNS = (
    "kind, ref, description, owner, rag_before, mitigation, rag_after, period, state, closed_period"
)
HISTORY_COLUMNS = (
    "kind, ref, period, period_start, rag_before, rag_before_category, mitigation, rag_after, "
    "rag_after_category, rated, state, state_change"
)


def register_rows() -> dict[int, list[list[str]]]:
    """Quarter -> its register rows."""
    quarters: dict[int, list[list[str]]] = {q: [] for q in range(12)}
    for n in range(1, 17):
        ref = f"R{n}"
        first, last, changes = LIFE.get(ref, (0, 11, {}))
        is_open = True
        for q in range(first, last + 1):
            is_open = changes.get(q, is_open)
            after = RAGS[(n * 7 + q * (n % 3 + 1)) % 3]
            before = RAGS[(n + q) % 2] if n % 2 == 0 else ""  # odd refs: residual rating only
            quarters[q].append([
                "strategic", ref, "risk", QUARTERS[q], f"Risk {n}", f"Director {n % 4}", before,
                f"Plan {n}.{q // 4}", after, "open" if is_open else "closed", "",
            ])
    return quarters


def write(folder: Path, rows: list[list[str]]) -> Path:
    folder.mkdir(parents=True)
    for name, table in (("programmes", PROGRAMMES), ("risks", [HEADER, *rows])):
        with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(table)
    return folder


def imported(tmp_path: Path, name: str, files: list[list[list[str]]]) -> System:
    system = open_system(tmp_path / name)
    for i, rows in enumerate(files):
        result = import_file(system.ledger, write(tmp_path / f"{name}-{i}", rows), actor="pm")
        assert result.problems == [], result.problems
    return system


def read(system: System, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(system.projections_db) as conn:
        return conn.execute(sql).fetchall()


def register(system: System) -> list[tuple[object, ...]]:
    return read(system, f"SELECT {REGISTER_COLUMNS} FROM risks_and_issues ORDER BY ref")


def history(system: System) -> list[tuple[object, ...]]:
    return read(system, f"SELECT {HISTORY_COLUMNS} FROM risk_history ORDER BY ref, period_start")


@pytest.fixture(scope="module")
def orders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, System]]:
    tmp = tmp_path_factory.mktemp("orders")
    quarters = register_rows()
    every = [row for q in range(12) for row in quarters[q]]
    systems = {
        "newest first": imported(tmp, "newest", [quarters[q] for q in reversed(range(12))]),
        "oldest first": imported(tmp, "oldest", [quarters[q] for q in range(12)]),
        "one file, newest first": imported(tmp, "one", [every[::-1]]),
    }
    yield systems
    for system in systems.values():
        system.close()


def test_the_register_follows_the_latest_quarter_whatever_the_import_order(orders: dict[str, System]) -> None:
    newest, oldest, one = (register(s) for s in orders.values())
    assert newest == oldest == one
    by_ref = {row[1]: row for row in oldest}
    assert len(by_ref) == 16
    # (period, state, closed_period): never moved back in time, a closed risk never reopened
    assert by_ref["R3"][7:] == (QUARTERS[11], "closed", QUARTERS[6])
    assert by_ref["R5"][7:] == (QUARTERS[11], "open", None)
    assert by_ref["R7"][7:] == (QUARTERS[11], "closed", QUARTERS[11])
    assert by_ref["R11"][7:] == (QUARTERS[8], "closed", QUARTERS[8])
    assert by_ref["R1"][4] == "" and by_ref["R1"][6] == RAGS[(7 + 11 * 2) % 3]  # residual only


def test_the_history_is_the_same_whatever_the_import_order(orders: dict[str, System]) -> None:
    newest, oldest, one = (history(s) for s in orders.values())
    assert newest == oldest == one
    assert len(oldest) == sum(len(rows) for rows in register_rows().values()) == 16 * 12 - 3 - 3
    r5 = [(row[2], row[10], row[11]) for row in oldest if row[1] == "R5"]
    assert r5[3:9] == [
        (QUARTERS[3], "open", ""), (QUARTERS[4], "closed", "closed"), (QUARTERS[5], "closed", ""),
        (QUARTERS[6], "closed", ""), (QUARTERS[7], "closed", ""), (QUARTERS[8], "open", "reopened"),
    ]
    # Every cell of the register is in risk_history exactly as printed.
    printed = {
        (r[1], r[3], r[6], r[7], r[8], r[9]) for rows in register_rows().values() for r in rows
    }
    assert {(h[1], h[2], h[4], h[6], h[7], h[10]) for h in oldest} == printed


def test_export_then_import_round_trips_history_and_closures(
    orders: dict[str, System], tmp_path: Path
) -> None:
    source = orders["newest first"]
    export(source, tmp_path / "out")
    with (tmp_path / "out" / "risks.csv").open(encoding="utf-8-sig") as handle:
        assert len(list(csv.reader(handle))) == 1 + len(history(source))
    with open_system(tmp_path / "fresh") as fresh:
        result = import_file(fresh.ledger, tmp_path / "out", actor="pm")
        assert result.problems == []
        assert history(fresh) == history(source)
        assert register(fresh) == register(source)
    again = import_file(source.ledger, tmp_path / "out", actor="pm")
    assert again.problems == [] and again.event_count == 0


def test_a_committee_report_shows_the_register_as_it_stood_in_its_quarter(orders: dict[str, System]) -> None:
    """Each quarter's report lists the risks rated by then with that quarter's ratings,
    open then or closed in that quarter, whichever order the quarters were imported in."""
    printed = {(r[1], r[3]): r for rows in register_rows().values() for r in rows}
    for system in orders.values():
        for q in (2, 5, 6, 8, 9, 11):
            report = build_report(system.projections_db, "strategic", "committee", QUARTERS[q])
            shown = {r.ref: (r.period, r.rag_before, r.rag_after, r.is_open) for r in report.risks}
            expected = {
                ref: (QUARTERS[q], row[6], row[8], row[9] == "open")
                for (ref, period), row in printed.items()
                if period == QUARTERS[q] and (row[9] == "open" or ref in CLOSED_IN.get(q, ()))
            }
            assert shown == expected, QUARTERS[q]
    assert "R9" not in expected_refs(2) and "R3" in expected_refs(6) and "R3" not in expected_refs(8)


CLOSED_IN = {6: ("R3",), 4: ("R5",), 11: ("R7",), 8: ("R11",)}  # quarter -> refs closed in it


def expected_refs(q: int) -> set[str]:
    return {r[1] for r in register_rows()[q] if r[9] == "open" or r[1] in CLOSED_IN.get(q, ())}


def test_a_period_only_closed_exports_without_a_rating_and_round_trips(
    system: System, tmp_path: Path
) -> None:
    ledger, a = system.ledger, {"actor": "pm"}
    import_file(ledger, write(tmp_path / "a", [r for r in register_rows()[0] if r[1] == "R2"]), **a)
    ledger.close_risk("strategic", "R2", period=QUARTERS[2], reason="Contract signed", **a)
    assert read(system, "SELECT period, rag_before, rated, state FROM risk_history") == [
        (QUARTERS[0], "Red", 1, "open"), (QUARTERS[2], "Red", 0, "closed"),
    ]
    export(system, tmp_path / "out")
    with open_system(tmp_path / "fresh") as fresh:
        assert import_file(fresh.ledger, tmp_path / "out", **a).problems == []
        assert history(fresh) == history(system)
        assert register(fresh) == register(system)


def test_closing_an_older_quarter_keeps_the_later_quarters_state(system: System, tmp_path: Path) -> None:
    """A closure imported for an earlier quarter stops at the next quarter recorded open."""
    rows = [r for r in register_rows()[5] if r[1] == "R2"]
    import_file(system.ledger, write(tmp_path / "q6", rows), actor="pm")
    older = [[*r[:9], "closed", "Closed that quarter"] for r in register_rows()[2] if r[1] == "R2"]
    assert import_file(system.ledger, write(tmp_path / "q3", older), actor="pm").problems == []
    assert read(system, "SELECT period, state, state_change FROM risk_history ORDER BY period_start") == [
        (QUARTERS[2], "closed", "closed"), (QUARTERS[5], "open", "reopened"),
    ]
    assert read(system, "SELECT period, state FROM risks_and_issues") == [(QUARTERS[5], "open")]


def _set(index: int, column: int, value: str) -> Callable[[list[list[str]]], None]:
    def change(rows: list[list[str]]) -> None:
        rows[index][column] = value

    return change


# case -> (the change to a good register, row and column named, words of the message)
BAD: dict[str, tuple[Callable[[list[list[str]]], None], int, str, str]] = {
    "an unknown RAG": (_set(10, 8, "Purple"), 12, "rag_after", "'Purple' is not a status"),
    "an unrated status": (_set(38, 6, "Complete"), 40, "rag_before", "Complete is not a RAG rating"),
    "no such period": (_set(5, 3, "2024/25 Q5"), 7, "period", "not a quarter"),
    "an unknown state": (_set(28, 9, "shut"), 30, "state", "'shut' is not a state"),
    "a risk twice in one period": (lambda rows: rows.append(list(rows[0])), 188, "period", "in 2022/23 Q1"),
}


@pytest.mark.parametrize(("change", "row", "column", "message"), BAD.values(), ids=BAD.keys())
def test_a_bad_row_is_refused_by_row_and_column_and_nothing_is_recorded(
    system: System, tmp_path: Path, change: Callable[[list[list[str]]], None], row: int, column: str,
    message: str,
) -> None:
    rows = [r for q in range(12) for r in register_rows()[q]]
    change(rows)
    result = import_file(system.ledger, write(tmp_path / "bad", rows), actor="pm")
    assert [(p.row, p.column) for p in result.problems] == [(row, column)], result.problems
    assert message in str(result.problems[0])
    assert system.ledger.get_log_position() == 0
    assert read(system, "SELECT count(*) FROM risk_history") == [(0,)]


def test_a_risk_needs_a_rating_in_its_first_row(system: System, tmp_path: Path) -> None:
    rows = [r for r in register_rows()[0] if r[1] == "R2"]
    rows[0][6] = rows[0][8] = ""
    result = import_file(system.ledger, write(tmp_path / "a", rows), actor="pm")
    assert [(p.row, p.column) for p in result.problems] == [(2, "rag_before")]
    assert "not in the ledger yet" in str(result.problems[0])
    assert system.ledger.get_log_position() == 0
