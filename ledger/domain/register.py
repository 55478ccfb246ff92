"""The rules for taking an item off the register and back (retire, merge, reinstate),
and for where it may be filed (move), kept beside `Item` (ledger.domain.items), whose
events record them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol
from uuid import UUID

from ledger.domain.programmes import Programme
from ledger.errors import InvalidValue


class OnRegister(Protocol):
    """What these rules read of an item."""

    id: UUID
    ref: str
    ratings: dict[str, dict[str, Any]]
    # Each time off the register: [retired from, reinstated from or "", merged into or ""].
    retirements: list[list[str]]

    @property
    def retired_from(self) -> str: ...


def retired_in(item: OnRegister, programme: Programme, label: str) -> list[str] | None:
    """The retirement that covers period `label`, if any."""
    period = programme.parse_period(label)
    for span in item.retirements:
        start, end = programme.parse_period(span[0]), span[1] and programme.parse_period(span[1])
        if start <= period and (not end or period < end):
            return span
    return None


def check_on_register(item: OnRegister, programme: Programme, label: str) -> None:
    """A status can be recorded only for a period the item is on the register."""
    span = retired_in(item, programme, label)
    if span is not None:
        merged = f" (merged into {span[2]})" if span[2] else ""
        raise InvalidValue(
            f"{item.ref} was retired{merged} from {span[0]}, so it has no status for {label}. "
            "Reinstate it first if it is back on the register.", field="period",
        )


def check_retire(item: OnRegister, programme: Programme, label: str, merged_into: OnRegister | None) -> str:
    """Refuse a retirement that cannot be; returns what it is, "retired" or "merged into R5"."""
    what = f"merged into {merged_into.ref}" if merged_into else "retired"
    if item.retired_from:
        raise InvalidValue(
            f"{item.ref} is already retired from {item.retired_from}: reinstate it first.", field="ref"
        )
    if merged_into is not None and (merged_into.id == item.id or merged_into.retired_from):
        raise InvalidValue(
            f"{item.ref} cannot be merged into {merged_into.ref}: "
            + ("an item cannot merge into itself." if merged_into.id == item.id
               else f"{merged_into.ref} is itself retired from {merged_into.retired_from}."),
            field="merged_into",
        )
    start = programme.parse_period(label)
    if item.retirements and start <= programme.parse_period(item.retirements[-1][1]):
        raise InvalidValue(
            f"{item.ref} was reinstated from {item.retirements[-1][1]}: retire it from a later period.",
            field="period",
        )
    # Counts leave with the item: a period it already has a status for stays counted.
    rated = sorted(
        (p for p, r in item.ratings.items() if r["status"] and programme.parse_period(p) >= start),
        key=programme.parse_period,
    )
    if rated:
        raise InvalidValue(
            f"{item.ref} has a status for {rated[0]}, so it cannot be {what} from {label}: "
            "give the first period it is off the register.", field="period",
        )
    return what


def check_reinstate(item: OnRegister, programme: Programme, label: str) -> None:
    if not item.retired_from:
        raise InvalidValue(f"{item.ref} is not retired, so it cannot be reinstated.", field="ref")
    if programme.parse_period(label) <= programme.parse_period(item.retired_from):
        raise InvalidValue(
            f"{item.ref} is retired from {item.retired_from}: reinstate it from a later period.",
            field="period",
        )


def check_move(item: OnRegister, lineage: Sequence[OnRegister]) -> None:
    """An item goes under its new parent (`lineage[0]`, then up to the top) only if that
    is neither itself nor anything filed beneath it (a loop), and is on the register."""
    parent = lineage[0]
    if any(above.id == item.id for above in lineage):
        where = "itself" if parent.id == item.id else f"{parent.ref}, which is filed beneath it"
        raise InvalidValue(f"{item.ref} cannot be moved under {where}.", field="parent_ref")
    if parent.retired_from:
        raise InvalidValue(
            f"{parent.ref} is retired from {parent.retired_from}: choose a parent on the register.",
            field="parent_ref",
        )
