"""Report narratives: one programme's sections of text for one period."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from ledger.domain.base import LedgerAggregate, natural_id
from ledger.errors import InvalidValue

# Report narrative sections, in report order, with the headings the seed reports use.
NARRATIVE_SECTIONS: dict[str, str] = {
    "summary": "Summary",
    "achievements": "Recent achievements",
    "current_activity": "Current activity",
    "accomplished": "Accomplished against plan since the last report",
    "not_accomplished": "Not accomplished against plan since the last report, and why",
    "planned_next": "Planned deliverables for next period",
    "challenges": "Future challenges",
    "partnership_issues": "Issues for the wider partnership",
}


class Narrative(LedgerAggregate):
    """One programme's report narrative for one period: achievements, challenges..."""

    @staticmethod
    def create_id(programme_id: UUID, period: str) -> UUID:
        return natural_id("narrative", programme_id, period)

    @event("Started")
    def __init__(self, programme_id: UUID, period: str, actor: str, reason: str) -> None:
        self.programme_id = programme_id
        self.period = period
        self.sections: dict[str, str] = {}

    def write(self, *, section: str, text: str, actor: str, reason: str = "") -> bool:
        if section not in NARRATIVE_SECTIONS:
            raise InvalidValue(
                f"{section!r} is not a report section: use one of {', '.join(NARRATIVE_SECTIONS)}.",
                field="section",
            )
        text = (text or "").strip()
        if self.sections.get(section, "") == text:
            return False
        self._section_written(section=section, text=text, actor=actor, reason=(reason or "").strip())
        return True

    @event("SectionWritten")
    def _section_written(self, section: str, text: str, actor: str, reason: str) -> None:
        self.sections[section] = text
