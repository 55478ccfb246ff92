"""Status scales as councils define them (issue 11 items 1-3 and item 8's first bullet):
scales.csv and the ledger's commands, summaries by status, category and group, changes of
scale with a mapping, and every bad input refused by row and column with nothing recorded."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_import import write_csv, write_folder

from ledger.errors import InvalidValue, LedgerError
from ledger.scales import Category, Status
from ledger.transfer.export import export
from ledger.transfer.importing import import_file
from projections import queries
from projections.system import System, open_system

Q = ("2024/25 Q1", "2024/25 Q2", "2024/25 Q3")
OUTCOMES = [  # a four-status scale as a council prints it
    {
        "scale": "outcomes",
        "name": "Outcomes",
        "status": "Achieved",
        "category": "on track",
        "colour": "#00703c",
        "aliases": "A; Met",
    },
    {
        "scale": "outcomes",
        "name": "Outcomes",
        "status": "Partly achieved",
        "category": "minor issues",
        "colour": "#ffdd00",
        "aliases": "PA",
        "needs_mitigation": "no",
    },
    {
        "scale": "outcomes",
        "name": "Outcomes",
        "status": "Not achieved",
        "category": "major issues",
        "colour": "#d4351c",
        "aliases": "NA",
        "needs_mitigation": "yes",
    },
    {
        "scale": "outcomes",
        "name": "Outcomes",
        "status": "Carried forward",
        "category": "not yet due",
        "aliases": "CF; Measure not due",
    },
]
GROUPED = [  # Complete / In progress (Green + Amber + Red) / Not started
    {"scale": "delivery", "name": "Delivery", "status": "Complete", "category": "complete"},
    {
        "scale": "delivery",
        "name": "Delivery",
        "status": "Green",
        "category": "on track",
        "group": "In progress",
    },
    {
        "scale": "delivery",
        "name": "Delivery",
        "status": "Amber",
        "category": "minor issues",
        "group": "In progress",
    },
    {
        "scale": "delivery",
        "name": "Delivery",
        "status": "Red",
        "category": "major issues",
        "group": "In progress",
    },
    {"scale": "delivery", "name": "Delivery", "status": "Not started", "category": "not rated"},
]
# The published per-quarter counts each register's summary must reproduce exactly.
OUTCOME_COUNTS = {
    Q[0]: {"Achieved": 5, "Partly achieved": 3, "Not achieved": 1, "Carried forward": 3},
    Q[1]: {"Achieved": 7, "Partly achieved": 2, "Not achieved": 2, "Carried forward": 1},
    Q[2]: {"Achieved": 9, "Partly achieved": 1, "Not achieved": 0, "Carried forward": 2},
}
DELIVERY_COUNTS = {
    Q[0]: {"Complete": 1, "Green": 4, "Amber": 3, "Red": 1, "Not started": 3},
    Q[1]: {"Complete": 3, "Green": 5, "Amber": 2, "Red": 0, "Not started": 2},
}


def register(
    slug: str, scale: str, counts: dict[str, dict[str, int]], aliases: dict[str, str]
) -> dict[str, Any]:
    """Tables for a programme on `scale` whose items are rated to give `counts` per
    period; statuses are written as the council's aliases where given."""
    size = sum(next(iter(counts.values())).values())
    items = [
        {"programme": slug, "ref": f"O{n}", "kind": "objective", "title": f"Objective {n}"}
        for n in range(1, size + 1)
    ]
    statuses = []
    for period, by_status in counts.items():
        ratings = [s for s, n in by_status.items() for _ in range(n)]
        for item, status in zip(items, ratings, strict=True):
            statuses.append(
                {
                    "programme": slug,
                    "ref": item["ref"],
                    "period": period,
                    "status": aliases.get(status, status),
                    "update": f"{status} in {period}",
                    "mitigation": "Recovery plan" if status in ("Not achieved", "Amber", "Red") else "",
                }
            )
    programme = {
        "programme": slug,
        "name": slug.title(),
        "cadence": "quarterly",
        "scale": scale,
        "requires_mitigation": "yes",
    }
    return {"programmes": [programme], "items": items, "statuses": statuses}


