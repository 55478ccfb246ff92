"""dependencies.csv's optional columns for a dependency's two sides (issue 12, item 6):
who provides and who receives, and what each side confirmed (plan agreed, confidence,
and the period it confirmed for: the row's own period when left empty)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.domain import CONFIDENCE_LEVELS
from ledger.domain.agreement import SIDES
from ledger.domain.base import yes_no
from ledger.errors import InvalidValue
from ledger.transfer.kinds.base import Applying, RowCells

SIDE_COLUMNS = (
    "provider",
    "receiver",
    *(f"{side}_{what}" for side in SIDES for what in ("plan_agreed", "confidence", "period")),
)


@dataclass(frozen=True, slots=True)
class Sides:
    provider: str
    receiver: str
    # side -> (plan agreed, confidence, period) for each side the row confirms
    confirmations: dict[str, tuple[str, str, str]]


def _confidence(text: str) -> str:
    for level in CONFIDENCE_LEVELS:
        if text.strip().casefold() in (level.casefold(), level[0].casefold()):
            return level
    raise InvalidValue(f"{text!r} is not a confidence level: use {', '.join(CONFIDENCE_LEVELS)}.")


def check_sides(v: RowCells, programme: Any, period: str) -> Sides | None:
    """The row's sides, every problem named by its column; None if it names none."""
    provider, receiver = v.raw("provider"), v.raw("receiver")
    for column, named, other in (("provider", provider, receiver), ("receiver", receiver, provider)):
        if other and not named:
            v.fail(column, f"Name the {column} too: a dependency has both a provider and a receiver.")
    confirmations = {}
    for side in SIDES:
        plan_text, level_text = v.raw(f"{side}_plan_agreed"), v.raw(f"{side}_confidence")
        if not (plan_text or level_text):
            continue
        plan = v.check(
            f"{side}_plan_agreed", lambda t, s=side: _required(yes_no(t, "plan_agreed"), s, "plan")
        )
        level = v.check(f"{side}_confidence", lambda t, s=side: _confidence(_required(t, s, "confidence")))
        own = v.raw(f"{side}_period")
        when = v.check(f"{side}_period", lambda t: v.checker.period(programme, t)) if own else period
        confirmations[side] = (plan, level, when)
    if confirmations and not (provider or receiver):
        v.fail("provider", "Name the provider and the receiver of a dependency whose sides confirm.")
    if v.bad or not (provider or receiver):
        return None
    return Sides(provider, receiver, confirmations)


def _required(value: str, side: str, what: str) -> str:
    if not value:
        raise InvalidValue(
            f"The {side}'s confirmation needs both whether a plan is agreed (yes or no) and a "
            f"confidence: give its {what} too."
        )
    return value


def apply_sides(applier: Applying, programme: str, ref: str, sides: Sides | None) -> None:
    """Name the sides and record each side's confirmation; nothing when the ledger already
    holds exactly this (so importing an export again records nothing)."""
    if sides is None:
        return
    kwargs = {"actor": applier.actor, "batch": applier.batch}
    applier.ledger.name_dependency_sides(
        programme, ref, provider=sides.provider, receiver=sides.receiver, **kwargs
    )
    for side, (plan, level, period) in sides.confirmations.items():
        applier.ledger.confirm_dependency_side(
            programme, ref, side=side, plan_agreed=plan, confidence=level, period=period, **kwargs
        )
