"""The demo seed CSVs (govledger/demo/seed) are a faithful import of the three seed reports.

Figures are checked against the published Cheshire East report (Corporate Policy
Committee, 3 October 2024), written out here rather than derived from the extractor, so
a parsing mistake cannot agree with itself.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from ledger.periods import Period
from ledger.scales import Category, scale_named
from ledger.transfer.kinds import COLUMNS
from ledger.transfer.kinds import header as header_of

REPO_ROOT = Path(__file__).resolve().parents[1]
SEED_CSV = REPO_ROOT / "govledger" / "demo" / "seed"
SEEDS = REPO_ROOT.parent / "shared" / "seeds"  # where a clean clone finds the seed texts
FORMAT_DOC = REPO_ROOT / "docs" / "import-format.md"

CE = "cheshire-east-plan-2024-25"
CW = "cornwall-send-inclusion"
CT = "cheshire-childrens-trust"
REASON_APPENDIX = "Appendix 1 (Corporate Policy Committee, 3 October 2024)"
REASON_COVERING = "Covering report, sections 13–14 (Corporate Policy Committee, 3 October 2024)"

# Actions per priority in the Cheshire East Plan 2024/25 (Appendix 1).
ACTIONS_PER_PRIORITY = {
    "P1.1": 4, "P1.2": 4, "P1.3": 4, "P1.4": 1, "P1.5": 4, "P1.6": 3,
    "P2.1": 3, "P2.2": 4, "P2.3": 3, "P2.4": 3, "P2.5": 3, "P2.6": 3, "P2.7": 2, "P2.8": 4,
    "P3.1": 4, "P3.2": 3, "P3.3": 3, "P3.4": 4, "P3.5": 5, "P3.6": 2,
}
ALL_ACTIONS = [
    f"A{p[1:]}.{n}" for p, count in ACTIONS_PER_PRIORITY.items() for n in range(1, count + 1)
]
# Paragraphs 8 and 12 of the covering report.
PUBLISHED_SUMMARY = {"Green": 48, "Amber": 12, "Red": 2, "To be added": 2, "Not yet due": 2}
ALIASES = {"Measure not due": "Not yet due"}
# Section 13 (amber) and section 14 (red) of the covering report.
SECTION_13_AMBER = {
    "A1.3.3", "A2.3.1", "A2.3.3", "A2.4.1", "A2.4.2", "A2.4.3", "A2.5.1", "A2.6.1",
    "A3.1.1", "A3.1.2", "A3.2.3", "A3.6.1",
}
SECTION_14_RED = {"A1.1.4", "A2.7.1"}


def documented_headers() -> dict[str, list[str]]:
    """Header rows from docs/import-format.md: each `## name.csv` and its column table."""
    headers: dict[str, list[str]] = {}
    current = None
    for line in FORMAT_DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"## (\w+)\.csv", line)
        if heading:
            current = headers.setdefault(heading[1], [])
            continue
        cell = re.match(r"\|\s*([^|]+?)\s*\|", line)
        if current is not None and cell and cell[1] not in {"column", "---"}:
            current.extend(c.strip() for c in cell[1].split(","))
    return headers


def read(name: str) -> list[dict[str, str]]:
    with (SEED_CSV / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def fold(status: str) -> str:
    return ALIASES.get(status, status)


def ce_statuses() -> list[dict[str, str]]:
    return [r for r in read("statuses") if r["programme"] == CE]


# --- format ---------------------------------------------------------------------------


def test_the_format_doc_lists_the_thirteen_kinds() -> None:
    # The seed reports rate on the built-in scales, report in quarters and months, and print
    # no quarter-by-quarter grid, footnote, retired item or change of scale, so those files
    # are a header only: a template to fill.
    assert set(documented_headers()) == {
        "scales", "programmes", "periods", "items", "statuses", "risks", "dependencies", "indicators",
        "narratives", "history", "footnotes", "retirements", "scale_changes",
    }  # fmt: skip


@pytest.mark.parametrize("name", sorted(documented_headers()))
def test_each_file_has_the_documented_required_columns_in_order(name: str) -> None:
    with (SEED_CSV / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    # Optional columns (a scale's colour, a correction flag...) are left out where the
    # seed reports have none to fill (dependencies name their provider and receiver). The
    # documented table lists the required ones first.
    assert header == list(COLUMNS[name] if name != "dependencies" else header_of(name))
    assert header == documented_headers()[name][: len(header)]


def test_no_undocumented_files_are_shipped() -> None:
    assert {p.stem for p in SEED_CSV.glob("*.csv")} == set(documented_headers())


def test_every_row_names_one_of_the_three_programmes() -> None:
    programmes = [r["programme"] for r in read("programmes")]
    assert programmes == [CE, CW, CT]
    for name in documented_headers():
        assert {r["programme"] for r in read(name)} <= set(programmes), name


def test_every_status_is_on_its_programmes_scale_and_every_period_is_canonical() -> None:
    programmes = {r["programme"]: r for r in read("programmes")}
    for name in ("statuses", "indicators", "narratives", "risks", "dependencies"):
        for row in read(name):
            cadence = programmes[row["programme"]]["cadence"]
            assert Period.parse(row["period"], cadence).label == row["period"], row
    for row in read("statuses"):
        if row["status"]:
            scale_named(programmes[row["programme"]]["scale"]).resolve(row["status"])


# --- Cheshire East Plan: the hierarchy ------------------------------------------------


def test_the_plan_has_one_vision_three_aims_twenty_priorities_and_66_actions() -> None:
    items = [r for r in read("items") if r["programme"] == CE]
    by_kind: dict[str, list[str]] = {}
    for row in items:
        by_kind.setdefault(row["kind"], []).append(row["ref"])
    assert by_kind["vision"] == ["Vision"]
    assert by_kind["aim"] == ["Aim 1", "Aim 2", "Aim 3"]
    assert by_kind["priority"] == list(ACTIONS_PER_PRIORITY)
    assert by_kind["action"] == ALL_ACTIONS
    assert len(set(by_kind["action"])) == 66
    assert set(by_kind) == {"vision", "aim", "priority", "action"}


def test_each_action_hangs_off_its_priority_and_each_priority_off_its_aim() -> None:
    for row in read("items"):
        if row["kind"] == "action":
            assert row["parent_ref"] == "P" + row["ref"][1:4]
        elif row["kind"] == "priority":
            assert row["parent_ref"] == f"Aim {row['ref'][1]}"
        elif row["kind"] == "aim":
            assert row["parent_ref"] == "Vision"


def test_refs_are_unique_and_every_parent_comes_earlier_in_its_programme() -> None:
    seen: dict[str, set[str]] = {}
    for row in read("items"):
        refs = seen.setdefault(row["programme"], set())
        assert row["ref"] not in refs, row
        assert row["title"].strip(), row
        if row["parent_ref"]:
            assert row["parent_ref"] in refs, row
        refs.add(row["ref"])


def test_actions_carry_the_lead_officer_and_committee_from_appendix_1() -> None:
    actions = {r["ref"]: r for r in read("items") if r["kind"] == "action"}
    assert actions["A1.3.1"]["committee"] == "CPC"  # printed with Cyrillic letters
    assert actions["A1.5.2"]["committee"] == "CPC, E+G"
    assert actions["A3.2.3"]["lead_officer"] == "Locality Manager, Community Safety"
    assert actions["A2.3.1"]["title"] == "Continue to embed our Signs of Safety practice model"
    for ref, row in actions.items():
        if ref != "A2.1.1":
            assert row["lead_officer"] and row["committee"], ref


def test_a2_1_1_is_kept_with_its_title_marked_missing_and_an_inferred_green() -> None:
    item = next(r for r in read("items") if r["ref"] == "A2.1.1")
    assert item["title"].startswith("[Title missing from source text]")
    (row,) = [r for r in ce_statuses() if r["ref"] == "A2.1.1"]
    assert row["status"] == "Green"
    assert "lost from the source text" in row["update"]
    assert "community meals, and supermarket" in row["update"]
    assert "lost from the source text" in row["reason"]
    assert "inferred from the published summary (48 Green)" in row["reason"]


# --- Cheshire East Plan: statuses ------------------------------------------------------


def test_appendix_1_rows_come_first_one_per_action_in_plan_order() -> None:
    rows = ce_statuses()
    assert [r["ref"] for r in rows[:66]] == ALL_ACTIONS
    assert all(r["period"] == "2024/25 Q1" for r in rows)
    assert {r["reason"] for r in rows[:66] if r["ref"] != "A2.1.1"} == {REASON_APPENDIX}
    assert {r["reason"] for r in rows[66:]} == {REASON_COVERING}


def test_the_last_status_per_action_reproduces_the_published_summary() -> None:
    last = {r["ref"]: fold(r["status"]) for r in ce_statuses()}
    assert set(last) == set(ALL_ACTIONS)
    assert Counter(last.values()) == PUBLISHED_SUMMARY


def test_the_exception_rows_are_exactly_the_amber_and_red_actions_of_sections_13_and_14() -> None:
    rows = ce_statuses()
    appendix = {r["ref"]: r for r in rows[:66]}
    exceptions = rows[66:]
    refs = [r["ref"] for r in exceptions]
    assert len(refs) == len(set(refs)) == 14
    assert set(refs) == SECTION_13_AMBER | SECTION_14_RED
    assert {ref for ref, r in appendix.items() if r["status"] in {"Amber", "Red"}} == set(refs)
    for row in exceptions:
        assert row["status"] == ("Red" if row["ref"] in SECTION_14_RED else "Amber")
        assert row["status"] == appendix[row["ref"]]["status"]  # same status, not a re-rating
        assert row["update"] != appendix[row["ref"]]["update"], row["ref"]
        # The covering report's update is the longer one, except for A2.3.3, where
        # Appendix 1 has the fuller (and later) text.
        longer = len(row["update"]) > len(appendix[row["ref"]]["update"])
        assert longer is (row["ref"] != "A2.3.3"), row["ref"]
    assert exceptions[-1]["update"] == (
        "This scheme has been further delayed due to ongoing legal issues."
    )


def test_the_exception_text_is_recorded_once_as_the_update_it_is_printed_as() -> None:
    """Issue 13 item 8: the paper prints one text per amber and red action, under "Q1
    update" (it explains and mitigates in one), so it is the update and never copied as
    mitigation; with no mitigation column of its own the programme does not require one."""
    rows = ce_statuses()
    rated = [r for r in rows if r["status"] in {"Amber", "Red"}]
    assert len(rated) == 28
    assert not any(r["mitigation"] for r in rows)
    covering = [r for r in rated if r["reason"] == REASON_COVERING]
    assert len(covering) == 14 and all(r["update"].strip() for r in covering)
    (programme,) = [p for p in read("programmes") if p["programme"] == CE]
    assert programme["requires_mitigation"] == "no"


def test_page_break_carry_overs_are_joined_to_their_row() -> None:
    updates = {r["ref"]: r["update"] for r in ce_statuses()[:66]}
    assert updates["A1.2.4"].endswith("Armed Forces Officer supports veterans with clubs, "
                                      "events, and crisis aid.")
    assert updates["A1.5.4"].endswith("final structure to be agreed in October. "
                                      "Phase two will follow.")
    assert "over 60 professionals. 45+ schools interested" in updates["A2.2.2"]
    assert updates["A2.2.3"].endswith("exercise to improve mental and physical wellbeing.")
    assert "community meals" not in updates["A1.6.3"]


# --- Cheshire East Plan: indicators and narrative -------------------------------------


def test_organisational_health_indicators_match_paragraphs_16_to_20() -> None:
    rows = [r for r in read("indicators") if r["programme"] == CE]
    overall = {(r["ref"], r["period"]): r["value"] for r in rows if not r["breakdown"]}
    assert overall == {
        ("FTE", "2023/24 Q4"): "2,869", ("FTE", "2024/25 Q1"): "2,829",
        ("VACANCY", "2023/24 Q4"): "12.16%", ("VACANCY", "2024/25 Q1"): "13.05%",
        ("TURNOVER", "2023/24 Q4"): "3.2%", ("TURNOVER", "2024/25 Q1"): "4.10%",
        ("AGENCY", "2023/24 Q4"): "237", ("AGENCY", "2024/25 Q1"): "232",
        ("BUDGET_VARIANCE", "2023/24 Q4"): "2.4%", ("BUDGET_VARIANCE", "2024/25 Q1"): "6.80%",
    }
    by_directorate = {(r["ref"], r["breakdown"]): r["value"] for r in rows if r["breakdown"]}
    assert by_directorate == {
        ("VACANCY", "Corporate"): "15.59%", ("VACANCY", "Place"): "14.21%",
        ("TURNOVER", "Corporate"): "6.10%",
    }
    better = {r["ref"]: r["better"] for r in rows}
    assert better == {
        "FTE": "neither", "VACANCY": "lower", "TURNOVER": "lower", "AGENCY": "lower",
        "BUDGET_VARIANCE": "lower",
    }
    assert all(r["unit"] for r in rows)


def test_the_summary_narrative_quotes_the_published_counts() -> None:
    (summary,) = [r for r in read("narratives") if r["programme"] == CE]
    assert summary["section"] == "summary"
    for line in ("Green – on track: 48", "Red – off track with major issues: 2",
                 "Not yet due: 2"):
        assert line in summary["text"].splitlines()


# --- Cornwall and the Children's Trust ------------------------------------------------


def test_cornwall_workstreams_are_unrated_with_their_progress_narrative() -> None:
    items = {r["ref"]: r for r in read("items") if r["programme"] == CW}
    assert list(items) == ["WS1", "WS3", "WS7", "WS12"]
    assert {r["kind"] for r in items.values()} == {"workstream"}
    assert items["WS1"]["lead_officer"] == "Rachel Delourme & Amy Daniels"
    assert items["WS7"]["lead_officer"] == "rachel.delourme@cornwall.gov.uk"  # named only so
    statuses = [r for r in read("statuses") if r["programme"] == CW]
    assert [r["ref"] for r in statuses] == list(items)
    for row in statuses:
        assert row["status"] == "" and row["period"] == "2026-01"
        assert row["update"] and "Lead" not in row["update"]
        assert "February" in row["reason"]


def test_cornwall_narratives_keep_ws_prefixes_one_line_each() -> None:
    narratives = {r["section"]: r["text"] for r in read("narratives") if r["programme"] == CW}
    assert list(narratives) == ["accomplished", "not_accomplished", "planned_next"]
    for text in narratives.values():
        lines = text.split("\n")
        assert [line[:4] for line in lines] == ["WS7:", "WS1:", "WS3:"]


def test_the_risk_register_ships_as_a_header_only_file() -> None:
    assert read("risks") == []


def test_dependencies_are_the_ones_the_reports_name_with_no_confirmation_invented() -> None:
    # Neither report fills in a jointly agreed plan or a confidence (Cornwall's table is
    # empty; the Children's Trust has none), so each names its sides and confirms nothing.
    rows = read("dependencies")
    assert [(r["programme"], r["ref"], r["provider"], r["receiver"]) for r in rows] == [
        (CW, "D1", "South Gloucestershire Council", CW),
        (CW, "D2", "CACE leads", CW),
        (CT, "D1", "Loughborough University", CT),
        (CT, "D2", "Communities of Cheshire Partnership", CT),
    ]
    assert "awaiting South Glos dates" in rows[0]["description"]
    assert "CACE leads have been fully briefed" in rows[1]["description"]
    assert "Joint Strategic Needs Assessment" in rows[2]["description"]
    assert "Sustaining governance and momentum" in rows[3]["description"]
    for row in rows:
        confirmed = [v for k, v in row.items() if k.endswith(("plan_agreed", "confidence"))]
        assert confirmed == [""] * 6, row


def test_childrens_trust_contact_core_areas_and_narratives() -> None:
    (programme,) = [r for r in read("programmes") if r["programme"] == CT]
    assert (programme["contact_name"], programme["contact_phone"], programme["contact_email"]) == (
        "Rick Howell", "01244 603228", "rick.howell@cheshire.gov.uk"
    )
    items = [r for r in read("items") if r["programme"] == CT]
    assert [r["ref"] for r in items] == ["CA1", "CA2", "CA3", "CA4", "CA5"]
    assert items[3]["title"] == "Integrated strategy (joint planning and commissioning)"
    statuses = [r for r in read("statuses") if r["programme"] == CT]
    assert all(r["period"] == "2007/08 Q3" and r["status"] == "" and r["update"]
               for r in statuses)
    narratives = {r["section"]: r["text"] for r in read("narratives") if r["programme"] == CT}
    assert list(narratives) == ["achievements", "current_activity", "challenges",
                                "partnership_issues"]
    assert narratives["current_activity"] == (
        "Planning and development work continues in relation to the core areas of Trust business"
    )
    assert narratives["achievements"].count("\n\n") == 1  # two paragraphs kept apart


# --- hygiene and reproducibility ------------------------------------------------------

NOISE = [
    re.compile(r"\bPage \d+\b"),
    re.compile(r"\bD4 5\b|\bD 0\.4\b"),
    re.compile(r"OFFICIAL|intentionally left blank"),
    re.compile(r"</?[a-z]+[^>]*>"),  # HTML left over from the originals
    re.compile("[\t\uf0b7\u2011\u0400-\u04ff]"),  # tabs, Wingdings bullets, U+2011, Cyrillic
    re.compile(r"Communit y|Environme ntal|\w- \d"),  # words broken by line wrapping
]


def test_no_cell_carries_extraction_noise() -> None:
    for name in documented_headers():
        for row in read(name):
            for column, cell in row.items():
                for pattern in NOISE:
                    assert not pattern.search(cell), (name, column, cell)
                if (name, column) not in {("indicators", "value"), ("programmes", "contact_phone")}:
                    # a bare number such as "12.0" or "8" is a stray page or column mark
                    assert not re.fullmatch(r"[\d.,\s]+%?", cell), (name, column, cell)
                assert cell == cell.strip(), (name, column, cell)


def test_unrated_categories_match_the_scale() -> None:
    # "Measure not due" is the Appendix 1 spelling of the scale's "Not yet due".
    assert scale_named("rag").resolve("Measure not due").name == "Not yet due"
    assert scale_named("rag").resolve("To be added").category is Category.UNRATED


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed texts not found at {SEEDS}")
def test_the_extractor_regenerates_identical_files(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "govledger.demo.extract", str(SEEDS), str(tmp_path)],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    shipped = sorted(p.name for p in SEED_CSV.glob("*.csv"))
    assert sorted(p.name for p in tmp_path.glob("*.csv")) == shipped
    for name in shipped:
        assert (tmp_path / name).read_bytes() == (SEED_CSV / name).read_bytes(), name
