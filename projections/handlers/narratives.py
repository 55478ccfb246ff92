"""Report narratives: the report_sections table."""

from __future__ import annotations

from ledger.domain import NARRATIVE_SECTIONS
from projections.handlers.support import (
    Event,
    calendar_of,
    find_programme,
    find_subject,
    note_period,
    period_info,
    programme_of,
    subject_row,
)
from projections.state import Change, Handler, State

_SECTION_ORDER = {key: i for i, key in enumerate(NARRATIVE_SECTIONS)}


def narrative_started(e: Event, state: State) -> Change:
    programme = programme_of(state, e.programme_id)
    slug = programme["programme"]
    period = note_period(state, programme, e.period)
    state.put("subjects", subject_row(e, "Narrative", slug, period.label, period=period.label))
    return Change(slug, period.label, f"started the report narrative for {period.label}", period=period.label)


def narrative_section_written(e: Event, state: State) -> Change:
    subject = find_subject(state, state.aggregate_id)
    slug = subject["programme"]
    period = period_info(subject["period"], calendar_of(find_programme(state, slug)))
    old = state.get("report_sections", slug, period.label, e.section)
    at = state.recorded_at
    state.put(
        "report_sections",
        {
            "programme": slug,
            "period": period.label,
            "period_start": period.start,
            "section": e.section,
            "heading": NARRATIVE_SECTIONS.get(e.section, e.section),
            "section_order": _SECTION_ORDER.get(e.section, len(_SECTION_ORDER)),
            "text": e.text,
            "written_by": e.actor,
            "written_at": at,
            "first_written_at": old["first_written_at"] if old else at,
            "revisions": old["revisions"] + 1 if old else 1,
            "version": e.originator_version,
            "position": state.position,
        },
    )
    heading = NARRATIVE_SECTIONS.get(e.section, e.section)
    return Change(
        slug, period.label, f"wrote {heading}", e.section, old["text"] if old else None, e.text, period.label
    )


HANDLERS: dict[str, Handler] = {
    "Narrative.Started": narrative_started,
    "Narrative.SectionWritten": narrative_section_written,
}
