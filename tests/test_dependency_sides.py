"""Dependencies agreed by both sides (issue 12, item 6): a dependency names a provider and
a receiver; each side confirms whether a jointly agreed plan is in place and its
confidence, as events with who and when; the register says where the sides stand."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from govledger.system import open_system
from ledger.errors import InvalidInput, InvalidValue, LedgerError
from projections.system import System

Q1, Q2 = "2024/25 Q1", "2024/25 Q2"


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    system = open_system(tmp_path)
    ledger = system.ledger
    ledger.register_programme("send", "SEND inclusion", cadence="quarterly", actor="setup")
    ledger.register_programme("schools", "School places", cadence="quarterly", actor="setup")
    ledger.register_dependency(
        "send", "D1", description="Places in special schools", period=Q1, actor="setup"
    )
    yield system
    system.close()


def sides(system: System) -> dict[str, object]:
    with sqlite3.connect(system.projections_db) as db:
        db.row_factory = sqlite3.Row
        row = db.execute("select * from dependency_sides where programme = 'send' and ref = 'D1'").fetchone()
    return dict(row) if row else {}


def confirm(system: System, side: str, plan: str, confidence: str, actor: str, period: str = Q1) -> None:
    system.ledger.confirm_dependency_side(
        "send", "D1", side=side, plan_agreed=plan, confidence=confidence, period=period, actor=actor
    )


def test_sides_are_a_programme_by_its_slug_or_a_team_by_name(system: System) -> None:
    system.ledger.name_dependency_sides("send", "D1", provider="SCHOOLS", receiver="Send", actor="pm")
    row = sides(system)
    assert (row["provider"], row["provider_kind"], row["receiver"], row["receiver_kind"]) == (
        "schools",
        "programme",
        "send",
        "programme",
    )
    assert row["agreement"] == "awaiting both sides"
    system.ledger.name_dependency_sides(
        "send", "D1", provider="Home to school transport", receiver="send", actor="pm"
    )
    assert (sides(system)["provider"], sides(system)["provider_kind"]) == ("Home to school transport", "team")


def test_both_sides_confirming_the_same_agree(system: System) -> None:
    system.ledger.name_dependency_sides("send", "D1", provider="schools", receiver="send", actor="pm")
    confirm(system, "provider", "yes", "High", "sam")
    assert sides(system)["agreement"] == "awaiting the receiver"
    confirm(system, "receiver", "yes", "high", "jo")
    row = sides(system)
    assert row["agreement"] == "sides agree"
    assert row["agreement_text"] == "Both sides say a jointly agreed plan is in place, confidence High."
    assert (row["provider_confirmed_by"], row["receiver_confirmed_by"]) == ("sam", "jo")
    assert row["provider_confirmed_at"] and row["receiver_confirmed_at"]


def test_a_disagreement_says_what_each_side_says(system: System) -> None:
    system.ledger.name_dependency_sides("send", "D1", provider="schools", receiver="send", actor="pm")
    confirm(system, "provider", "yes", "High", "sam")
    confirm(system, "receiver", "no", "Low", "jo", period=Q2)
    row = sides(system)
    assert row["agreement"] == "sides disagree"
    assert row["agreement_text"] == (
        "The sides disagree on the plan: the provider (School places) says a plan is agreed, the receiver "
        "(SEND inclusion) says no plan is agreed; and on confidence: High for the provider, Low for the "
        "receiver."
    )
    assert (row["receiver_plan_agreed"], row["receiver_confidence"], row["receiver_period"]) == (
        "no",
        "Low",
        Q2,
    )


def test_each_confirmation_is_an_event_with_who_and_when(system: System) -> None:
    system.ledger.name_dependency_sides("send", "D1", provider="schools", receiver="send", actor="pm")
    confirm(system, "provider", "yes", "Medium", "sam")
    confirm(system, "provider", "yes", "Medium", "sam")  # said already: nothing new
    with sqlite3.connect(system.projections_db) as db:
        trail = db.execute(
            "select actor, event_type, summary from audit_log where subject_ref = 'D1' order by position"
        ).fetchall()
    assert trail[-2:] == [
        ("pm", "SidesNamed", "sides named: schools provides, send receives"),
        (
            "sam",
            "SideConfirmed",
            f"provider (schools) confirmed: plan agreed, confidence Medium for {Q1}",
        ),
    ]
    stored = system.ledger.get_dependency_sides("send", "D1")
    assert stored["provider"] == {"party": "schools", "kind": "programme", "view": ("yes", "Medium", Q1)}


def test_a_new_party_on_a_side_must_confirm_again(system: System) -> None:
    system.ledger.name_dependency_sides("send", "D1", provider="schools", receiver="send", actor="pm")
    confirm(system, "provider", "yes", "High", "sam")
    confirm(system, "receiver", "yes", "High", "jo")
    system.ledger.name_dependency_sides("send", "D1", provider="Transport team", receiver="send", actor="pm")
    row = sides(system)
    assert (row["agreement"], row["provider_plan_agreed"], row["receiver_plan_agreed"]) == (
        "awaiting the provider",
        "",
        "yes",
    )


@pytest.mark.parametrize(
    ("command", "fields"),
    [
        (
            lambda L: L.confirm_dependency_side(
                "send", "D1", side="provider", plan_agreed="yes", confidence="High", period=Q1, actor="sam"
            ),
            {"side"},
        ),
        (
            lambda L: L.name_dependency_sides("send", "D1", provider="send", receiver=" SEND ", actor="pm"),
            {"receiver"},
        ),
        (
            lambda L: L.name_dependency_sides("send", "D1", provider="", receiver="  ", actor="pm"),
            {"provider", "receiver"},
        ),
        (lambda L: L.name_dependency_sides("send", "D9", provider="a", receiver="b", actor="pm"), {"ref"}),
    ],
)
def test_bad_sides_are_refused_and_nothing_is_recorded(system: System, command, fields: set[str]) -> None:
    before = system.ledger.get_log_position()
    with pytest.raises(LedgerError) as refused:
        command(system.ledger)
    problems = refused.value.problems if isinstance(refused.value, InvalidInput) else [refused.value]
    assert {p.field for p in problems} == fields
    assert system.ledger.get_log_position() == before
    assert sides(system) == {}


def test_a_confirmation_needs_a_plan_a_confidence_and_a_period_all_said_at_once(system: System) -> None:
    system.ledger.name_dependency_sides("send", "D1", provider="schools", receiver="send", actor="pm")
    before = system.ledger.get_log_position()
    with pytest.raises(InvalidInput) as refused:
        confirm(system, "provider", "", "Sure", "sam", period="Q9")
    assert {p.field for p in refused.value.problems} == {"plan_agreed", "confidence", "period"}
    with pytest.raises(InvalidValue, match="not a side"):
        confirm(system, "supplier", "yes", "High", "sam")
    assert system.ledger.get_log_position() == before
    assert sides(system)["agreement"] == "awaiting both sides"
