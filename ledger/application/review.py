"""Commands of review: an item's update for a period submitted, approved or returned, and
the approvals a publication relies on.

Who reviews: a programme manager assigned to the programme (the same people who may
publish its reports), never the person who wrote or submitted the update."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ledger.application.batch import Batch, LedgerBase
from ledger.domain import Account, Item, Programme, ReportingPeriod, Review, ReviewRefused, content_sha256
from ledger.errors import LedgerError, NothingToCorrect

REVIEWER_ROLE = "programme manager"


class ReviewIncomplete(LedgerError):
    """Publishing with items not approved, and no override reason given."""


def current_content(item: Item, period: str) -> tuple[dict[str, Any], str]:
    """The item's stored content for a period and its canonical hash."""
    rating = item.ratings.get(period)
    if rating is None:
        raise NothingToCorrect(
            f"Nothing has been recorded for {item.ref} in {period}: save an update first.", field="period"
        )
    return rating, content_sha256(rating["status"], rating["update"], rating["mitigation"])


def find_review(b: Batch, item: Item, period: str) -> Review | None:
    return b.find(Review, Review.create_id(item.programme_id, item.ref, period))


def supersede_if_changed(b: Batch, item: Item, period: str, actor: str) -> None:
    """After any change to an item's content for a period: an approval of other content
    is recorded as superseded (in the same batch as the change)."""
    review = find_review(b, item, period)
    if review is not None and period in item.ratings:
        review.supersede_if_changed(current_content(item, period)[1], actor=actor)


def check_approvals(
    b: Batch, owner: Programme, period: str, refs: list[str]
) -> tuple[list[dict[str, str]], list[str]]:
    """For a report's items: the approvals in force (ref, hash, approver) and the refs
    not approved (never submitted, awaiting review, returned or superseded)."""
    approvals: list[dict[str, str]] = []
    unapproved: list[str] = []
    for ref in refs:
        item = b.item(owner, ref)
        review = find_review(b, item, period)
        approved = review is not None and review.state == "approved" and period in item.ratings
        if approved and current_content(item, period)[1] == review.approved_sha256:  # type: ignore[union-attr]
            approvals.append(
                {"ref": item.ref, "content_sha256": review.approved_sha256, "by": review.approved_by}  # type: ignore[union-attr]
            )
            continue
        unapproved.append(item.ref)
    return approvals, unapproved


def report_review(
    b: Batch, owner: Programme, period: str, refs: list[str] | None
) -> tuple[list[dict[str, str]], list[str]] | None:
    """`check_approvals` for a report's items where review applies: in a period opened
    for updates (the reporting cycle). None otherwise: history imported from earlier
    reports, which nobody reviewed in the ledger, publishes as before."""
    if refs is None or b.find(ReportingPeriod, ReportingPeriod.create_id(owner.id, period)) is None:
        return None
    return check_approvals(b, owner, period, refs)


def may_review(account: Account | None, programme: Programme) -> bool:
    return (
        account is not None
        and account.is_active
        and REVIEWER_ROLE in account.roles
        and programme.slug in account.programmes
    )


class ReviewCommands(LedgerBase):
    def _reviewed(
        self, b: Batch, programme: str, ref: str, period: str, actor: str
    ) -> tuple[Item, Review, str]:
        """The item, its submitted review and the content's hash, once `actor` is a reviewer."""
        owner = b.programme(programme)
        label = owner.parse_period(period).label
        if not may_review(b.find(Account, Account.create_id(actor)), owner):
            raise ReviewRefused(
                f"Only a programme manager of {owner.name} may approve or return its updates."
            )
        item = b.item(owner, ref)
        review = find_review(b, item, label)
        if review is None:
            raise ReviewRefused(f"{item.ref}'s update for {label} has not been submitted for review.")
        return item, review, current_content(item, label)[1]

    @staticmethod
    def _authors(item: Item, review: Review) -> set[str]:
        return {review.submitted_by, item.ratings[review.period]["actor"]}

    def submit_update(
        self,
        programme: str,
        ref: str,
        *,
        period: str,
        actor: str,
        reason: str = "",
        batch: Batch | None = None,
    ) -> UUID:
        """Submit the item's update for the period, as stored now, for review (or resubmit it)."""
        with self._changes(batch) as b:
            owner = b.programme(programme)
            label = owner.parse_period(period).label
            item = b.item(owner, ref)
            _, digest = current_content(item, label)
            review = find_review(b, item, label)
            if review is None:
                review = b.add(
                    Review(
                        programme_id=owner.id,
                        ref=item.ref,
                        period=label,
                        content_sha256=digest,
                        actor=actor,
                        reason=(reason or "").strip(),
                    )
                )
            else:
                review.resubmit(digest, actor=actor, reason=reason)
        return review.id

    def save_update(
        self,
        programme: str,
        ref: str,
        *,
        period: str,
        status: str,
        update: str = "",
        mitigation: str = "",
        actor: str,
        reason: str = "",
        seen_version: int | None = None,
    ) -> UUID:
        """An officer's Save: record the status and update and submit it, in one transaction."""
        with self.batch() as b:
            self.record_status(  # type: ignore[attr-defined]
                programme,
                ref,
                period=period,
                status=status,
                update=update,
                mitigation=mitigation,
                actor=actor,
                reason=reason,
                seen_version=seen_version,
                batch=b,
            )
            return self.submit_update(programme, ref, period=period, actor=actor, batch=b)

    def approve_update(
        self,
        programme: str,
        ref: str,
        *,
        period: str,
        actor: str,
        comment: str = "",
        seen_sha256: str | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        """Approve the update as stored now; its SHA-256 is recorded with the approval.
        With `seen_sha256` (the content the reviewer read), refused if it has changed since."""
        with self._changes(batch) as b:
            item, review, digest = self._reviewed(b, programme, ref, period, actor)
            if seen_sha256 is not None and seen_sha256 != digest:
                raise ReviewRefused(
                    f"{item.ref}'s update for {review.period} has changed since you opened it. "
                    "Read it as it is now, then approve or return it."
                )
            review.approve(digest, actor=actor, authors=self._authors(item, review), comment=comment)
        return review.id

    def return_update(
        self, programme: str, ref: str, *, period: str, comment: str, actor: str, batch: Batch | None = None
    ) -> UUID:
        """Send the update back to its officer with the reviewer's comment (required)."""
        with self._changes(batch) as b:
            item, review, _ = self._reviewed(b, programme, ref, period, actor)
            review.return_(comment, actor=actor, authors=self._authors(item, review))
        return review.id

    def get_report_review(self, programme: str, period: str, refs: list[str]) -> dict[str, Any] | None:
        """What publishing a report of these items would check now: the approvals in
        force and the refs not approved; None where review does not apply."""
        with self.batch() as b:
            owner = b.programme(programme)
            checked = report_review(b, owner, owner.parse_period(period).label, refs)
        if checked is None:
            return None
        return {"approvals": checked[0], "unapproved": checked[1]}

    def get_review(self, programme: str, ref: str, period: str) -> dict[str, Any] | None:
        """The review's state from the event store; None while the update is a draft."""
        with self.batch() as b:
            item = b.rated_item(programme, ref, period)  # one read, with the review
            label = b.programme(programme).parse_period(period).label
            review = find_review(b, item, label)
        if review is None:
            return None
        return {
            "state": review.state,
            "content_sha256": review.content_sha256,
            "approved_sha256": review.approved_sha256,
            "approved_by": review.approved_by,
            "submitted_by": review.submitted_by,
            "version": review.version,
        }
