"""One handler per event class, keyed "Aggregate.Event" (e.g. "Item.StatusRecorded"),
one module per read model.

A handler reads the read model through `State`, puts the rows the event changes, and
returns a `Change` describing what changed (from → to) for the audit log. Handlers must
depend only on the event and the state, never on the clock or on anything outside the
read model, so that live catch-up, rebuild and as-at replay agree row for row.

Decisions written down here:
- Ratings keep the category and rank of the scale in force when they were recorded
  (what the committee saw), even if the programme's scale changes later.
- A period is *restated* when it is corrected (StatusCorrected) or re-rated (a later
  StatusRecorded with a different status). A revised update text with the same status
  is not a restatement; it bumps `updates_count`.
- Transitions (direction of travel) are a view over status_history, so a late
  correction of one period shows in the next period's direction at once; the rules are
  in projections.schema.
- Indicator direction is "good", "bad" or "neutral" by the indicator's `better`; with no
  value for the previous period, change and direction are empty.
"""

from __future__ import annotations

from types import ModuleType

from projections.handlers import (
    accounts,
    cycle,
    dependencies,
    indicators,
    items,
    jobs,
    narratives,
    programmes,
    publications,
    register,
    review,
    risks,
    scales,
    sides,
)
from projections.state import Handler

# Every read model's module, listed here and nowhere else: a module left out of this
# list leaves its events without a handler, which the projector refuses loudly.
MODULES = (
    scales, programmes, items, register, risks, dependencies, indicators, narratives, accounts,
    publications, cycle, review, sides, jobs,
)


def build_handlers(modules: tuple[ModuleType, ...] = MODULES) -> dict[str, Handler]:
    """Every module's HANDLERS in one mapping; an event handled twice is a mistake."""
    handlers: dict[str, Handler] = {}
    for module in modules:
        for event_type, handler in module.HANDLERS.items():
            if event_type in handlers:
                raise ValueError(f"{event_type} is handled twice (again in {module.__name__})")
            handlers[event_type] = handler
    return handlers


HANDLERS: dict[str, Handler] = build_handlers()