def council_tables() -> dict[str, list[dict[str, str]]]:
    outcomes = register(
        "outcomes-plan", "outcomes", OUTCOME_COUNTS, {"Partly achieved": "PA", "Achieved": "Met"}
    )
    delivery = register("delivery-plan", "delivery", DELIVERY_COUNTS, {})
    return {
        "scales": [*OUTCOMES, *GROUPED],
        "programmes": [*outcomes["programmes"], *delivery["programmes"]],
        "items": [*outcomes["items"], *delivery["items"]],
        "statuses": [*outcomes["statuses"], *delivery["statuses"]],
    }


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    opened = open_system(tmp_path / "data")
    yield opened
    opened.close()


@pytest.fixture
def council(system: System, tmp_path: Path) -> System:
    result = import_file(system.ledger, write_folder(tmp_path / "council", council_tables()), actor="alice")
    assert result.ok, result.problems
    system.projector.catch_up()
    return system


def summary_counts(db: Path, programme: str, period: str) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return dict(
            conn.execute(
                "SELECT status, count FROM rag_summary WHERE programme = ? AND period = ? "
                "ORDER BY status_order",
                (programme, period),
            )
        )


def assert_outcome_counts(system: System) -> None:
    """The outcomes plan's summaries are the council's published counts, period by period."""
    system.projector.catch_up()
    for period, expected in OUTCOME_COUNTS.items():
        assert summary_counts(system.projections_db, "outcomes-plan", period) == {
            s: n for s, n in expected.items() if n
        }


# ------------------------------------------------------------------ summaries


def test_a_four_status_scale_reproduces_the_published_counts_per_quarter(council: System) -> None:
    db = council.projections_db
    for period, expected in OUTCOME_COUNTS.items():
        assert summary_counts(db, "outcomes-plan", period) == {s: n for s, n in expected.items() if n}
        summary = queries.get_summary(db, "outcomes-plan", period)
        assert [(s["status"], s["count"]) for s in summary["statuses"]] == list(expected.items())
    q1 = queries.get_summary(db, "outcomes-plan", Q[0])
    assert {c["category"]: c["count"] for c in q1["categories"]} == {
        "on track": 5,
        "minor issues": 3,
        "major issues": 1,
        "complete": 0,
        "not yet due": 3,
        "not rated": 0,
        "closed": 0,
    }
    assert [s["colour"] for s in q1["statuses"]][:3] == ["#00703c", "#ffdd00", "#d4351c"]


def test_summaries_by_category_compare_programmes_on_different_scales(council: System) -> None:
    with sqlite3.connect(council.projections_db) as conn:
        found = dict(
            conn.execute(
                "SELECT programme || '/' || status_category, count FROM category_summary WHERE period = ?",
                (Q[0],),
            )
        )
    assert found == {
        "outcomes-plan/on track": 5,
        "outcomes-plan/minor issues": 3,
        "outcomes-plan/major issues": 1,
        "outcomes-plan/not yet due": 3,
        "delivery-plan/complete": 1,
        "delivery-plan/on track": 4,
        "delivery-plan/minor issues": 3,
        "delivery-plan/major issues": 1,
        "delivery-plan/not rated": 3,
    }


def test_a_grouped_scale_gives_the_group_totals_and_their_parts(council: System) -> None:
    db = council.projections_db
    for period, expected in DELIVERY_COUNTS.items():
        summary = queries.get_summary(db, "delivery-plan", period)
        in_progress = expected["Green"] + expected["Amber"] + expected["Red"]
        assert summary["groups"] == [
            {
                "group": "In progress",
                "count": in_progress,
                "parts": [{"status": s, "count": expected[s]} for s in ("Green", "Amber", "Red")],
            }
        ]
        assert [(s["status"], s["count"]) for s in summary["statuses"]] == list(expected.items())
        with sqlite3.connect(db) as conn:
            assert conn.execute(
                "SELECT status_group, count FROM group_summary WHERE programme = ? AND period = ?",
                ("delivery-plan", period),
            ).fetchall() == [("In progress", in_progress)]


