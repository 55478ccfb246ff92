"""The dependency register (issue 12, item 6): every dependency with its two sides, what
each confirmed and where they stand, for the register page."""

from __future__ import annotations

from ledger.domain.agreement import DISAGREE
from ledger.refs import natural_sort_key
from projections.queries.connection import Db, Row, rows

_REGISTER = """
SELECT d.programme, p.name AS programme_name, d.ref, d.description, d.owner, d.plan_agreed,
       d.confidence, d.period,
       COALESCE(s.provider, '') AS provider, COALESCE(s.provider_kind, '') AS provider_kind,
       COALESCE(s.receiver, '') AS receiver, COALESCE(s.receiver_kind, '') AS receiver_kind,
       COALESCE(pp.name, s.provider, '') AS provider_name, COALESCE(pr.name, s.receiver, '') AS receiver_name,
       s.provider_plan_agreed, s.provider_confidence, s.provider_period, s.provider_confirmed_by,
       s.provider_confirmed_at, s.receiver_plan_agreed, s.receiver_confidence, s.receiver_period,
       s.receiver_confirmed_by, s.receiver_confirmed_at,
       COALESCE(s.agreement, 'sides not named') AS agreement,
       COALESCE(s.agreement_text, 'No provider and receiver named yet.') AS agreement_text,
       MAX(d.version, COALESCE(s.version, 0)) AS version
FROM dependencies d
JOIN programmes p ON p.programme = d.programme
LEFT JOIN dependency_sides s ON s.programme = d.programme AND s.ref = d.ref
LEFT JOIN programmes pp ON s.provider_kind = 'programme' AND pp.programme = s.provider
LEFT JOIN programmes pr ON s.receiver_kind = 'programme' AND pr.programme = s.receiver
"""


def get_dependency_register(db: Db, *, programme: str | None = None) -> list[Row]:
    """Every dependency (or one programme's) with both sides: the dependencies columns,
    provider/receiver and their kinds, provider_name/receiver_name (a programme by its
    name), each side's plan_agreed, confidence, period,
    confirmed_by and confirmed_at (None until it confirms), agreement and agreement_text,
    and version (the dependency's latest, for a change's seen_version). Disagreements
    first, then by programme and ref."""
    found = rows(
        db, f"{_REGISTER} WHERE (:programme IS NULL OR d.programme = :programme)", {"programme": programme}
    )
    return sorted(
        found, key=lambda r: (r["agreement"] != DISAGREE, r["programme"], natural_sort_key(r["ref"]))
    )


def get_dependency_sides(db: Db, programme: str, ref: str) -> Row | None:
    """One dependency's register row (as get_dependency_register); None if unknown.
    Refs ignore case."""
    found = rows(db, f"{_REGISTER} WHERE d.programme = ? AND d.ref = ? COLLATE NOCASE", (programme, ref))
    return found[0] if found else None
