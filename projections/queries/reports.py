"""The rest of a report: indicators, risks and issues, dependencies, narrative sections,
and what was published and changed after."""

from __future__ import annotations

from typing import Any

from ledger.refs import natural_sort_key
from projections.queries.connection import Db, Row, rows


def get_indicators(db: Db, programme: str, period: str) -> list[Row]:
    """Indicator values for the period, by ref then breakdown (overall first): ref, name,
    unit, better, breakdown, value, value_text, previous_period, previous_value, change,
    direction (good/bad/neutral or None), restated, recorded_by, recorded_at."""
    return rows(
        db,
        "SELECT ref, name, unit, better, breakdown, value, value_text, previous_period, "
        "previous_value, change, direction, restated, restated_reason, recorded_by, recorded_at "
        "FROM indicators WHERE programme = ? AND period = ? ORDER BY ref, breakdown != '', breakdown",
        (programme, period),
    )


def get_risks(db: Db, programme: str, kind: str | None = None, *, open_only: bool = False) -> list[Row]:
    """Risks and issues (risks_and_issues columns), by kind then ref: `kind` "risk" or
    "issue" for one kind; `open_only` hides closed ones."""
    sql = "SELECT * FROM risks_and_issues WHERE programme = ?"
    params: list[Any] = [programme]
    if kind is not None:
        sql += " AND kind = ?"
        params.append(kind)
    if open_only:
        sql += " AND state = 'open'"
    found = rows(db, sql, params)
    return sorted(found, key=lambda r: (r["kind"] != "risk", natural_sort_key(r["ref"])))


def get_risks_in(db: Db, programme: str, period_start: str) -> list[Row]:
    """Each risk and issue as it stood in the period starting `period_start`: its
    risk_history row in force then (its latest period at or before it: period, RAGs and
    their categories, mitigation, state, state_change) with its kind, ref, description
    and owner; risks first recorded later are left out. By kind then ref."""
    found = rows(
        db,
        """
        SELECT h.kind, h.ref, r.description, r.owner, h.period, h.rag_before, h.rag_before_category,
               h.mitigation, h.rag_after, h.rag_after_category, h.state, h.state_change
        FROM risk_history h
        JOIN risks_and_issues r ON r.programme = h.programme AND r.kind = h.kind AND r.ref = h.ref
        WHERE h.programme = :programme AND h.period_start = (
            SELECT max(x.period_start) FROM risk_history x
            WHERE x.programme = h.programme AND x.kind = h.kind AND x.ref = h.ref
              AND x.period_start <= :start)
        """,
        {"programme": programme, "start": period_start},
    )
    return sorted(found, key=lambda r: (r["kind"] != "risk", natural_sort_key(r["ref"])))


def get_dependencies(db: Db, programme: str) -> list[Row]:
    """Dependencies (dependencies columns) in ref order."""
    found = rows(db, "SELECT * FROM dependencies WHERE programme = ?", (programme,))
    return sorted(found, key=lambda r: natural_sort_key(r["ref"]))


def get_sections(db: Db, programme: str, period: str) -> list[Row]:
    """Report narrative sections for the period in report order: section, heading, text,
    written_by, written_at, first_written_at, revisions, version (the narrative's version
    after that write; the highest is the seen_version for write_narrative)."""
    return rows(
        db,
        "SELECT section, heading, section_order, text, written_by, written_at, first_written_at, "
        "revisions, version FROM report_sections WHERE programme = ? AND period = ? "
        "ORDER BY section_order",
        (programme, period),
    )


def get_publications(db: Db, programme: str, period: str | None = None) -> list[Row]:
    """Published editions, newest first (publications columns)."""
    sql = "SELECT * FROM publications WHERE programme = ?"
    params: list[Any] = [programme]
    if period is not None:
        sql += " AND period = ?"
        params.append(period)
    return rows(db, sql + " ORDER BY published_at DESC, edition DESC", params)


def get_changed_after_publication(db: Db, programme: str, period: str | None = None) -> list[Row]:
    """Changes recorded after the latest edition of each published report was built
    (changed_after_publication view columns), in log order."""
    sql = "SELECT * FROM changed_after_publication WHERE programme = ?"
    params: list[Any] = [programme]
    if period is not None:
        sql += " AND period = ?"
        params.append(period)
    return rows(db, sql + " ORDER BY report, position", params)


def get_record_changes_after(db: Db, programme: str, position: int) -> list[Row]:
    """Changes to the programme's records that belong to no period (a retitle, a move, an
    item registered, an indicator redefined), recorded after log `position`, oldest first
    (audit_log columns). Every report of the programme built later shows them, so a
    published edition built at `position` does not; accounts and publications aside."""
    return rows(
        db,
        "SELECT * FROM audit_log WHERE programme = ? AND period IS NULL AND position > ? "
        "AND aggregate_kind NOT IN ('Publication', 'Account') ORDER BY position",
        (programme, position),
    )


def get_indicator_definitions(db: Db, programme: str) -> list[Row]:
    """The programme's indicators in ref order: ref, name, unit, better, description,
    version (the seen_version for recording a value)."""
    found = rows(
        db,
        "SELECT ref, name, unit, better, description, version FROM indicator_definitions WHERE programme = ?",
        (programme,),
    )
    return sorted(found, key=lambda r: natural_sort_key(r["ref"]))