def test_statuses_need_mitigation_as_the_scale_says(council: System) -> None:
    ledger = council.ledger
    # Partly achieved is a minor issue the council does not ask mitigation for.
    ledger.record_status("outcomes-plan", "O1", period="2024/25 Q4", status="PA", update="Slower", actor="o")
    with pytest.raises(LedgerError, match="rated Not achieved: describe the mitigation"):
        ledger.record_status(
            "outcomes-plan", "O2", period="2024/25 Q4", status="NA", update="Late", actor="o"
        )


# ------------------------------------------------------------------ versions


def test_a_change_of_scale_with_a_mapping_keeps_the_past_and_maps_old_onto_new(council: System) -> None:
    ledger, db = council.ledger, council.projections_db
    before = {p: summary_counts(db, "outcomes-plan", p) for p in Q}
    with pytest.raises(InvalidValue, match="replaces 'Carried forward'") as missing:
        ledger.change_scale(
            "outcomes-plan",
            "rag",
            actor="pm",
            reason="Council adopts RAG",
            mapping={"Achieved": "Green", "Partly achieved": "Amber", "Not achieved": "Red"},
        )
    assert missing.value.field == "mapping"
    position = ledger.get_log_position()
    ledger.change_scale(
        "outcomes-plan",
        "rag",
        actor="pm",
        reason="Council adopts RAG",
        mapping={
            "Achieved": "G",
            "Partly achieved": "Amber",
            "Not achieved": "Red",
            "Carried forward": "Not yet due",
        },
    )
    assert ledger.get_log_position() == position + 1
    ledger.record_status("outcomes-plan", "O1", period="2024/25 Q4", status="Green", update="Done", actor="o")
    council.projector.catch_up()
    assert {p: summary_counts(db, "outcomes-plan", p) for p in Q} == before
    assert summary_counts(db, "outcomes-plan", "2024/25 Q4") == {"Green": 1}

    grid = queries.get_grid(db, "outcomes-plan")
    [change] = grid["scale_changes"]
    assert (change["from_scale"], change["to_scale"], change["reason"]) == (
        "Outcomes",
        "RAG",
        "Council adopts RAG",
    )
    o1 = next(r for r in grid["rows"] if r["ref"] == "O1")["ratings"]
    assert (o1[Q[0]]["status"], o1[Q[0]]["mapped_status"], o1[Q[0]]["mapped_category"]) == (
        "Achieved",
        "Green",
        "green",
    )
    assert o1["2024/25 Q4"]["mapped_status"] is None
    carried = [r["ratings"][Q[0]] for r in grid["rows"] if r["ratings"][Q[0]]["status"] == "Carried forward"]
    assert carried and all(c["mapped_status"] == "Not yet due" for c in carried)


def test_revising_a_scale_is_an_event_with_a_reason_and_leaves_programmes_on_their_copy(
    council: System,
) -> None:
    ledger = council.ledger
    statuses = [Status("Achieved", Category.ON_TRACK), Status("Missed", Category.MAJOR_ISSUES)]
    with pytest.raises(LedgerError, match="Give a reason"):
        ledger.revise_scale("outcomes", "Outcomes", statuses, actor="admin", reason=" ")
    ledger.revise_scale("outcomes", "Outcomes", statuses, actor="admin", reason="Simpler wording")
    council.projector.catch_up()
    [scale] = [s for s in queries.get_scales(council.projections_db) if s["scale"] == "outcomes"]
    assert [s["name"] for s in scale["statuses"]] == ["Achieved", "Missed"]
    assert (scale["reason"], scale["version"]) == ("Simpler wording", 2)
    assert ledger.get_programme("outcomes-plan")["scale"].choices_text() == (
        "Achieved, Partly achieved, Not achieved, Carried forward"
    )
    ledger.change_scale(
        "outcomes-plan",
        "outcomes",
        actor="pm",
        reason="Revised scale",
        mapping={"Partly achieved": "Missed", "Not achieved": "Missed", "Carried forward": "Missed"},
    )
    assert ledger.get_programme("outcomes-plan")["scale"].choices_text() == "Achieved, Missed"


