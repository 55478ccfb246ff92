"""scales.csv: a council's status scales, one row per status in scale order. A file's
rows for one scale define it whole (or revise the ledger's definition); programmes rows
after them may adopt it by its id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.domain import StatusScale, yes_no
from ledger.scales import Category, Scale, Status, build_scale, parse_colour, scale_id, scale_problems
from ledger.transfer.kinds.base import UNCHANGED, Applied, Applying, Kind, RowCells, yes_or_no
from ledger.transfer.results import Outcome
from ledger.transfer.table import Row

ALIAS_SEPARATOR = ";"


@dataclass(slots=True)
class ScaleRow(Row):
    scale: str
    name: str
    # The whole scale's statuses (as Status.to_dict gives them): one list, shared by every
    # row of the scale and complete once the file is checked. The first row records it.
    statuses: list[dict[str, Any]]
    first: bool
    reason: str

    spooled = False  # `statuses` fills up as later rows are checked


def _aliases(text: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in text.split(ALIAS_SEPARATOR) if a.strip())


# A status's cells, in the order scales.csv (and the administrator's page) lists them.
STATUS_CELLS = ("status", "category", "colour", "aliases", "needs_mitigation", "group", "description")


def make_status(cells: dict[str, str]) -> Status:
    """A status from its cells (already checked, or raising the first LedgerError)."""
    mitigation = yes_no(cells.get("needs_mitigation", ""), "needs_mitigation")
    return Status(
        (cells.get("status") or "").strip(), Category.parse(cells.get("category", "")),
        cells.get("description", "").strip(), None, _aliases(cells.get("aliases", "")),
        parse_colour(cells.get("colour", "")), None if mitigation == "" else mitigation == "yes",
        cells.get("group", "").strip(),
    )


def check(v: RowCells) -> ScaleRow | None:
    key = v.required("scale", "Enter the scale's short id, like outcomes.")
    if key and not all(c.isalnum() or c in "-_ " for c in key):
        v.fail("scale", f"{key!r} is not a scale id: use letters, digits and hyphens.")
    name = v.required("name", "Enter the scale's name.")
    v.required("status", "Enter the status's name.")
    v.check("category", lambda t: Category.parse(t))
    v.check("colour", lambda t: parse_colour(t))
    v.check("needs_mitigation", lambda t: yes_no(t, "needs_mitigation"))
    if v.bad:
        return None
    first = v.checker.scale_rows.setdefault(scale_id(key), ScaleRow(
        v.table, v.number, "", scale_id(key), name, [], True, v.raw("reason")
    ))
    if name != first.name:
        v.fail("name", f"Row {first.number} names this scale {first.name!r}: give every row the same name.")
        return None
    added = make_status({c: v.raw(c) for c in STATUS_CELLS})
    statuses = [*(Status.from_dict(s) for s in first.statuses), added]
    problems = [p for p in scale_problems(statuses) if p[0] == len(statuses) - 1]
    for _, column, message in problems:
        v.fail(column, message)
    if problems:
        return None
    first.statuses.append(added.to_dict())
    if first.number == v.number:
        return first
    return ScaleRow(v.table, v.number, "", first.scale, name, first.statuses, False, "")


def apply(applier: Applying, row: ScaleRow) -> Applied:
    """The scale's first row records the whole scale; its other rows are part of it."""
    if not row.first:
        return UNCHANGED
    aggregate_id = StatusScale.create_id(row.scale)
    statuses = [Status.from_dict(s) for s in row.statuses]
    existing = applier.batch.find(StatusScale, aggregate_id)
    if existing is None:
        applier.ledger.define_scale(
            row.scale, row.name, statuses, actor=applier.actor, reason=row.reason, batch=applier.batch
        )
        return Applied(aggregate_id, Outcome.NEW)
    if existing.scale.same_statuses(build_scale(row.scale, row.name, statuses)):
        return UNCHANGED
    applier.ledger.revise_scale(
        row.scale, row.name, statuses, **applier.command_kwargs(applier.reason(row, row.reason))
    )
    return Applied(aggregate_id, Outcome.CHANGED)


def scale_rows(scale: Scale, reason: str) -> list[list[str]]:
    """A scale as scales.csv rows (columns, then optional columns, in SCALES's order)."""
    return [
        [
            scale.key, scale.name, s.name, s.category.value, s.colour, f"{ALIAS_SEPARATOR} ".join(s.aliases),
            "" if s.needs_mitigation is None else yes_or_no(s.needs_mitigation), s.group, s.description,
            reason if i == 0 else "",
        ]
        for i, s in enumerate(scale.statuses)
    ]


SCALES = Kind(
    "scales",
    ("scale", "name", "status", "category"),
    check, apply,
    optional=("colour", "aliases", "needs_mitigation", "group", "description", "reason"),
)
