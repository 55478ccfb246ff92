"""Programmes, their scales and periods, accounts, and how far the read model has got."""

from __future__ import annotations

import json

from projections.queries.connection import Db, Row, one, rows
from projections.schema import PROJECTION

_PROGRAMME_COLUMNS = """
    SELECT p.programme, p.name, p.cadence, p.periods, p.scale_name, p.requires_mitigation,
           p.description, p.contact, p.version,
           (SELECT period FROM periods x WHERE x.programme = p.programme
            ORDER BY period_start DESC LIMIT 1) AS latest_period
    FROM programmes p
"""


def _programme_row(row: Row) -> Row:
    row["requires_mitigation"] = bool(row["requires_mitigation"])
    row["contact"] = json.loads(row["contact"])
    return row


def get_programmes(db: Db) -> list[Row]:
    """Every programme, by name: programme, name, cadence, periods (a custom cadence's, as
    JSON, else None), scale_name, requires_mitigation (bool), description, contact (dict),
    latest_period (or None), version."""
    return [_programme_row(row) for row in rows(db, _PROGRAMME_COLUMNS + " ORDER BY p.name")]


def get_programme(db: Db, programme: str) -> Row | None:
    """One programme as in get_programmes, plus its scale (list of statuses), or None."""
    row = one(db, _PROGRAMME_COLUMNS + " WHERE p.programme = ?", (programme,))
    if row is None:
        return None
    return {**_programme_row(row), "scale": get_scale(db, programme)}


def get_scale(db: Db, programme: str) -> list[Row]:
    """The programme's statuses in scale order: status, category (RAG band), rank,
    sort_order, description, aliases (list), status_category, status_group, colour,
    needs_mitigation."""
    statuses = rows(
        db,
        "SELECT status, category, rank, sort_order, description, aliases, status_category, "
        "status_group, colour, needs_mitigation FROM statuses WHERE programme = ? ORDER BY sort_order",
        (programme,),
    )
    for row in statuses:
        row["aliases"] = json.loads(row["aliases"])
    return statuses


def get_periods(db: Db, programme: str) -> list[Row]:
    """Periods with anything recorded, oldest first: period, period_start, period_end,
    description ("April 2024 to June 2024")."""
    return rows(
        db,
        "SELECT period, period_start, period_end, description FROM periods "
        "WHERE programme = ? ORDER BY period_start",
        (programme,),
    )


def get_accounts(db: Db) -> list[Row]:
    """Accounts by username: username, display_name, roles (list), programmes (list),
    active (bool), version. Never any password."""
    accounts = rows(
        db,
        "SELECT username, display_name, roles, programmes, active, version FROM accounts ORDER BY username",
    )
    for row in accounts:
        row["roles"] = json.loads(row["roles"])
        row["programmes"] = json.loads(row["programmes"])
        row["active"] = bool(row["active"])
    return accounts


def get_projection_position(db: Db) -> int:
    """The last event log position the read model includes: what a report built from it
    was "built from" (pass it to publish_report as log_position)."""
    row = one(db, "SELECT position FROM projection_position WHERE projection = ?", (PROJECTION,))
    return int(row["position"]) if row else 0
