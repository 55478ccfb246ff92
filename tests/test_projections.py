"""The read model, from a small ledger counted by hand: what each table and query shows."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from test_projections_support import PACK, PLAN, Q1, Q2, Q4, SEND, publish_pack, record_plan, record_send

from ledger.refs import natural_sort_key
from ledger.scales import FIVE_POINT
from projections import queries
from projections.handlers import HANDLERS
from projections.system import System


def rows(system: System, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    conn = sqlite3.connect(system.projections_db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


@pytest.fixture
def plan(system: System) -> System:
    record_plan(system.ledger)
    return system


def test_a_user_sees_their_own_write_as_soon_as_the_command_returns(system: System) -> None:
    system.ledger.register_programme(PLAN, "Cheshire East Plan", cadence="quarterly", actor="a")
    system.ledger.register_item(PLAN, "A1", kind="action", title="Survey", actor="a")
    system.ledger.record_status(
        PLAN, "A1", period="Q1 2024/25", status="amber", update="Late", mitigation="More staff", actor="jo"
    )

    summary = queries.get_summary(system.projections_db, PLAN, Q1)
    assert [(s["status"], s["count"]) for s in summary["statuses"]] == [
        ("Green", 0),
        ("Amber", 1),
        ("Red", 0),
        ("To be added", 0),
        ("Not yet due", 0),
        ("Complete", 0),
    ]
    assert summary["total"] == 1
    assert queries.get_projection_position(system.projections_db) == system.ledger.get_log_position()


def test_summary_counts_the_status_in_force_in_scale_order(plan: System) -> None:
    summary = queries.get_summary(plan.projections_db, PLAN, Q1)
    # A1.1.10 was corrected from Red to Amber; "Measure not due" is counted as Not yet due.
    assert [(s["status"], s["category"], s["count"]) for s in summary["statuses"]] == [
        ("Green", "green", 2),
        ("Amber", "amber", 2),
        ("Red", "red", 0),
        ("To be added", "unrated", 0),
        ("Not yet due", "unrated", 1),
        ("Complete", "unrated", 0),
    ]
    assert rows(
        plan,
        "SELECT status, count FROM rag_summary WHERE programme = ? AND period = ? ORDER BY status_order",
        (PLAN, Q1),
    ) == [
        {"status": "Green", "count": 2},
        {"status": "Amber", "count": 2},
        {"status": "Not yet due", "count": 1},
    ]


def test_exceptions_are_the_amber_and_red_items_with_update_and_mitigation(plan: System) -> None:
    exceptions = queries.get_exceptions(plan.projections_db, PLAN, Q1)
    assert [(e["ref"], e["status"], e["update"], e["mitigation"], e["lead_officer"]) for e in exceptions] == [
        ("A1.1.1", "Amber", "A1.1.1 Q1 update", "Extra staff in place", "Jo Lead"),
        ("A1.1.10", "Amber", "A1.1.10 Q1 corrected", "Contractor replaced", "Sam Head"),
    ]
    assert [e["ref"] for e in queries.get_exceptions(plan.projections_db, PLAN, Q4)] == ["A1.1.9", "A1.1.10"]


def test_a_correction_or_re_rating_is_a_restatement_and_a_revised_update_is_not(plan: System) -> None:
    history = {
        r["ref"]: r
        for r in rows(plan, "SELECT * FROM status_history WHERE programme = ? AND period = ?", (PLAN, Q1))
    }
    corrected = history["A1.1.10"]
    assert (corrected["status"], corrected["restated"], corrected["restated_reason"]) == (
        "Amber",
        1,
        "Rated against the wrong milestone",
    )
    assert corrected["updates_count"] == 2
    assert corrected["first_recorded_at"] < corrected["recorded_at"] == corrected["restated_at"]
    revised = history["A1.1.2"]
    assert (revised["restated"], revised["updates_count"], revised["update"]) == (
        0,
        2,
        "A1.1.2 longer Q1 update from the covering report",
    )
    plan.ledger.record_status(
        PLAN,
        "A1.1.2",
        period=Q1,
        status="Amber",
        update="Slipped",
        mitigation="Plan B",
        actor="jo.lead",
        reason="Supplier failed",
    )
    re_rated = rows(
        plan,
        "SELECT * FROM status_history WHERE programme = ? AND period = ? AND ref = ?",
        (PLAN, Q1, "A1.1.2"),
    )[0]
    assert (re_rated["status"], re_rated["restated"], re_rated["restated_reason"]) == (
        "Amber",
        1,
        "Supplier failed",
    )


def test_both_texts_of_a_period_stay_visible_in_the_item_history(plan: System) -> None:
    history = queries.get_item_history(plan.projections_db, PLAN, "A1.1.2")
    assert [(h["period"], h["event_type"], h["update"]) for h in history] == [
        (Q4, "recorded", "A1.1.2 Q4 update"),
        (Q1, "recorded", "A1.1.2 Q1 update"),
        (Q1, "recorded", "A1.1.2 longer Q1 update from the covering report"),
    ]
    corrected = queries.get_item_history(plan.projections_db, PLAN, "A1.1.10")[-1]
    assert (corrected["event_type"], corrected["reason"], corrected["corrects_version"]) == (
        "corrected",
        "Rated against the wrong milestone",
        3,
    )


def test_transitions_compare_with_the_period_before_by_rank(plan: System) -> None:
    directions = {
        t["ref"]: (t["previous_status"], t["status"], t["direction"])
        for t in queries.get_transitions(plan.projections_db, PLAN, Q1)
    }
    assert directions == {
        "A1.1.1": ("Green", "Amber", "deteriorated"),
        "A1.1.2": ("Green", "Green", "unchanged"),
        "A1.1.9": ("Amber", "Green", "improved"),
        "A1.1.10": ("Red", "Amber", "improved"),
        "A1.1.11": (None, "Not yet due", "new"),
    }
    assert [t["ref"] for t in queries.get_transitions(plan.projections_db, PLAN, Q1, "deteriorated")] == [
        "A1.1.1"
    ]


def test_an_unrated_status_is_not_comparable_and_a_late_correction_moves_the_next_direction(
    plan: System,
) -> None:
    ledger = plan.ledger
    ledger.record_status(PLAN, "A1.1.11", period=Q2, status="Green", update="Started", actor="ali")
    ledger.record_status(PLAN, "A1.1.9", period=Q2, status="Green", update="Still fine", actor="sam")
    q2 = {t["ref"]: t["direction"] for t in queries.get_transitions(plan.projections_db, PLAN, Q2)}
    assert q2 == {"A1.1.11": "not comparable", "A1.1.9": "unchanged"}
    # Q1 is corrected after Q2 was recorded: Q2's direction follows at once.
    ledger.correct_status(
        PLAN,
        "A1.1.9",
        period=Q1,
        status="Red",
        update="Was off track",
        mitigation="Recovery",
        actor="sam",
        reason="Audit found the milestone missed",
    )
    q2 = {
        t["ref"]: (t["previous_status"], t["direction"])
        for t in queries.get_transitions(plan.projections_db, PLAN, Q2)
    }
    assert q2["A1.1.9"] == ("Red", "improved")


def test_current_status_is_the_latest_period_and_follows_item_changes(plan: System) -> None:
    plan.ledger.retitle_item(PLAN, "A1.1.1", "Residents' survey 2024", actor="perf.team", reason="Renamed")
    plan.ledger.record_status(
        PLAN, "A1.1.9", period=Q2, status="Red", update="Stalled", mitigation="Escalated", actor="sam"
    )
    current = {r["ref"]: r for r in rows(plan, "SELECT * FROM current_status WHERE programme = ?", (PLAN,))}
    assert (current["A1.1.1"]["title"], current["A1.1.1"]["period"], current["A1.1.1"]["status"]) == (
        "Residents' survey 2024",
        Q1,
        "Amber",
    )
    assert (current["A1.1.9"]["period"], current["A1.1.9"]["status"]) == (Q2, "Red")
    # An older period corrected later does not displace the latest one.
    plan.ledger.correct_status(
        PLAN, "A1.1.9", period=Q4, status="Green", update="Fine", actor="sam", reason="Typo"
    )
    assert rows(
        plan, "SELECT period, status FROM current_status WHERE programme = ? AND ref = ?", (PLAN, "A1.1.9")
    ) == [{"period": Q2, "status": "Red"}]
    assert "Aim 1" not in current  # never rated


def test_items_keep_their_hierarchy_and_sort_naturally(plan: System) -> None:
    items = rows(
        plan,
        "SELECT ref, path, depth, child_count, kind FROM items WHERE programme = ? ORDER BY sort_key",
        (PLAN,),
    )
    assert [i["ref"] for i in items] == ["A1.1.1", "A1.1.2", "A1.1.9", "A1.1.10", "A1.1.11", "Aim 1", "P1.1"]
    by_ref = {i["ref"]: i for i in items}
    assert by_ref["A1.1.10"]["path"] == "Aim 1 > P1.1 > A1.1.10"
    assert (by_ref["A1.1.10"]["depth"], by_ref["P1.1"]["child_count"], by_ref["Aim 1"]["child_count"]) == (
        2,
        5,
        1,
    )
    assert natural_sort_key("A1.9") < natural_sort_key("A1.10") < natural_sort_key("A2.1")
    assert natural_sort_key("WS7") < natural_sort_key("WS12")


def test_item_version_is_the_records_current_version_for_seen_version(plan: System) -> None:
    item = queries.get_item(plan.projections_db, PLAN, "A1.1.10")
    assert item is not None
    assert item["version"] == plan.ledger.get_item(PLAN, "A1.1.10")["version"] == 4


def test_periods_carry_a_sortable_start_date(plan: System) -> None:
    assert queries.get_periods(plan.projections_db, PLAN) == [
        {
            "period": Q4,
            "period_start": "2024-01-01",
            "period_end": "2024-03-31",
            "description": "January 2024 to March 2024",
        },
        {
            "period": Q1,
            "period_start": "2024-04-01",
            "period_end": "2024-06-30",
            "description": "April 2024 to June 2024",
        },
    ]


def test_indicators_show_the_change_and_whether_it_is_good(plan: System) -> None:
    values = {(i["ref"], i["breakdown"]): i for i in queries.get_indicators(plan.projections_db, PLAN, Q1)}
    fte = values[("FTE", "")]
    assert (fte["value"], fte["previous_value"], fte["change"], fte["direction"]) == (
        2829.0,
        2869.0,
        -40.0,
        "neutral",
    )
    vacancies = values[("VAC", "")]
    assert (vacancies["value_text"], vacancies["previous_value"], vacancies["direction"]) == (
        "13.05",
        12.16,
        "bad",
    )
    assert vacancies["change"] == pytest.approx(0.89)
    assert values[("VAC", "Place")]["direction"] == "good"
    first = {(i["ref"], i["breakdown"]): i for i in queries.get_indicators(plan.projections_db, PLAN, Q4)}
    assert (first[("FTE", "")]["change"], first[("FTE", "")]["direction"]) == (None, None)


def test_correcting_an_earlier_value_moves_the_next_periods_change(plan: System) -> None:
    plan.ledger.record_indicator_value(PLAN, "VAC", period=Q4, value="14", actor="hr", reason="Wrong extract")
    q4 = {i["ref"]: i for i in queries.get_indicators(plan.projections_db, PLAN, Q4) if not i["breakdown"]}
    assert (q4["VAC"]["value"], q4["VAC"]["restated"], q4["VAC"]["restated_reason"]) == (
        14.0,
        1,
        "Wrong extract",
    )
    q1 = {i["ref"]: i for i in queries.get_indicators(plan.projections_db, PLAN, Q1) if not i["breakdown"]}
    assert (q1["VAC"]["previous_value"], q1["VAC"]["direction"]) == (14.0, "good")
    assert q1["VAC"]["change"] == pytest.approx(-0.95)


def test_risks_issues_and_dependencies(plan: System) -> None:
    ledger = plan.ledger
    ledger.rerate_risk(
        PLAN,
        "R1",
        rag_before="Red",
        mitigation="Savings programme and reserves",
        rag_after="Green",
        period=Q1,
        actor="risk.lead",
        reason="Reserves agreed",
    )
    ledger.close_risk(PLAN, "I1", kind="issue", period=Q1, actor="risk.lead", reason="System restored")
    risks = queries.get_risks(plan.projections_db, PLAN)
    assert [(r["kind"], r["ref"], r["rag_before"], r["rag_after"], r["state"]) for r in risks] == [
        ("risk", "R1", "Red", "Green", "open"),
        ("issue", "I1", "Amber", "", "closed"),
    ]
    assert risks[0]["rag_after_category"] == "green"
    assert [r["ref"] for r in queries.get_risks(plan.projections_db, PLAN, open_only=True)] == ["R1"]
    assert rows(plan, "SELECT ref FROM issues") == [{"ref": "I1"}]
    assert rows(plan, "SELECT ref FROM risks") == [{"ref": "R1"}]
    dependencies = queries.get_dependencies(plan.projections_db, PLAN)
    assert [(d["ref"], d["plan_agreed"], d["confidence"]) for d in dependencies] == [("D1", "yes", "Medium")]


def test_report_sections_are_in_report_order_with_headings(plan: System) -> None:
    plan.ledger.write_narrative(
        PLAN,
        period=Q1,
        section="achievements",
        text="Residents' survey launched; 4,000 responses.",
        actor="perf.team",
    )
    sections = queries.get_sections(plan.projections_db, PLAN, Q1)
    assert [(s["section"], s["heading"], s["revisions"]) for s in sections] == [
        ("achievements", "Recent achievements", 2),
        ("challenges", "Future challenges", 1),
    ]
    assert sections[0]["text"] == "Residents' survey launched; 4,000 responses."


def test_the_audit_log_has_a_row_per_event_with_who_why_and_from_to(plan: System) -> None:
    log = rows(plan, "SELECT * FROM audit_log ORDER BY position")
    assert [r["position"] for r in log] == list(range(1, plan.ledger.get_log_position() + 1))
    correction = next(r for r in log if r["event_type"] == "StatusCorrected")
    assert {
        k: correction[k]
        for k in (
            "actor",
            "programme",
            "subject_ref",
            "aggregate_kind",
            "field",
            "from_value",
            "to_value",
            "reason",
            "period",
        )
    } == {
        "actor": "sam.head",
        "programme": PLAN,
        "subject_ref": "A1.1.10",
        "aggregate_kind": "Item",
        "field": "status",
        "from_value": "Red",
        "to_value": "Amber",
        "reason": "Rated against the wrong milestone",
        "period": Q1,
    }
    assert correction["summary"] == f"corrected to Amber for {Q1}"
    value = next(
        r
        for r in log
        if r["event_type"] == "ValueRecorded" and r["period"] == Q1 and r["subject_ref"] == "FTE"
    )
    assert (value["from_value"], value["to_value"]) == (None, "2829")
    assert all(len(r["chain_head"]) == 64 for r in log)  # the hash-chained event store
    events = sqlite3.connect(plan.data_dir / "events.db")
    heads = dict(events.execute("SELECT position, hex(head) FROM event_chain"))
    events.close()
    assert all(heads[r["position"]].lower() == r["chain_head"] for r in log)


def test_the_item_timeline_reads_the_audit_log(plan: System) -> None:
    plan.ledger.reassign_lead(PLAN, "A1.1.10", "Pat New", actor="perf.team", reason="Restructure")
    timeline = queries.get_item_timeline(plan.projections_db, PLAN, "A1.1.10")
    assert [(t["event_type"], t["field"], t["from_value"], t["to_value"]) for t in timeline] == [
        ("Registered", "title", None, "Customer charter"),
        ("StatusRecorded", "status", None, "Red"),
        ("StatusRecorded", "status", None, "Red"),
        ("StatusCorrected", "status", "Red", "Amber"),
        ("LeadReassigned", "lead_officer", "Sam Head", "Pat New"),
    ]
    assert timeline[-1]["reason"] == "Restructure"
    # Paged as the audit log is: the newest two, then the two before them.
    page = queries.get_item_timeline(plan.projections_db, PLAN, "A1.1.10", limit=2)
    assert [t["event_type"] for t in page] == ["StatusCorrected", "LeadReassigned"]
    older = queries.get_item_timeline(
        plan.projections_db, PLAN, "A1.1.10", limit=2, before=page[0]["position"]
    )
    assert [t["position"] for t in older] == [t["position"] for t in timeline[1:3]]


def test_changes_after_publication_are_listed_against_the_latest_edition(plan: System) -> None:
    ledger = plan.ledger
    published_from = publish_pack(ledger)
    assert queries.get_changed_after_publication(plan.projections_db, PLAN) == []
    ledger.correct_status(
        PLAN,
        "A1.1.1",
        period=Q1,
        status="Red",
        update="Worse than reported",
        mitigation="Escalated",
        actor="jo.lead",
        reason="Late information",
    )
    ledger.record_indicator_value(PLAN, "FTE", period=Q1, value="2830", actor="hr", reason="Late starter")
    ledger.record_status(
        PLAN, "A1.1.1", period=Q2, status="Red", update="Q2", mitigation="Escalated", actor="jo"
    )
    changes = queries.get_changed_after_publication(plan.projections_db, PLAN, Q1)
    assert [(c["subject_ref"], c["event_type"], c["from_value"], c["to_value"]) for c in changes] == [
        ("A1.1.1", "StatusCorrected", "Amber", "Red"),
        ("FTE", "ValueCorrected", "2829", "2830"),
    ]
    assert {c["published_from_position"] for c in changes} == {published_from}
    editions = queries.get_publications(plan.projections_db, PLAN, Q1)
    assert [(e["edition"], e["log_position"]) for e in editions] == [(1, published_from)]
    # Republished with the corrections: nothing is outstanding against edition 2.
    ledger.publish_report(
        PLAN,
        report=PACK,
        period=Q1,
        log_position=ledger.get_log_position(),
        content_sha256="cd" * 32,
        title="ignored",
        actor="perf.team",
        reason="Corrections",
    )
    assert queries.get_changed_after_publication(plan.projections_db, PLAN, Q1) == []
    editions = queries.get_publications(plan.projections_db, PLAN, Q1)
    assert [(e["edition"], e["title"], e["reason"]) for e in editions] == [
        (2, f"Performance report {Q1}", "Corrections"),
        (1, f"Performance report {Q1}", ""),
    ]


def test_accounts_hold_roles_and_programmes_and_never_a_password(system: System) -> None:
    record_plan(system.ledger)
    record_send(system.ledger)
    system.ledger.record_password_set("jo.lead", actor="admin", reason="First sign-in")
    system.ledger.deactivate_account("jo.lead", actor="admin", reason="Left the council")
    assert queries.get_accounts(system.projections_db) == [
        {
            "username": "jo.lead",
            "display_name": "Jo Lead",
            "roles": ["officer", "analyst"],
            "programmes": [SEND],
            "active": False,
            "version": 5,
        }
    ]
    password = rows(system, "SELECT * FROM audit_log WHERE event_type = 'PasswordSet'")[0]
    assert (password["summary"], password["from_value"], password["to_value"], password["reason"]) == (
        "password set",
        None,
        None,
        "First sign-in",
    )
    columns = [
        c for (_, c, *_) in sqlite3.connect(system.projections_db).execute("PRAGMA table_info(accounts)")
    ]
    assert not [c for c in columns if "pass" in c or "hash" in c]


def test_a_five_point_monthly_programme(system: System) -> None:
    record_send(system.ledger)
    summary = queries.get_summary(system.projections_db, SEND, "2026-01")
    assert [(s["status"], s["count"]) for s in summary["statuses"] if s["count"]] == [
        ("Green", 1),
        ("Amber", 1),
        ("Amber/Red", 1),
        ("Complete", 1),
    ]
    directions = {
        t["ref"]: t["direction"] for t in queries.get_transitions(system.projections_db, SEND, "2026-01")
    }
    assert directions == {
        "WS1": "unchanged",
        "WS3": "deteriorated",
        "WS7": "deteriorated",
        "WS12": "not comparable",
    }
    assert [e["ref"] for e in queries.get_exceptions(system.projections_db, SEND, "2026-01")] == [
        "WS3",
        "WS7",
    ]
    grid = queries.get_grid(system.projections_db, SEND)
    assert grid["periods"] == ["2025-12", "2026-01"]
    assert [r["ref"] for r in grid["rows"]] == ["WS1", "WS3", "WS7", "WS12"]
    assert grid["rows"][3]["ratings"]["2026-01"]["status"] == "Complete"


def test_a_scale_change_keeps_old_ratings_as_recorded(system: System) -> None:
    ledger = system.ledger
    ledger.register_programme(PLAN, "Plan", cadence="quarterly", actor="a")
    ledger.register_item(PLAN, "A1", kind="action", title="T", actor="a")
    ledger.record_status(PLAN, "A1", period=Q1, status="Amber", update="u", mitigation="m", actor="a")
    ledger.change_scale(PLAN, FIVE_POINT, actor="admin", reason="Board adopted five points")
    assert [s["status"] for s in queries.get_scale(system.projections_db, PLAN)][:3] == [
        "Green",
        "Amber/Green",
        "Amber",
    ]
    assert rows(system, "SELECT status, rank, status_order FROM status_history") == [
        {"status": "Amber", "rank": 1, "status_order": 1},  # as rated under the RAG scale
    ]
    change = rows(system, "SELECT * FROM audit_log WHERE event_type = 'ScaleChanged'")[0]
    assert change["from_value"].startswith("RAG: Green, Amber, Red")
    assert change["to_value"].startswith("Five-point RAG: Green, Amber/Green")


def test_missing_updates_are_leaf_items_without_a_status_or_an_update(plan: System) -> None:
    plan.ledger.record_status(PLAN, "A1.1.9", period=Q2, status="Green", actor="sam")
    missing = queries.get_missing_updates(plan.projections_db, PLAN, Q2)
    assert [(m["ref"], m["missing"]) for m in missing] == [
        ("A1.1.1", "status and update"),
        ("A1.1.2", "status and update"),
        ("A1.1.9", "update"),
        ("A1.1.10", "status and update"),
        ("A1.1.11", "status and update"),
    ]


def test_search_finds_updates_of_every_version_narratives_and_risks(plan: System) -> None:
    found = queries.search(plan.projections_db, "covering report")
    assert [(f["source"], f["ref"], f["period"]) for f in found] == [("update", "A1.1.2", Q1)]
    assert [(f["source"], f["ref"]) for f in queries.search(plan.projections_db, "social work")] == [
        ("section", "challenges")
    ]
    assert [(f["source"], f["ref"]) for f in queries.search(plan.projections_db, "outage")] == [
        ("issue", "I1")
    ]
    assert queries.search(plan.projections_db, 'contractor "replaced') != []  # punctuation can't break it
    assert queries.search(plan.projections_db, "   ") == []


def test_programmes_list_with_their_latest_period(plan: System) -> None:
    programmes = queries.get_programmes(plan.projections_db)
    assert [(p["programme"], p["cadence"], p["scale_name"], p["latest_period"]) for p in programmes] == [
        (PLAN, "quarterly", "RAG", Q1),
    ]
    detail = queries.get_programme(plan.projections_db, PLAN)
    assert detail is not None and detail["requires_mitigation"] is True
    assert {k: v for k, v in detail.items() if k != "scale"} == programmes[0]
    assert queries.get_programme(plan.projections_db, "no-such-programme") is None
    assert [s["status"] for s in detail["scale"]][-1] == "Complete"
    assert json.loads(
        rows(plan, "SELECT aliases FROM statuses WHERE status = 'Not yet due'")[0]["aliases"]
    ) == ["Measure not due"]


def test_every_domain_event_has_a_handler() -> None:
    from eventsourcing.domain import Aggregate, CanMutateAggregate

    import ledger.domain as domain

    expected = set()
    for aggregate in vars(domain).values():
        if isinstance(aggregate, type) and issubclass(aggregate, Aggregate) and aggregate is not Aggregate:
            for attribute in vars(aggregate).values():
                if (
                    isinstance(attribute, type)
                    and issubclass(attribute, CanMutateAggregate)
                    and attribute.__qualname__.count(".") == 1
                    and attribute.__name__ not in ("Event", "Created")
                ):
                    expected.add(attribute.__qualname__)
    assert expected - set(HANDLERS) == set()


def test_every_read_model_module_is_in_the_one_handler_list() -> None:
    """Handlers register nowhere by being imported: a module left out of MODULES would
    leave its events unhandled, so every module in the package must be listed."""
    import pkgutil

    from projections import handlers

    found = {m.name for m in pkgutil.iter_modules(handlers.__path__)} - {"support"}
    assert found == {m.__name__.rpartition(".")[2] for m in handlers.MODULES}
    assert len(HANDLERS) == sum(len(m.HANDLERS) for m in handlers.MODULES)


def test_an_event_handled_by_two_modules_is_refused() -> None:
    from projections.handlers import build_handlers, items

    with pytest.raises(ValueError, match=r"Item\.Registered is handled twice"):
        build_handlers((items, items))


def test_queries_accept_a_path_a_connection_or_a_sqlite_utils_database(plan: System) -> None:
    import sqlite_utils

    path: Path = plan.projections_db
    conn = sqlite3.connect(path)
    db = sqlite_utils.Database(path)
    try:
        assert (
            queries.get_summary(path, PLAN, Q1)
            == queries.get_summary(conn, PLAN, Q1)
            == queries.get_summary(db, PLAN, Q1)
        )
    finally:
        conn.close()
        db.close()