def test_an_export_writes_the_scales_and_imports_into_a_fresh_ledger(council: System, tmp_path: Path) -> None:
    export(council.ledger, tmp_path / "out")
    fresh = open_system(tmp_path / "fresh")
    try:
        result = import_file(fresh.ledger, tmp_path / "out", actor="bob")
        assert result.ok, result.problems
        assert_outcome_counts(fresh)
        assert fresh.ledger.find_scale("outcomes") == council.ledger.find_scale("outcomes")
    finally:
        fresh.close()
    again = import_file(council.ledger, tmp_path / "out", actor="bob")
    assert again.ok and not again.recorded, again.summary()


# ------------------------------------------------------------------ bad input

BAD_SCALES = {
    "unknown category": (
        {3: {"category": "behind"}},
        "scales.csv row 5, column category: 'behind' is not a category.",
    ),
    "duplicate status": (
        {2: {"status": "achieved", "aliases": ""}},
        "scales.csv row 4, column status: The status 'achieved' is listed",
    ),
    "an alias given twice": (
        {0: {"aliases": "A; a"}},
        "scales.csv row 2, column aliases: 'a' is given twice",
    ),
    "an alias another status has": (
        {1: {"aliases": "PA; Met"}},
        "scales.csv row 3, column aliases: The alias 'Met' clashes with 'Achieved'",
    ),
    "an alias that is another status": (
        {3: {"aliases": "Achieved"}},
        "scales.csv row 5, column aliases: The alias 'Achieved' clashes with",
    ),
    "empty status": ({2: {"status": " "}}, "scales.csv row 4, column status: Enter the status's name."),
    "empty scale name": ({0: {"name": ""}}, "scales.csv row 2, column name: Enter the scale's name."),
    "a different name on a later row": (
        {1: {"name": "Results"}},
        "scales.csv row 3, column name: Row 2 names",
    ),
    "a bad colour": ({1: {"colour": "yellow"}}, "scales.csv row 3, column colour: 'yellow' is not a colour"),
}


@pytest.mark.parametrize("change, expected", BAD_SCALES.values(), ids=BAD_SCALES.keys())
def test_a_bad_scale_row_is_located_and_nothing_is_recorded(
    system: System, tmp_path: Path, change: dict[int, dict[str, str]], expected: str
) -> None:
    tables = council_tables()
    for index, values in change.items():
        tables["scales"][index] = {**tables["scales"][index], **values}
    result = import_file(system.ledger, write_folder(tmp_path / "bad", tables), actor="bob")
    problems = [str(p) for p in result.problems]
    assert any(p.startswith(expected) for p in problems), problems
    assert not result.recorded
    assert system.ledger.get_log_position() == 0


def test_a_bad_scale_from_the_ledger_commands_is_refused(system: System) -> None:
    ledger = system.ledger
    cases = [
        ([Status("Met", Category.ON_TRACK), Status("met", Category.MINOR_ISSUES)], "status", "listed twice"),
        (
            [
                Status("Met", Category.ON_TRACK, aliases=("M",)),
                Status("Missed", Category.MAJOR_ISSUES, aliases=("m",)),
            ],
            "aliases",
            "clashes with 'Met'",
        ),
        ([Status("", Category.ON_TRACK)], "status", "Enter the status's name"),
        ([], "status", "at least one status"),
    ]
    for statuses, field, words in cases:
        with pytest.raises(InvalidValue, match=words) as refused:
            ledger.define_scale("results", "Results", statuses, actor="admin")
        assert refused.value.field == field
    with pytest.raises(LedgerError, match="not a category"):
        Category.parse("amber-ish")
    with pytest.raises(InvalidValue, match="Enter the scale's name"):
        ledger.define_scale("results", " ", [Status("Met", Category.ON_TRACK)], actor="admin")
    assert ledger.get_log_position() == 0


