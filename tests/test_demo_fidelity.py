"""The demo, loaded through `govledger demo --no-serve`, reproduces the seed reports' own
numbers: the committee paper's summary, its exception lists and its health indicators."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from govledger.cli import main
from govledger.demo.load import CHESHIRE_EAST, DEMO_ACCOUNTS, MARKER
from ledger.store import verify
from projections import queries

Q1 = "2024/25 Q1"
# Sections 13 (amber) and 14 (red) of the Corporate Policy Committee paper, 3 October 2024.
SECTION_13_AMBER = {
    "A1.3.3",
    "A2.3.1",
    "A2.3.3",
    "A2.4.1",
    "A2.4.2",
    "A2.4.3",
    "A2.5.1",
    "A2.6.1",
    "A3.1.1",
    "A3.1.2",
    "A3.2.3",
    "A3.6.1",
}
SECTION_14_RED = {"A1.1.4", "A2.7.1"}


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    result = CliRunner().invoke(main, ["demo", "--no-serve", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert "Recorded" in result.output
    for account in DEMO_ACCOUNTS:
        assert account.username in result.output
    return data_dir


def test_the_summary_reads_as_the_published_paper(demo_dir: Path) -> None:
    with sqlite3.connect(demo_dir / "projections.db") as db:
        counts = dict(
            db.execute(
                "select status, count from rag_summary where programme = ? and period = ?",
                (CHESHIRE_EAST, Q1),
            )
        )
    assert counts == {"Green": 48, "Amber": 12, "Red": 2, "To be added": 2, "Not yet due": 2}


def test_the_exceptions_are_exactly_the_actions_in_sections_13_and_14(demo_dir: Path) -> None:
    exceptions = queries.get_exceptions(demo_dir / "projections.db", CHESHIRE_EAST, Q1)
    by_status = {(row["ref"], row["status"]) for row in exceptions}
    expected = {(ref, "Amber") for ref in SECTION_13_AMBER} | {(ref, "Red") for ref in SECTION_14_RED}
    assert by_status == expected
    # The paper's one text per exception is its update, shown once (issue 13 item 8).
    assert all(row["update"] and row["update"] != row["mitigation"] for row in exceptions)


def test_both_q1_updates_of_an_exception_sit_in_its_history(demo_dir: Path) -> None:
    with sqlite3.connect(demo_dir / "projections.db") as db:
        reasons = [
            r
            for (r,) in db.execute(
                "select reason from status_events where programme = ? and ref = 'A2.7.1' order by position",
                (CHESHIRE_EAST,),
            )
        ]
    assert len(reasons) == 2
    assert reasons[0].startswith("Appendix 1") and reasons[1].startswith("Covering report")


@pytest.mark.parametrize(
    ("ref", "before", "after", "change"),
    [
        ("FTE", "2869", "2829", "-40"),
        ("VACANCY", "12.16", "13.05", "0.89"),
        ("TURNOVER", "3.2", "4.1", "0.9"),
        ("AGENCY", "237", "232", "-5"),
        ("BUDGET_VARIANCE", "2.4", "6.8", "4.4"),
    ],
)
def test_the_health_indicators_move_as_the_paper_says(
    demo_dir: Path, ref: str, before: str, after: str, change: str
) -> None:
    with sqlite3.connect(demo_dir / "projections.db") as db:
        row = db.execute(
            "select previous_value, value, change from indicators "
            "where programme = ? and ref = ? and period = ? and breakdown = ''",
            (CHESHIRE_EAST, ref, Q1),
        ).fetchone()
    assert tuple(float(v) for v in row) == (float(before), float(after), float(change))


def test_the_q1_committee_report_is_published_and_provable(demo_dir: Path) -> None:
    publications = queries.get_publications(demo_dir / "projections.db", CHESHIRE_EAST, Q1)
    assert [(p["report"], p["period"]) for p in publications] == [("committee", Q1)]
    stored = demo_dir / "publications" / f"{publications[0]['content_sha256']}.html"
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == publications[0]["content_sha256"]
    assert "Green" in stored.read_text() and "48" in stored.read_text()


def test_the_demo_log_is_intact_and_rebuilding_the_demo_replaces_it(demo_dir: Path) -> None:
    assert verify(demo_dir / "events.db").ok
    assert (demo_dir / MARKER).exists()
    # Replacing a demo (and its passwords) is asked for; --yes is how a script says so.
    again = CliRunner().invoke(main, ["demo", "--no-serve", "--yes", "--data-dir", str(demo_dir)])
    assert again.exit_code == 0, again.output
    assert verify(demo_dir / "events.db").ok


def test_the_demo_refuses_a_directory_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "events.db").write_text("someone's real ledger")
    result = CliRunner().invoke(main, ["demo", "--no-serve", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "never overwrites real data" in result.output
    assert (tmp_path / "events.db").read_text() == "someone's real ledger"
