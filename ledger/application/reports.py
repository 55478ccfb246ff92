"""Commands on a report: write its narrative for a period, record its publication."""

from __future__ import annotations

from uuid import UUID

from ledger.application.batch import Batch, LedgerBase
from ledger.application.review import ReviewIncomplete, report_review
from ledger.domain import Narrative, Publication
from ledger.domain.publications import review_relied_on


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
        refs: list[str] | None = None,
        override_reason: str = "",
        documents: dict[str, str] | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        """Record that a report was published, built from the log up to `log_position`.

        Given the report's item `refs`, in a period opened for updates (the reporting
        cycle), every one must be approved as it stands, or the publisher gives
        `override_reason`; the edition records the approvals it relied on (with their
        hashes) and any override. Periods never opened (history imported from earlier
        reports, which nobody reviewed in the ledger) publish as before. `documents`
        names the SHA-256 of each other format published with it ("csv", "docx")."""
        with self._changes(batch) as b:
            owner = b.programme(programme)
            label = owner.parse_period(period).label
            review = None
            checked = report_review(b, owner, label, refs)
            if checked is not None:
                approvals, unapproved = checked
                if unapproved and not (override_reason or "").strip():
                    raise ReviewIncomplete(
                        f"{len(unapproved)} item(s) in the report are not approved for {label}: "
                        f"{', '.join(unapproved)}. Have them reviewed, or give a reason to publish anyway.",
                        field="override_reason",
                    )
                review = review_relied_on(approvals, unapproved, override_reason)
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
                        review=review,
                        documents=documents,
                    )
                )
            else:
                publication.republish(
                    log_position=log_position,
                    content_sha256=content_sha256,
                    actor=actor,
                    reason=reason,
                    review=review,
                    documents=documents,
                )
        return publication.id