def test_a_correction_without_a_reason_is_refused_by_row_and_column(council: System, tmp_path: Path) -> None:
    position = council.ledger.get_log_position()
    row = {
        "programme": "outcomes-plan",
        "ref": "O1",
        "period": Q[0],
        "status": "Not achieved",
        "update": "Restated",
        "mitigation": "Plan",
        "reason": "",
        "correction": "yes",
    }
    write_csv(tmp_path / "statuses.csv", "statuses", [row])
    result = import_file(council.ledger, tmp_path / "statuses.csv", actor="bob")
    assert [str(p) for p in result.problems] == [
        "statuses.csv row 2, column reason: Give the reason for correcting O1: a correction needs one."
    ]
    assert council.ledger.get_log_position() == position
    write_csv(tmp_path / "statuses.csv", "statuses", [{**row, "reason": "Miscounted"}])
    assert import_file(council.ledger, tmp_path / "statuses.csv", actor="bob").ok
    events = list(council.ledger.events.get(council.ledger.get_item("outcomes-plan", "O1")["id"]))
    assert (type(events[-1]).__name__, events[-1].reason) == (
        "StatusCorrected",
        "Imported from statuses.csv: Miscounted",
    )


def test_scales_rows_survive_a_kept_check(system: System, tmp_path: Path) -> None:
    """The web keeps a checked file as JSON between check and confirmation."""
    from ledger.transfer.importing import Prepared, prepare, record

    prepared = prepare(system.ledger, write_folder(tmp_path / "council", council_tables()))
    kept = Prepared.from_json(json.loads(json.dumps(prepared.to_json())))
    assert record(system.ledger, kept, actor="alice").ok
    assert system.ledger.find_scale("delivery").groups["In progress"][0].name == "Green"


def test_datasettes_queries_give_each_programmes_words_categories_and_colours(council: System) -> None:
    from projections.datasette_config import CANNED_QUERIES, DASHBOARDS

    with sqlite3.connect(council.projections_db) as conn:
        conn.row_factory = sqlite3.Row
        summary = conn.execute(
            CANNED_QUERIES["rag_summary_for_period"]["sql"], {"programme": "delivery-plan", "period": Q[0]}
        ).fetchall()
        categories = conn.execute(
            CANNED_QUERIES["categories_by_period"]["sql"], {"programme": "outcomes-plan"}
        ).fetchall()
        chart = conn.execute(
            DASHBOARDS["statuses-by-period"]["charts"]["statuses"]["query"], {"programme": "outcomes-plan"}
        ).fetchall()
    assert [(r["status"], r["status_group"], r["count"]) for r in summary] == [
        ("Complete", "", 1), ("Green", "In progress", 4), ("Amber", "In progress", 3),
        ("Red", "In progress", 1), ("Not started", "", 3),
    ]  # fmt: skip
    assert {(r["period"], r["status_category"]): r["count"] for r in categories if r["period"] == Q[2]} == {
        (Q[2], "on track"): 9, (Q[2], "minor issues"): 1, (Q[2], "not yet due"): 2,
    }  # fmt: skip
    assert {(r["status"], r["colour"]) for r in chart if r["period"] == Q[0]} == {
        ("Achieved", "#00703c"), ("Partly achieved", "#ffdd00"), ("Not achieved", "#d4351c"),
        ("Carried forward", "#b1b4b6"),
    }  # fmt: skip
