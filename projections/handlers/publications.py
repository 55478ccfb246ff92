"""Published reports, edition by edition: the publications table."""

from __future__ import annotations

from typing import Any

from projections.handlers.support import (
    Event,
    PeriodInfo,
    calendar_of,
    find_programme,
    find_subject,
    json_text,
    note_period,
    period_info,
    programme_of,
    subject_row,
)
from projections.state import Change, Handler, Row, State


def publication_published(e: Event, state: State) -> Change:
    programme = programme_of(state, e.programme_id)
    slug = programme["programme"]
    period = note_period(state, programme, e.period)
    state.put("subjects", subject_row(e, "Publication", slug, e.report, period=period.label))
    _put_edition(e, state, slug, e.report, period, e.title)
    return Change(
        slug,
        e.report,
        f"published {e.title} (built from log position {e.log_position})",
        "content_sha256",
        None,
        e.content_sha256,
        period.label,
    )


def publication_republished(e: Event, state: State) -> Change:
    subject = find_subject(state, state.aggregate_id)
    slug, report = subject["programme"], subject["ref"]
    period = period_info(subject["period"], calendar_of(find_programme(state, slug)))
    before = state.get("publications", slug, report, period.label, e.originator_version - 1)
    if before is None:
        raise LookupError(f"No earlier edition of {report} for {period.label} in the read model")
    _put_edition(e, state, slug, report, period, before["title"])
    return Change(
        slug,
        report,
        f"republished {before['title']} (built from log position {e.log_position})",
        "content_sha256",
        before["content_sha256"],
        e.content_sha256,
        period.label,
    )


def _put_edition(e: Event, state: State, slug: str, report: str, period: PeriodInfo, title: str) -> None:
    state.put(
        "publications",
        {
            "programme": slug,
            "report": report,
            "period": period.label,
            "period_start": period.start,
            # A publication's only events are its editions, so its version is the edition.
            "edition": e.originator_version,
            "title": title,
            "log_position": e.log_position,
            "content_sha256": e.content_sha256,
            # The other formats' hashes; absent from editions published before they were kept.
            "docx_sha256": (getattr(e, "documents", None) or {}).get("docx", ""),
            "csv_sha256": (getattr(e, "documents", None) or {}).get("csv", ""),
            "published_at": state.recorded_at,
            "published_by": e.actor,
            "reason": e.reason,
            **_review_columns(getattr(e, "review", None)),
            "version": e.originator_version,
            "position": state.position,
        },
    )


def _review_columns(review: dict[str, Any] | None) -> Row:
    """What the edition relied on; editions from before review existed carry none."""
    if review is None:
        return {
            "review_checked": 0,
            "approved_items": 0,
            "approvals": "[]",
            "not_approved": "",
            "override_reason": "",
        }
    return {
        "review_checked": 1,
        "approved_items": len(review["approvals"]),
        "approvals": json_text(review["approvals"]),
        "not_approved": ", ".join(review["unapproved"]),
        "override_reason": review["override_reason"],
    }


HANDLERS: dict[str, Handler] = {
    "Publication.Published": publication_published,
    "Publication.Republished": publication_republished,
}
