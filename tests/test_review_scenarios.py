"""Review on the write side (issue 12, items 4 and 5): an update submitted, returned with
a comment, resubmitted and approved with the SHA-256 of exactly what was approved; a later
change supersedes the approval; publication relies on approvals or records an override."""

from __future__ import annotations

import hashlib

import pytest

from ledger.application import Ledger
from ledger.application.review import ReviewIncomplete
from ledger.domain import Publication, Review, ReviewRefused, content_sha256
from ledger.errors import ReasonRequired

PLAN = "plan"
Q1 = "2024/25 Q1"


@pytest.fixture
def plan(ledger: Ledger) -> Ledger:
    ledger.register_programme(PLAN, "Council Plan", cadence="quarterly", actor="admin")
    for ref in ("A1", "A2"):
        ledger.register_item(PLAN, ref, kind="action", title=f"Action {ref}", actor="admin")
    ledger.open_account("owen", display_name="Owen Officer", role="officer", actor="admin")
    for manager in ("pat", "max"):
        ledger.open_account(manager, display_name=manager.title(), role="programme manager", actor="admin")
        ledger.assign_programme(manager, PLAN, actor="admin", reason="manages the plan")
    ledger.open_account("una", display_name="Una", role="programme manager", actor="admin")  # not the plan's
    ledger.open_period(PLAN, Q1, due_date="2024-07-15", actor="pat")
    return ledger


def events(ledger: Ledger, ref: str = "A1") -> list[object]:
    review = ledger.get_review(PLAN, ref, Q1)
    assert review is not None
    with ledger.batch() as b:
        owner = b.programme(PLAN)
    return list(ledger.events.get(Review.create_id(owner.id, ref, Q1)))


def save(ledger: Ledger, update: str, status: str = "Green", actor: str = "owen", reason: str = "") -> None:
    ledger.save_update(PLAN, "A1", period=Q1, status=status, update=update, actor=actor, reason=reason)


def test_the_canonical_encoding_is_sorted_compact_utf8_json() -> None:
    expected = hashlib.sha256(
        '{"mitigation":"","status":"Amber","update":"Café – late"}'.encode()
    ).hexdigest()
    assert content_sha256("Amber", "Café – late", "") == expected
    assert content_sha256("Amber", "x", "") != content_sha256("Amber", "x ", "")


def test_saving_submits_returned_needs_a_comment_resubmit_then_approve_records_the_hash(plan: Ledger) -> None:
    save(plan, "On track")
    assert plan.get_review(PLAN, "A1", Q1)["state"] == "submitted"  # type: ignore[index]
    with pytest.raises(ReasonRequired, match="Give a comment"):
        plan.return_update(PLAN, "A1", period=Q1, comment="  ", actor="pat")
    plan.return_update(PLAN, "A1", period=Q1, comment="Say which roads", actor="pat")
    assert plan.get_review(PLAN, "A1", Q1)["state"] == "returned"  # type: ignore[index]
    with pytest.raises(ReviewRefused, match="returned, not submitted"):
        plan.approve_update(PLAN, "A1", period=Q1, actor="pat")
    save(plan, "On track: A51 and A54 resurfaced")
    plan.approve_update(PLAN, "A1", period=Q1, actor="pat", comment="Thanks")
    review = plan.get_review(PLAN, "A1", Q1)
    assert review is not None and review["state"] == "approved"
    assert review["approved_sha256"] == content_sha256("Green", "On track: A51 and A54 resurfaced", "")
    assert [type(e).__name__ for e in events(plan)] == ["Submitted", "Returned", "Resubmitted", "Approved"]
    returned, approved = events(plan)[1], events(plan)[3]
    assert (returned.actor, returned.reason) == ("pat", "Say which roads")  # type: ignore[attr-defined]
    assert (approved.actor, approved.content_sha256) == ("pat", review["approved_sha256"])  # type: ignore[attr-defined]


