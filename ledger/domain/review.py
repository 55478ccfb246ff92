"""Review of an item's update for a period: submitted, then approved or returned.

Decision: saving an update on the web *is* submitting it (one Save, as officers have
always had); an officer submits separately only what was recorded some other way (an
import) or resubmits unchanged content after a return. Content recorded but never
submitted is a *draft* (no Review yet).

An approval records the SHA-256 of exactly the content approved, in one canonical
encoding (`content_sha256`), so a later change can never pass as approved: the ledger
records the approval as superseded the moment the content differs.
"""

from __future__ import annotations

import hashlib
import json
from uuid import UUID

from eventsourcing.domain import event

from ledger.domain.base import LedgerAggregate, natural_id, required_text
from ledger.errors import LedgerError, ReasonRequired

SUBMITTED, APPROVED, RETURNED, SUPERSEDED = "submitted", "approved", "returned", "superseded"
DRAFT = "draft"  # recorded, never submitted: no Review exists
REVIEW_STATES = (DRAFT, SUBMITTED, APPROVED, RETURNED, SUPERSEDED)


class ReviewRefused(LedgerError):
    """A review step that the rules do not allow (wrong state, own update, not a reviewer)."""


def content_sha256(status: str, update: str, mitigation: str) -> str:
    """The one canonical encoding of an update's content, hashed: UTF-8 JSON of exactly
    the stored status, update and mitigation, keys sorted, no spaces."""
    canonical = json.dumps(
        {"mitigation": mitigation, "status": status, "update": update},
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Review(LedgerAggregate):
    """The review of one item's update for one period. Created by its first submission."""

    @staticmethod
    def create_id(programme_id: UUID, ref: str, period: str) -> UUID:
        return natural_id("review", programme_id, ref, period)

    @event("Submitted")
    def __init__(
        self, programme_id: UUID, ref: str, period: str, content_sha256: str, actor: str, reason: str
    ) -> None:
        self.programme_id = programme_id
        self.ref = ref
        self.period = period
        self._submitted_as(content_sha256, actor)
        self.approved_sha256 = ""
        self.approved_by = ""

    def _submitted_as(self, digest: str, actor: str) -> None:
        self.state = SUBMITTED
        self.content_sha256 = digest
        self.submitted_by = actor

    def resubmit(self, digest: str, *, actor: str, reason: str = "") -> bool:
        """Submit again (after a return, a superseded approval, or a changed draft).
        Returns False when this exact content is already submitted or approved."""
        if self.state in (SUBMITTED, APPROVED) and digest == self.content_sha256:
            return False
        self._resubmitted(content_sha256=digest, actor=actor, reason=(reason or "").strip())
        return True

    @event("Resubmitted")
    def _resubmitted(self, content_sha256: str, actor: str, reason: str) -> None:
        self._submitted_as(content_sha256, actor)

    def _check_reviewable(self, actor: str, authors: set[str], verb: str) -> None:
        if self.state != SUBMITTED:
            raise ReviewRefused(
                f"{self.ref}'s update for {self.period} is {self.state}, not submitted: "
                f"there is nothing to {verb}."
            )
        if actor in authors:
            raise ReviewRefused(
                f"You wrote or submitted {self.ref}'s update for {self.period}, so you can't "
                f"{verb} it: another reviewer of the programme must."
            )

    def approve(self, digest: str, *, actor: str, authors: set[str], comment: str = "") -> None:
        """Approve the content as stored now (`digest`); nobody approves their own update."""
        self._check_reviewable(actor, authors, "approve")
        self._approved(content_sha256=digest, actor=actor, reason=(comment or "").strip())

    @event("Approved")
    def _approved(self, content_sha256: str, actor: str, reason: str) -> None:
        self.state = APPROVED
        self.content_sha256 = self.approved_sha256 = content_sha256
        self.approved_by = actor

    def return_(self, comment: str, *, actor: str, authors: set[str]) -> None:
        """Send the update back to its officer; the reviewer's comment is required."""
        self._check_reviewable(actor, authors, "return")
        comment = required_text(
            comment,
            f"Give a comment: say what {self.ref}'s update for {self.period} needs before it "
            "can be approved.",
            "comment",
            ReasonRequired,
        )
        self._returned(actor=actor, reason=comment)

    @event("Returned")
    def _returned(self, actor: str, reason: str) -> None:
        self.state = RETURNED

    def supersede_if_changed(self, digest: str, *, actor: str) -> bool:
        """Mark an approval superseded when the content no longer hashes as approved."""
        if self.state != APPROVED or digest == self.approved_sha256:
            return False
        self._superseded(content_sha256=digest, actor=actor, reason="")
        return True

    @event("Superseded")
    def _superseded(self, content_sha256: str, actor: str, reason: str) -> None:
        self.state = SUPERSEDED
        self.content_sha256 = content_sha256
