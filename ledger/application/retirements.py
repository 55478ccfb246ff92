"""Commands that take an item off the register and back: retire, merge, reinstate, and
the footnote a register printed for an item instead of a status."""

from __future__ import annotations

from uuid import UUID

from ledger.application.batch import Batch, LedgerBase
from ledger.domain import Item


class RetirementCommands(LedgerBase):
    def retire_item(
        self,
        programme: str,
        ref: str,
        *,
        period: str,
        reason: str,
        merged_into: str = "",
        actor: str,
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        """Retire an item from `period` on, or merge it into the item `merged_into`: either
        way it keeps its history under its own ref and leaves later periods' counts."""

        def retire(item: Item, b: Batch) -> None:
            owner = b.programme(programme)
            target = b.item(owner, merged_into.strip()) if merged_into.strip() else None
            item.retire(owner, period=period, reason=reason, actor=actor, merged_into=target)

        return self._change(batch, lambda b: b.item(b.programme(programme), ref), retire, seen_version)

    def reinstate_item(
        self,
        programme: str,
        ref: str,
        *,
        period: str,
        reason: str,
        actor: str,
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        """Put a retired item back on the register from `period` on."""
        return self._change(
            batch,
            lambda b: b.item(b.programme(programme), ref),
            lambda item, b: item.reinstate(b.programme(programme), period=period, reason=reason, actor=actor),
            seen_version,
        )

    def note_item(
        self,
        programme: str,
        ref: str,
        *,
        period: str,
        note: str,
        actor: str,
        reason: str = "",
        batch: Batch | None = None,
    ) -> UUID:
        """Record the note a register printed for an item in a period, instead of a status."""
        return self._change(
            batch,
            lambda b: b.item(b.programme(programme), ref),
            lambda item, b: item.note_period(
                b.programme(programme), period=period, note=note, actor=actor, reason=reason
            ),
        )