def test_a_change_after_approval_supersedes_it_in_the_same_save(plan: Ledger) -> None:
    save(plan, "On track")
    plan.approve_update(PLAN, "A1", period=Q1, actor="pat")
    # Any path that changes the content: here a correction by someone else.
    plan.correct_status(PLAN, "A1", period=Q1, status="Green", update="Slipping", actor="max", reason="typo")
    review = plan.get_review(PLAN, "A1", Q1)
    assert review is not None and review["state"] == "superseded"
    assert review["content_sha256"] == content_sha256("Green", "Slipping", "")
    assert review["approved_sha256"] == content_sha256("Green", "On track", "")
    superseded = events(plan)[-1]
    assert type(superseded).__name__ == "Superseded" and superseded.actor == "max"  # type: ignore[attr-defined]
    # Saving the same content again changes nothing; the officer resubmits by saving.
    save(plan, "Slipping")
    assert plan.get_review(PLAN, "A1", Q1)["state"] == "submitted"  # type: ignore[index]


def test_nobody_approves_their_own_update_and_only_the_programmes_managers_review(plan: Ledger) -> None:
    save(plan, "Done", actor="pat")
    with pytest.raises(ReviewRefused, match="you can't approve it"):
        plan.approve_update(PLAN, "A1", period=Q1, actor="pat")
    for outsider in ("una", "owen"):
        with pytest.raises(ReviewRefused, match="Only a programme manager of Council Plan"):
            plan.approve_update(PLAN, "A1", period=Q1, actor=outsider)
    assert plan.get_review(PLAN, "A1", Q1)["state"] == "submitted"  # type: ignore[index]
    plan.approve_update(PLAN, "A1", period=Q1, actor="max")
    assert plan.get_review(PLAN, "A1", Q1)["state"] == "approved"  # type: ignore[index]


def publish(plan: Ledger, override: str = "", position: int = 1) -> None:
    plan.publish_report(
        PLAN,
        report="committee",
        period=Q1,
        log_position=position,
        content_sha256="ab" * 32,
        title="Q1",
        actor="pat",
        refs=["A1", "A2"],
        override_reason=override,
        reason="again" if position > 1 else "",
    )


def test_publishing_is_blocked_until_approved_or_overridden_with_a_reason(plan: Ledger) -> None:
    save(plan, "Done")
    plan.approve_update(PLAN, "A1", period=Q1, actor="pat")
    with pytest.raises(ReviewIncomplete, match=r"1 item.*A2"):
        publish(plan)
    assert plan.get_publication(PLAN, "committee", Q1) is None  # nothing partial
    publish(plan, override="A2 lead on leave; committee meets today")
    edition = plan.get_publication(PLAN, "committee", Q1)["editions"][0]  # type: ignore[index]
    assert edition["review"] == {
        "approvals": [{"ref": "A1", "content_sha256": content_sha256("Green", "Done", ""), "by": "pat"}],
        "unapproved": ["A2"],
        "override_reason": "A2 lead on leave; committee meets today",
    }
    published = list(plan.events.get(edition_id(plan)))[-1]
    assert isinstance(published, Publication.Published) and published.review == edition["review"]


def test_an_all_approved_report_publishes_without_override_and_lists_its_approvals(plan: Ledger) -> None:
    for ref in ("A1", "A2"):
        plan.save_update(PLAN, ref, period=Q1, status="Green", update=f"{ref} done", actor="owen")
        plan.approve_update(PLAN, ref, period=Q1, actor="max")
    publish(plan)
    review = plan.get_publication(PLAN, "committee", Q1)["editions"][0]["review"]  # type: ignore[index]
    assert [a["ref"] for a in review["approvals"]] == ["A1", "A2"]
    assert (review["unapproved"], review["override_reason"]) == ([], "")
    # A superseded approval blocks the next edition again.
    plan.record_status(PLAN, "A2", period=Q1, status="Green", update="A2 done, mostly", actor="owen")
    with pytest.raises(ReviewIncomplete, match="A2"):
        publish(plan, position=2)


def edition_id(plan: Ledger) -> object:
    return plan.get_publication(PLAN, "committee", Q1)["id"]  # type: ignore[index]


def test_a_period_never_opened_publishes_as_before_without_a_review_check(ledger: Ledger) -> None:
    ledger.register_programme(PLAN, "Council Plan", cadence="quarterly", actor="admin")
    ledger.register_item(PLAN, "A1", kind="action", title="Roads", actor="admin")
    ledger.record_status(PLAN, "A1", period=Q1, status="Green", update="Imported", actor="import")
    publish(ledger)
    assert "review" not in ledger.get_publication(PLAN, "committee", Q1)["editions"][0]  # type: ignore[index]
