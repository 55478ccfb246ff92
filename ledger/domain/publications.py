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
    ) -> None:
        self.programme_id = programme_id
        self.report = report
        self.period = period
        self.editions: list[dict[str, Any]] = [
            {"log_position": log_position, "content_sha256": content_sha256, "version": 1}
        ]
        self.title = title

    def republish(self, *, log_position: int, content_sha256: str, actor: str, reason: str) -> None:
        reason = require_reason(reason, "why the report is published again")
        self._republished(
            log_position=log_position, content_sha256=content_sha256, actor=actor, reason=reason
        )

    @event("Republished")
    def _republished(self, log_position: int, content_sha256: str, actor: str, reason: str) -> None:
        self.editions.append(
            {"log_position": log_position, "content_sha256": content_sha256, "version": self.version + 1}
        )

    def record_review(
        self, *, approvals: list[dict[str, str]], unapproved: list[str], actor: str, override_reason: str
    ) -> None:
        """What the edition just published relied on: each approval (ref, hash, approver)
        and, when some items were not approved, the publisher's override and its reason."""
        if unapproved:
            override_reason = require_reason(
                override_reason, "why the report is published with updates not approved"
            )
        self._review_checked(
            edition=len(self.editions),
            approvals=approvals,
            unapproved=list(unapproved),
            actor=actor,
            reason=(override_reason or "").strip() if unapproved else "",
        )

    @event("ReviewChecked")
    def _review_checked(
        self, edition: int, approvals: list[dict[str, str]], unapproved: list[str], actor: str, reason: str
    ) -> None:
        self.editions[edition - 1]["review"] = {
            "approvals": approvals,
            "unapproved": unapproved,
            "override_reason": reason,
        }
