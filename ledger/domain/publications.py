"""Publications: what a published report was built from, edition by edition."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger.domain.base import LedgerAggregate, natural_id, require_reason


class Publication(LedgerAggregate):
    """A report as published: the log position it was built from and a hash of its content.

    Republishing is a new event with a reason; the earlier version stays provable."""

    @staticmethod
    def create_id(programme_id: UUID, report: str, period: str) -> UUID:
        return natural_id("publication", programme_id, report, period)

    @event("Published")
    def __init__(
        self,
        programme_id: UUID,
        report: str,
        period: str,
        log_position: int,
        content_sha256: str,
        title: str,
        actor: str,
        reason: str,
        review: dict[str, Any] | None = None,
        documents: dict[str, str] | None = None,
    ) -> None:
        self.programme_id = programme_id
        self.report = report
        self.period = period
        self.editions: list[dict[str, Any]] = [_edition(log_position, content_sha256, 1, review, documents)]
        self.title = title

    def republish(
        self,
        *,
        log_position: int,
        content_sha256: str,
        actor: str,
        reason: str,
        review: dict[str, Any] | None = None,
        documents: dict[str, str] | None = None,
    ) -> None:
        reason = require_reason(reason, "why the report is published again")
        self._republished(
            log_position=log_position,
            content_sha256=content_sha256,
            actor=actor,
            reason=reason,
            review=review,
            documents=documents,
        )

    # `review` is absent from editions published before review existed, and `documents`
    # (the SHA-256 of each other format published with the HTML, such as "csv" or
    # "docx") from those published before other formats were kept: None when read.
    @event("Republished")
    def _republished(
        self,
        log_position: int,
        content_sha256: str,
        actor: str,
        reason: str,
        review: dict[str, Any] | None = None,
        documents: dict[str, str] | None = None,
    ) -> None:
        self.editions.append(_edition(log_position, content_sha256, self.version + 1, review, documents))


def review_relied_on(
    approvals: list[dict[str, str]], unapproved: list[str], override_reason: str
) -> dict[str, Any]:
    """What an edition relied on: each approval (ref, content hash, approver) and, when some
    items were not approved, the refs and the publisher's reason for publishing anyway."""
    override = (override_reason or "").strip()
    if unapproved:
        override = require_reason(override, "why the report is published with updates not approved")
    return {
        "approvals": approvals,
        "unapproved": list(unapproved),
        "override_reason": override if unapproved else "",
    }


def _edition(
    log_position: int,
    content_sha256: str,
    version: int,
    review: dict[str, Any] | None,
    documents: dict[str, str] | None = None,
) -> dict[str, Any]:
    edition = {"log_position": log_position, "content_sha256": content_sha256, "version": version}
    if review is not None:
        edition["review"] = review
    if documents:
        edition["documents"] = dict(sorted(documents.items()))
    return edition
