"""A dependency agreed by both sides (issue 12, item 6): the provider (a programme, or a
team outside the ledger) and the receiver each confirm whether a jointly agreed plan is
in place and how confident they are. These words say where the two sides stand, so the
register shows a disagreement as text rather than leaving readers to compare columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ledger.domain.base import yes_no
from ledger.errors import InvalidValue, raise_all

PROVIDER, RECEIVER = "provider", "receiver"
SIDES = (PROVIDER, RECEIVER)
PROGRAMME_PARTY, TEAM_PARTY = "programme", "team"

# Where the two sides stand, from nothing named to agreement.
NOT_NAMED = "sides not named"
AWAITING_BOTH = "awaiting both sides"
AWAITING_PROVIDER = "awaiting the provider"
AWAITING_RECEIVER = "awaiting the receiver"
AGREE = "sides agree"
DISAGREE = "sides disagree"
AGREEMENT_STATES = (NOT_NAMED, AWAITING_BOTH, AWAITING_PROVIDER, AWAITING_RECEIVER, AGREE, DISAGREE)
NO_VIEW = ("", "", "")  # a side's (plan agreed, confidence, period) before it confirms


def check_sides(ref: str, provider: str, receiver: str) -> None:
    if provider.casefold() == receiver.casefold():
        raise InvalidValue(
            f"The provider and the receiver of {ref} must be different: both are {provider!r}.",
            field="receiver",
        )


def party_of(dependency: Any, side: str) -> str:
    """The party named for `side` of a dependency; refused before the sides are named."""
    if side not in SIDES:
        raise InvalidValue(f"{side!r} is not a side: use provider or receiver.", field="side")
    party: str = getattr(dependency, side)
    if not party:
        raise InvalidValue(
            f"Name the provider and the receiver of {dependency.ref} before either side confirms.",
            field="side",
        )
    return party


def confirmation(
    plan_agreed: str | bool | None,
    confidence: str,
    period: Callable[[], str],
    confidence_of: Callable[[str], str],
) -> tuple[str, str, str]:
    """A side's (plan agreed, confidence, period): yes or no and a confidence are both
    required; every problem is reported at once."""
    found: dict[str, str] = {}

    def stated(field: str, value: str, message: str) -> None:
        if not value:
            raise InvalidValue(message, field=field)
        found[field] = value

    raise_all(
        lambda: stated(
            "plan_agreed",
            yes_no(plan_agreed, "plan_agreed"),
            "Say whether a jointly agreed plan is in place: yes or no.",
        ),
        lambda: stated("confidence", confidence_of(confidence), "Choose a confidence: High, Medium or Low."),
        lambda: stated("period", period(), "Select a period."),
    )
    return found["plan_agreed"], found["confidence"], found["period"]


@dataclass(frozen=True)
class SideView:
    """One side of a dependency: who it is and what it last confirmed ('' if nothing)."""

    party: str
    plan_agreed: str = ""  # yes / no; '' until the side confirms
    confidence: str = ""

    @property
    def confirmed(self) -> bool:
        return bool(self.plan_agreed)

    def says(self) -> str:
        plan = "a jointly agreed plan is in place" if self.plan_agreed == "yes" else "no plan is agreed"
        return f"{plan}, confidence {self.confidence or 'not stated'}"


def agreement(provider: SideView, receiver: SideView) -> tuple[str, str]:
    """(state, words) for the register: one of AGREEMENT_STATES, and a sentence that
    names the sides and, when they differ, exactly what each says."""
    if not (provider.party and receiver.party):
        return NOT_NAMED, "No provider and receiver named yet."
    p, r = f"the provider ({provider.party})", f"the receiver ({receiver.party})"
    if not (provider.confirmed or receiver.confirmed):
        return AWAITING_BOTH, f"Neither side has confirmed yet: {p}, {r}."
    if not receiver.confirmed:
        return AWAITING_RECEIVER, f"Awaiting {r}. {_cap(p)} says {provider.says()}."
    if not provider.confirmed:
        return AWAITING_PROVIDER, f"Awaiting {p}. {_cap(r)} says {receiver.says()}."
    if (provider.plan_agreed, provider.confidence) == (receiver.plan_agreed, receiver.confidence):
        return AGREE, f"Both sides say {provider.says()}."
    differences = []
    if provider.plan_agreed != receiver.plan_agreed:
        differences.append(f"on the plan: {p} says {_plan(provider)}, {r} says {_plan(receiver)}")
    if provider.confidence != receiver.confidence:
        differences.append(
            f"on confidence: {provider.confidence or 'not stated'} for the provider, "
            f"{receiver.confidence or 'not stated'} for the receiver"
        )
    return DISAGREE, f"The sides disagree {'; and '.join(differences)}."


def _plan(side: SideView) -> str:
    return "a plan is agreed" if side.plan_agreed == "yes" else "no plan is agreed"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
