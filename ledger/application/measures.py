"""Commands on what an item is measured by and when it is due: the indicators it is
linked to and its due date (issue 13: the watermelon flags read both)."""

from __future__ import annotations

from uuid import UUID

from ledger.application.batch import Batch, LedgerBase
from ledger.domain import Indicator, Item
from ledger.errors import UnknownRef


class MeasureCommands(LedgerBase):
    def set_item_due_date(
        self,
        programme: str,
        ref: str,
        *,
        due_date: str,
        actor: str,
        reason: str = "",
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        """Set or clear (with "") the date an item is due; moving one needs a reason."""
        return self._change(
            batch,
            lambda b: b.item(b.programme(programme), ref),
            lambda item, b: item.set_due_date(due_date, actor=actor, reason=reason),
            seen_version,
        )

    def link_item_indicators(
        self,
        programme: str,
        ref: str,
        *,
        indicators: list[str],
        actor: str,
        reason: str = "",
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        """Link an item to exactly these indicators of its programme (by ref; an empty
        list unlinks them all). Changing existing links needs a reason."""

        def link(item: Item, b: Batch) -> None:
            owner = b.programme(programme)
            refs = []
            for wanted in indicators:
                if not wanted.strip():
                    continue
                found = b.find(Indicator, Indicator.create_id(owner.id, wanted.strip()))
                if found is None:
                    raise UnknownRef(f"{owner.name} has no indicator {wanted.strip()!r}.", field="indicators")
                refs.append(found.ref)
            item.link_indicators(refs, actor=actor, reason=reason)

        return self._change(batch, lambda b: b.item(b.programme(programme), ref), link, seen_version)
