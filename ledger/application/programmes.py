"""Commands on programmes and their items: register, rename, rate, correct."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from ledger.application.batch import Batch, LedgerBase
from ledger.application.review import supersede_if_changed
from ledger.application.scales import ScaleCommands
from ledger.domain import Item, Programme
from ledger.errors import UnknownRef
from ledger.scales import RAG, Scale


class ProgrammeCommands(ScaleCommands):
    def register_programme(
        self,
        slug: str,
        name: str,
        *,
        cadence: str,
        scale: Scale | str = RAG,
        requires_mitigation: bool = True,
        description: str = "",
        contact: dict[str, str] | None = None,
        actor: str,
        batch: Batch | None = None,
    ) -> UUID:
        scale = self.find_scale(scale, batch) if isinstance(scale, str) else scale
        return self._create(
            batch,
            lambda b: Programme.register(
                slug=slug,
                name=name,
                cadence=cadence,
                scale=scale,
                requires_mitigation=requires_mitigation,
                description=description,
                contact=contact or {},
                actor=actor,
            ),
            lambda programme, _: f"A programme with the id {programme.slug!r} already exists.",
        )

    def rename_programme(
        self,
        slug: str,
        name: str,
        *,
        actor: str,
        reason: str = "",
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        return self._change(
            batch,
            lambda b: b.programme(slug),
            lambda programme, b: programme.rename(name, actor=actor, reason=reason),
            seen_version,
        )

    def change_programme_details(
        self,
        slug: str,
        *,
        name: str,
        description: str,
        contact: dict[str, str],
        requires_mitigation: bool,
        actor: str,
        reason: str = "",
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        """The programme's name, description, contact and mitigation rule, as given: an
        event for each that differs, saved together (a change of rule needs a reason)."""

        def change(programme: Programme, _: Batch) -> None:
            programme.rename(name, actor=actor, reason=reason)
            programme.describe(description, actor=actor, reason=reason)
            programme.change_contact(contact, actor=actor, reason=reason)
            programme.require_mitigation(requires_mitigation, actor=actor, reason=reason)

        return self._change(batch, lambda b: b.programme(slug), change, seen_version)

    def change_scale(
        self,
        slug: str,
        scale: Scale | str,
        *,
        actor: str,
        reason: str,
        mapping: dict[str, str] | None = None,
        from_period: str = "",
        batch: Batch | None = None,
    ) -> UUID:
        """Give a programme a different status scale, or its scale's latest revision
        (ratings keep the one they were made on); `mapping` says which new status each
        old one becomes when periods are compared; `from_period`, the first period rated
        on it (earlier periods stay on the old scale)."""
        scale = self.find_scale(scale, batch) if isinstance(scale, str) else scale
        return self._change(
            batch,
            lambda b: b.programme(slug),
            lambda programme, b: programme.change_scale(
                scale, actor=actor, reason=reason, mapping=mapping, from_period=from_period
            ),
        )

    def change_contact(
        self,
        slug: str,
        contact: dict[str, str],
        *,
        actor: str,
        reason: str = "",
        batch: Batch | None = None,
    ) -> UUID:
        return self._change(
            batch,
            lambda b: b.programme(slug),
            lambda programme, b: programme.change_contact(contact, actor=actor, reason=reason),
        )

    def define_periods(
        self,
        slug: str,
        periods: list[list[str]],
        *,
        actor: str,
        reason: str = "",
        batch: Batch | None = None,
    ) -> UUID:
        """A custom-cadence programme's reporting periods: (name, first day, last day)
        each, days as ISO dates, like ("2024/25 P2", "2024-04-01", "2024-07-31")."""
        return self._change(
            batch,
            lambda b: b.programme(slug),
            lambda programme, b: programme.define_periods(periods, actor=actor, reason=reason),
        )


class ItemCommands(LedgerBase):
    def register_item(
        self,
        programme: str,
        ref: str,
        *,
        kind: str,
        title: str,
        parent_ref: str = "",
        lead_officer: str = "",
        committee: str = "",
        actor: str,
        reason: str = "",
        batch: Batch | None = None,
    ) -> UUID:
        def make(b: Batch) -> Item:
            owner = b.programme(programme)
            if parent_ref.strip():
                try:
                    b.item(owner, parent_ref.strip())  # the parent must exist
                except UnknownRef as missing:
                    missing.field = "parent_ref"
                    raise
            return Item.register(
                programme=owner,
                ref=ref,
                kind=kind,
                title=title,
                parent_ref=parent_ref,
                lead_officer=lead_officer,
                committee=committee,
                actor=actor,
                reason=reason,
            )

        return self._create(
            batch,
            make,
            lambda item, b: (
                f"{b.programme(programme).name} already has an item {item.ref!r}: refs must be unique."
            ),
        )

    def move_item(
        self,
        programme: str,
        ref: str,
        parent_ref: str,
        *,
        actor: str,
        reason: str,
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        """File item `ref` under `parent_ref` ("" for the top of the programme)."""

        def move(item: Item, b: Batch) -> None:
            owner = b.programme(programme)
            lineage: list[Item] = []
            above = parent_ref.strip()
            while above:  # up to the top: moves never make a loop (Item.move refuses one)
                try:
                    lineage.append(b.item(owner, above))
                except UnknownRef as missing:
                    missing.field = "parent_ref"
                    raise
                above = lineage[-1].parent_ref
                if lineage[-1].id == item.id:
                    break  # the item itself: Item.move says why it cannot go there
            item.move(lineage, actor=actor, reason=reason)

        return self._on_item(batch, programme, ref, move, seen_version)

    def change_item_kind(
        self,
        programme: str,
        ref: str,
        kind: str,
        *,
        actor: str,
        reason: str,
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        """Call item `ref` another kind of item (an action becomes a priority, say)."""
        return self._on_item(
            batch,
            programme,
            ref,
            lambda item, _: item.change_kind(kind, actor=actor, reason=reason),
            seen_version,
        )

    def retitle_item(
        self,
        programme: str,
        ref: str,
        title: str,
        *,
        actor: str,
        reason: str = "",
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        return self._on_item(
            batch,
            programme,
            ref,
            lambda item, _: item.retitle(title, actor=actor, reason=reason),
            seen_version,
        )

    def reassign_lead(
        self,
        programme: str,
        ref: str,
        lead_officer: str,
        *,
        actor: str,
        reason: str = "",
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        return self._on_item(
            batch,
            programme,
            ref,
            lambda item, _: item.reassign_lead(lead_officer, actor=actor, reason=reason),
            seen_version,
        )

    def change_committee(
        self,
        programme: str,
        ref: str,
        committee: str,
        *,
        actor: str,
        reason: str = "",
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        return self._on_item(
            batch,
            programme,
            ref,
            lambda item, _: item.change_committee(committee, actor=actor, reason=reason),
            seen_version,
        )

    def _on_item(
        self, batch: Batch | None, programme: str, ref: str, change: Callable[[Item, Batch], object],
        seen_version: int | None,
    ) -> UUID:
        """The outline of every command on one item of `programme` (see `_change`)."""
        return self._change(batch, lambda b: b.item(b.programme(programme), ref), change, seen_version)

    def _rate(
        self,
        change: str,
        programme: str,
        ref: str,
        period: str,
        rating: dict[str, str],
        seen_version: int | None,
        batch: Batch | None,
    ) -> UUID:
        """Record or correct a rating; a change to approved content supersedes the
        approval in the same save (ledger.application.review)."""

        def rate(item: Item, b: Batch) -> None:
            owner = b.programme(programme)
            getattr(item, change)(owner, period=period, **rating)
            supersede_if_changed(b, item, owner.parse_period(period).label, rating["actor"])

        return self._change(batch, lambda b: b.rated_item(programme, ref, period), rate, seen_version)

    def record_status(
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
        batch: Batch | None = None,
    ) -> UUID:
        """Record an item's status and update for a period (a re-rating needs a reason)."""
        rating = dict(status=status, update=update, mitigation=mitigation, actor=actor, reason=reason)
        return self._rate("record_status", programme, ref, period, rating, seen_version, batch)

    def correct_status(
        self,
        programme: str,
        ref: str,
        *,
        period: str,
        status: str,
        update: str = "",
        mitigation: str = "",
        actor: str,
        reason: str,
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        """Put right a mistake in a recorded status or update; the reason is required."""
        rating = dict(status=status, update=update, mitigation=mitigation, actor=actor, reason=reason)
        return self._rate("correct_status", programme, ref, period, rating, seen_version, batch)
