"""items.csv and statuses.csv: the items a programme rates, and each item's status and
update per period (its whole history, corrections marked)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ledger.domain import ITEM_KINDS, Item, yes_no
from ledger.domain.items import parse_due_date
from ledger.errors import DuplicateRef, InvalidValue, UnknownRef
from ledger.transfer.kinds.base import SKIPPED, Applied, Applying, Kind, RowCells, Unique
from ledger.transfer.results import Outcome
from ledger.transfer.table import Row, key


@dataclass(slots=True)
class ItemRow(Row):
    ref: str
    kind: str
    title: str
    parent_ref: str
    lead_officer: str
    committee: str
    due_date: str | None = None  # ISO, "" for none; None: the file has no due_date column
    indicators: list[str] | None = None  # indicator refs; None: no indicators column


@dataclass(slots=True)
class StatusRow(Row):
    ref: str
    period: str
    status: str  # canonical name on the programme's scale, "" = not rated
    update: str
    mitigation: str
    reason: str
    correction: bool


def item_kind(text: str) -> str:
    kind = " ".join(text.lower().split())
    if kind not in ITEM_KINDS:
        raise InvalidValue(f"{text!r} is not a kind of item: use one of {', '.join(ITEM_KINDS)}.")
    return kind


def check_item(v: RowCells) -> ItemRow | None:
    programme = v.programme()
    if programme is None:
        return None
    ref = v.required("ref", "Enter the item's ref, like A1.1.1.")
    kind = v.check("kind", item_kind)
    title = v.required("title", f"Enter a title for {ref or 'the item'}.")
    due_date = v.check("due_date", lambda t: parse_due_date(t, ref or "the item"))
    if v.bad:
        return None
    columns = v.table.columns
    return ItemRow(
        v.table, v.number, programme.slug, ref, kind, title, v.raw("parent_ref"),
        v.raw("lead_officer"), v.raw("committee"),
        due_date if "due_date" in columns else None,
        indicator_refs(v.raw("indicators")) if "indicators" in columns else None,
    )


def indicator_refs(text: str) -> list[str]:
    """The refs in an `indicators` cell, separated by `;` (as aliases are)."""
    return [ref.strip() for ref in text.split(";") if ref.strip()]


def check_status(v: RowCells) -> StatusRow | None:
    programme = v.programme()
    if programme is None:
        return None
    ref = v.required("ref", "Enter the item's ref.")
    period = v.period(programme)
    status = v.check("status", lambda t: v.checker.status(programme, t, rated=False))
    correction = v.check("correction", lambda t: yes_no(t, "correction", False))
    if correction == "yes" and not v.raw("reason").strip():
        v.fail("reason", f"Give the reason for correcting {ref or 'the item'}: a correction needs one.")
    if v.bad:
        return None
    return StatusRow(
        v.table, v.number, programme.slug, ref, period, status, v.raw("update"),
        v.raw("mitigation"), v.raw("reason"), correction == "yes",
    )


def unique_item(row: ItemRow) -> Unique:
    return Unique((key(row.programme), key(row.ref)), "ref", f"ref {row.ref!r}")


def apply_item(applier: Applying, row: ItemRow) -> Applied:
    programme = applier.batch.programme(row.programme)
    item_id = Item.create_id(programme.id, row.ref)
    existing = applier.batch.find(Item, item_id)
    filing = existing is None or key(existing.parent_ref) != key(row.parent_ref)  # new, or moved
    parent_id = Item.create_id(programme.id, row.parent_ref)
    if filing and row.parent_ref and applier.batch.find(Item, parent_id) is None:
        if (key(row.programme), key(row.parent_ref)) in applier.broken_items:
            return SKIPPED
        raise UnknownRef(
            f"{programme.name} has no item {row.parent_ref!r}: a parent must be in the "
            "ledger already or on an earlier row.", field="parent_ref",
        )
    if existing is None:
        applier.ledger.register_item(
            row.programme, row.ref, kind=row.kind, title=row.title, parent_ref=row.parent_ref,
            lead_officer=row.lead_officer, committee=row.committee,
            **applier.command_kwargs(applier.reason(row)),
        )
        applier.history[item_id] = {}
        _link_lead(applier, row, "")
        _measures(applier, row, applier.reason(row))
        return Applied(item_id, Outcome.NEW)
    # The same ref in the ledger must be the same item, spelt the same.
    if existing.ref != row.ref:
        raise DuplicateRef(
            f"{row.ref!r} is already in the ledger as {existing.ref!r}: refs ignore case, so "
            f"this would be a duplicate. Use {existing.ref!r}, or a new ref.", field="ref",
        )
    kwargs = applier.command_kwargs(applier.reason(row))
    if existing.kind != row.kind:
        applier.ledger.change_item_kind(row.programme, row.ref, row.kind, **kwargs)
    if key(existing.parent_ref) != key(row.parent_ref):  # re-filed: its branch moves with it
        applier.ledger.move_item(row.programme, row.ref, row.parent_ref, **kwargs)
    if row.title != existing.title:
        applier.ledger.retitle_item(row.programme, row.ref, row.title, **kwargs)
    if row.lead_officer != existing.lead_officer:
        applier.ledger.reassign_lead(row.programme, row.ref, row.lead_officer, **kwargs)
        _link_lead(applier, row, existing.lead_account)
    if row.committee != existing.committee:
        applier.ledger.change_committee(row.programme, row.ref, row.committee, **kwargs)
    _measures(applier, row, kwargs["reason"])
    return Applied(item_id, Outcome.CHANGED)


def _measures(applier: Applying, row: ItemRow, reason: str) -> None:
    """The due date now; the indicator links once every row has applied, since
    indicators.csv (applied after items) may define the indicators they name."""
    kwargs = applier.command_kwargs(reason)
    if row.due_date is not None:
        applier.ledger.set_item_due_date(row.programme, row.ref, due_date=row.due_date, **kwargs)
    if row.indicators is not None:
        refs = row.indicators
        applier.later(row, lambda: applier.ledger.link_item_indicators(
            row.programme, row.ref, indicators=refs, **kwargs,
        ))


def _link_lead(applier: Applying, row: ItemRow, linked: str) -> None:
    """A lead named in the file is linked to the one account it names; a lead that now
    names no account is unlinked, and waits for an administrator to link it."""
    account = applier.lead_account(row.lead_officer) or ""
    if account != linked:
        applier.ledger.link_lead(
            row.programme, row.ref, account,
            **applier.command_kwargs(applier.reason(row, f"lead officer {row.lead_officer!r}")),
        )


def apply_status(applier: Applying, row: StatusRow) -> Applied:
    item = applier.batch.find(Item, applier.item_id(row.programme, row.ref))
    if item is None:
        programme = applier.batch.programme(row.programme)
        if (key(row.programme), key(row.ref)) in applier.broken_items:
            return SKIPPED
        raise UnknownRef(
            f"{programme.name} has no item {row.ref!r}: add it to items.csv (or the items "
            "sheet), or check the ref.", field="ref",
        )
    recorded = applier.history[item.id].setdefault(row.period, [])
    content = (row.status, row.update, row.mitigation)
    if content in recorded:  # identical to ANY update recorded for this item and period
        return Applied(item.id, Outcome.UNCHANGED)
    # Updating a period rated before this import: the import is the reason. A second
    # row for a period within one file is the file's own re-rating, with its reason.
    before_import = row.period in applier.before_import.get(item.id, ())
    reason = applier.reason(row, row.reason) if before_import else row.reason
    command = applier.ledger.correct_status if row.correction else applier.ledger.record_status
    command(
        row.programme, row.ref, period=row.period, status=row.status, update=row.update,
        mitigation=row.mitigation, **applier.command_kwargs(reason),
    )
    recorded.append(content)
    return Applied(item.id, Outcome.CHANGED if before_import else Outcome.NEW)


ITEMS = Kind(
    "items", ("programme", "ref", "kind", "title", "parent_ref", "lead_officer", "committee"),
    check_item, apply_item, unique_item, optional=("due_date", "indicators"),
)
# Two rows for one item and period are two updates: statuses may repeat.
STATUSES = Kind(
    "statuses", ("programme", "ref", "period", "status", "update", "mitigation", "reason"),
    check_status, apply_status, optional=("correction",),
)


class ParentsFirst:
    """items.csv rows written with every parent before its children, as an import reads
    them (a parent must be in the ledger already or on an earlier row).

    An export meets records in the order they were first recorded, which is that order
    until an item moves under one recorded after it: such a row waits for its parent's.
    Only moved items ever wait; the rest cost a key each."""

    def __init__(self, write: Callable[[list[str]], None]) -> None:
        self._write = write
        self._written: set[tuple[str, str]] = set()
        self._waiting: dict[tuple[str, str], list[list[str]]] = {}

    def add(self, row: list[str]) -> None:
        programme, parent_ref = row[0], row[_PARENT]
        if parent_ref and (programme, key(parent_ref)) not in self._written:
            self._waiting.setdefault((programme, key(parent_ref)), []).append(row)
            return
        ready = deque([row])
        while ready:  # the row, then whatever waited for it, and for those, in turn
            row = ready.popleft()
            self._write(row)
            self._written.add((row[0], key(row[1])))
            ready.extend(self._waiting.pop((row[0], key(row[1])), []))

    def finish(self) -> None:
        """Rows whose parent never came (none, while the ledger refuses a missing parent)."""
        for rows in self._waiting.values():
            for row in rows:
                self._write(row)


_PARENT = ITEMS.columns.index("parent_ref")
