"""Publishing: the exact bytes are kept and proved; later changes never alter them and
are listed as changed after publication; tampering is detected."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_reports_support import PLAN, Q1, record_plan

from ledger.errors import ReasonRequired, UnknownRef
from projections.reports import build_report, render_html
from projections.reports import publish as pub
from projections.system import System, open_system


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    with open_system(tmp_path / "data") as opened:
        record_plan(opened.ledger)
        yield opened


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def tamper(path: Path, content: bytes) -> None:
    os.chmod(path, 0o644)
    path.write_bytes(content)


def test_publishing_stores_the_exact_bytes_under_their_hash_and_records_position_and_hash(
    system: System,
) -> None:
    position = system.ledger.get_log_position()
    expected = render_html(build_report(system.projections_db, PLAN, "committee", Q1))

    edition = pub.publish(system, PLAN, "committee", Q1, actor="pm")

    assert (edition.edition, edition.log_position, edition.content_sha256) == (1, position, sha(expected))
    stored = system.data_dir / "publications" / f"{sha(expected)}.html"
    assert stored.read_bytes() == expected
    assert not stat.S_IMODE(stored.stat().st_mode) & 0o222  # written once, read-only
    assert pub.get_published(system, PLAN, "committee", Q1) == expected
    # The read model's publications table agrees with the event store.
    from projections import queries

    [row] = queries.get_publications(system.projections_db, PLAN)
    assert (row["report"], row["period"], row["edition"], row["log_position"], row["content_sha256"]) == (
        "committee",
        Q1,
        1,
        position,
        sha(expected),
    )
    assert row["published_by"] == "pm"


def test_a_report_changed_after_publication_still_gives_the_published_bytes_and_lists_the_change(
    system: System,
) -> None:
    edition = pub.publish(system, PLAN, "committee", Q1, actor="pm")
    published = pub.get_published(system, PLAN, "committee", Q1)

    system.ledger.record_status(
        PLAN,
        "A1.1.1",
        period=Q1,
        status="Red",
        update="The framework was rejected.",
        mitigation="Redraft for December.",
        actor="officer",
        reason="Committee rejected the draft",
    )

    live = render_html(build_report(system.projections_db, PLAN, "committee", Q1))
    assert live != published
    assert b"The framework was rejected." in live and b"The framework was rejected." not in published
    assert pub.get_published(system, PLAN, "committee", Q1) == published  # byte for byte
    assert pub.live_differs(system, edition)
    changes = pub.changed_after_publication(
        system.projections_db, PLAN, "committee", Q1, edition.log_position
    )
    assert [(c["subject_ref"], c["event_type"], c["actor"], c["reason"]) for c in changes] == [
        ("A1.1.1", "StatusRecorded", "officer", "Committee rejected the draft")
    ]
    assert all(c["position"] > edition.log_position for c in changes)


def test_changes_to_other_periods_and_the_publication_itself_are_not_post_publication_changes(
    system: System,
) -> None:
    edition = pub.publish(system, PLAN, "committee", Q1, actor="pm")
    system.ledger.record_status(PLAN, "A1.1.1", period="2024/25 Q2", status="Green", actor="officer")
    assert (
        pub.changed_after_publication(system.projections_db, PLAN, "committee", Q1, edition.log_position)
        == []
    )
    assert not pub.live_differs(system, edition)


def test_a_missing_or_altered_stored_copy_is_rebuilt_from_the_log_and_proved_by_its_hash(
    system: System,
) -> None:
    edition = pub.publish(system, PLAN, "committee", Q1, actor="pm")
    published = pub.get_published(system, PLAN, "committee", Q1)
    system.ledger.record_status(PLAN, "A2.1.2", period=Q1, status="Green", update="Planted.", actor="officer")
    stored = pub.stored_path(system.data_dir, edition.content_sha256)

    altered = published.replace(b"Deliver the savings", b"Deliver the bonuses")
    assert altered != published
    tamper(stored, altered)
    copy = pub.fetch_published(system, PLAN, "committee", Q1)
    assert (copy.source, copy.stored_file_ok, copy.content) == ("rebuilt", False, published)

    stored.unlink()
    copy = pub.fetch_published(system, PLAN, "committee", Q1)
    assert (copy.source, copy.content) == ("rebuilt", published)


def test_a_copy_that_neither_the_file_nor_a_replay_can_prove_is_refused(
    system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    edition = pub.publish(system, PLAN, "committee", Q1, actor="pm")
    tamper(pub.stored_path(system.data_dir, edition.content_sha256), b"<p>Nothing to see</p>")
    # As if the templates had changed since publication: a replay no longer matches either.
    monkeypatch.setattr(pub, "render_html", lambda report: b"<p>A different rendering</p>")

    with pytest.raises(pub.PublicationUnproven, match=r"cannot be proven.*has been altered"):
        pub.get_published(system, PLAN, "committee", Q1)


def test_store_content_never_replaces_an_altered_file(system: System) -> None:
    digest = pub.store_content(system.data_dir, b"<p>published</p>")
    assert pub.store_content(system.data_dir, b"<p>published</p>") == digest  # idempotent
    tamper(pub.stored_path(system.data_dir, digest), b"<p>altered</p>")
    with pytest.raises(pub.PublicationUnproven, match="altered"):
        pub.store_content(system.data_dir, b"<p>published</p>")


def test_republishing_needs_a_reason_and_keeps_every_edition_provable(system: System) -> None:
    first = pub.publish(system, PLAN, "committee", Q1, actor="pm")
    first_bytes = pub.get_published(system, PLAN, "committee", Q1)
    system.ledger.record_status(
        PLAN,
        "A1.2.1",
        period=Q1,
        status="Amber",
        update="Recovering.",
        mitigation="Board review.",
        actor="officer",
        reason="Proposals arrived",
    )
    with pytest.raises(ReasonRequired):
        pub.publish(system, PLAN, "committee", Q1, actor="pm")

    second = pub.publish(
        system, PLAN, "committee", Q1, actor="pm", reason="A1.2.1 re-rated after the meeting"
    )

    assert (second.edition, second.log_position) == (2, system.ledger.get_log_position() - 1)
    assert pub.get_published(system, PLAN, "committee", Q1, edition=1) == first_bytes
    assert pub.get_published(system, PLAN, "committee", Q1) != first_bytes
    # The change shows against edition 1, not against edition 2, which includes it.
    earlier = pub.changed_after_publication(
        system.projections_db, PLAN, "committee", Q1, first.log_position, latest=False
    )
    assert [c["subject_ref"] for c in earlier] == ["A1.2.1"]
    assert (
        pub.changed_after_publication(system.projections_db, PLAN, "committee", Q1, second.log_position) == []
    )


def test_asking_for_an_unpublished_report_or_edition_says_so(system: System) -> None:
    with pytest.raises(UnknownRef, match="has not been published"):
        pub.get_published(system, PLAN, "committee", Q1)
    pub.publish(system, PLAN, "committee", Q1, actor="pm")
    with pytest.raises(UnknownRef, match="no edition 2"):
        pub.get_published(system, PLAN, "committee", Q1, edition=2)
