"""programmes.csv: a programme's id, name, cadence and scale (which an import cannot
change once registered), and its description and contact."""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.domain import Programme, yes_no
from ledger.periods import Cadence
from ledger.scales import BUILT_IN_SCALES, Scale
from ledger.transfer.kinds.base import (
    Applied,
    Applying,
    Kind,
    RowCells,
    Unique,
    fixed_values,
    same_spelling,
)
from ledger.transfer.results import Outcome
from ledger.transfer.table import Row, key


def scale_key(scale: Scale) -> str:
    """The id the format uses for a scale ('rag', 'five-point', 'outcomes'); a copy
    adopted before scales had ids is known by its statuses."""
    if scale.key:
        return scale.key
    for name, known in BUILT_IN_SCALES.items():
        if known.same_statuses(scale):
            return name
    return scale.name


@dataclass(slots=True)
class ProgrammeRow(Row):
    name: str
    cadence: str
    scale: str
    requires_mitigation: bool
    description: str
    contact: dict[str, str]
    # The scale a programme new in the file began on, when scale_changes.csv changes it.
    began_on: list[str] = field(default_factory=list)


def check(v: RowCells) -> ProgrammeRow | None:
    slug = v.required("programme", "Enter the programme's short id.")
    if slug and not all(c.isalnum() or c in "-_" for c in slug):
        v.fail("programme", f"{slug!r} is not a valid programme id: use letters, digits and hyphens.")
    name = v.required("name", "Enter the programme's name.")
    cadence = v.check("cadence", lambda t: Cadence.parse(t).value)
    scale = v.check("scale", lambda t: scale_key(v.checker.scale(t)))
    requires = v.check("requires_mitigation", lambda t: yes_no(t, "requires_mitigation", True))
    contact = {k: v.raw(f"contact_{k}") for k in ("name", "phone", "email")}
    if v.bad:
        return None
    # The file's own programmes give later rows their cadence and scale, unless the
    # ledger already has the programme (which an import cannot change).
    v.checker.claim_programme(slug, cadence, v.checker.scale(scale))
    row = ProgrammeRow(
        v.table, v.number, slug, name, cadence, scale, requires == "yes", v.raw("description"), contact
    )
    v.checker.programme_rows[key(slug)] = row
    return row


def unique(row: ProgrammeRow) -> Unique:
    return Unique((key(row.programme),), "programme", f"programme {row.programme!r}")


def apply(applier: Applying, row: ProgrammeRow) -> Applied:
    programme_id = Programme.create_id(row.programme)
    existing = applier.batch.find(Programme, programme_id)
    if existing is None:
        applier.ledger.register_programme(
            row.programme, row.name, cadence=row.cadence, scale=(row.began_on or [row.scale])[0],
            requires_mitigation=row.requires_mitigation, description=row.description,
            contact=row.contact, actor=applier.actor, batch=applier.batch,
        )
        return Applied(programme_id, Outcome.NEW)
    same_spelling(row.programme, existing.slug, what="ids")
    fixed_values(f"{existing.name} is already registered", [
        ("cadence", existing.cadence, row.cadence),
        ("scale", scale_key(existing.scale), row.scale),
    ])
    applier.ledger.change_programme_details(
        row.programme, name=row.name, description=row.description, contact=row.contact,
        requires_mitigation=row.requires_mitigation, **applier.command_kwargs(applier.reason(row)),
    )
    return Applied(programme_id, Outcome.CHANGED)


PROGRAMMES = Kind(
    "programmes",
    (
        "programme", "name", "cadence", "scale", "requires_mitigation", "description",
        "contact_name", "contact_phone", "contact_email",
    ),
    check, apply, unique,
)
