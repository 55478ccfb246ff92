"""Commands on a report: write its narrative for a period, record its publication."""

from __future__ import annotations

from uuid import UUID

from ledger.application.batch import Batch, LedgerBase
from ledger.domain import Narrative, Publication


class ReportCommands(LedgerBase):
    def write_narrative(
        self,
        programme: str,
        *,
        period: str,
        section: str,
        text: str,
        actor: str,
        reason: str = "",
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        with self._changes(batch) as b:
            owner = b.programme(programme)
            label = owner.parse_period(period).label
            narrative = b.find(Narrative, Narrative.create_id(owner.id, label))
            if narrative is None and not (text or "").strip():
                return Narrative.create_id(owner.id, label)  # nothing written, nothing to record
            if narrative is None:
                narrative = b.add(Narrative(programme_id=owner.id, period=label, actor=actor, reason=""))
            self._check_seen(narrative, seen_version)
            narrative.write(section=section, text=text, actor=actor, reason=reason)
        return narrative.id

    # ---------------------------------------------------------------- publication

    def publish_report(
        self,
        programme: str,
        *,
        report: str,
        period: str,
        log_position: int,
        content_sha256: str,
        title: str,
        actor: str,
        reason: str = "",
        batch: Batch | None = None,
    ) -> UUID:
        """Record that a report was published, built from the log up to `log_position`."""
        with self._changes(batch) as b:
            owner = b.programme(programme)
            label = owner.parse_period(period).label
            publication = b.find(Publication, Publication.create_id(owner.id, report, label))
            if publication is None:
                publication = b.add(
                    Publication(
                        programme_id=owner.id,
                        report=report,
                        period=label,
                        log_position=log_position,
                        content_sha256=content_sha256,
                        title=title,
                        actor=actor,
                        reason=(reason or "").strip(),
                    )
                )
            else:
                publication.republish(
                    log_position=log_position, content_sha256=content_sha256, actor=actor, reason=reason
                )
        return publication.id
