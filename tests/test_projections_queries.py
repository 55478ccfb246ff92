"""The query functions the web's pages read through: indicator definitions, the
filtered and paged audit log, its streamed export, and the as-at lookups."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from test_projections_support import PLAN, record_plan

from projections import queries
from projections.schema import SCHEMA_VERSION
from projections.system import System


@pytest.fixture
def plan(system: System) -> System:
    record_plan(system.ledger)
    return system


def test_indicator_definitions_in_ref_order_with_their_versions(plan: System) -> None:
    plan.ledger.define_indicator(PLAN, "K10", name="Ten", unit="", better="higher", actor="hr")
    plan.ledger.define_indicator(PLAN, "K9", name="Nine", unit="", better="higher", actor="hr")
    definitions = queries.get_indicator_definitions(plan.projections_db, PLAN)
    assert [d["ref"] for d in definitions] == ["FTE", "K9", "K10", "VAC"]
    fte = definitions[0]
    assert (fte["name"], fte["unit"], fte["better"]) == ("Staff (FTE)", "FTE", "neither")
    assert fte["version"] == 3  # defined, then two values recorded


def test_the_audit_log_filters_and_pages_both_ways(plan: System) -> None:
    db = plan.projections_db
    every = queries.get_audit_log(db, limit=10_000)
    statuses = [r for r in every if (r["aggregate_kind"], r["event_type"]) == ("Item", "StatusRecorded")]
    wanted = queries.AuditFilter(programme=PLAN, event="Item.StatusRecorded")
    assert queries.get_audit_log(db, wanted, limit=10_000) == statuses
    newest_two = queries.get_audit_log(db, wanted, limit=2)
    assert newest_two == statuses[:2]
    # After a position: the oldest ones after it, still newest first.
    after = statuses[-1]["position"]
    assert queries.get_audit_log(db, wanted, limit=2, after=after) == statuses[-3:-1]
    assert queries.get_audit_log(db, wanted, limit=2, before=statuses[1]["position"]) == statuses[2:4]
    today = datetime.now(UTC).date()
    assert queries.get_audit_log(db, queries.AuditFilter(until=today.replace(year=today.year - 1))) == []
    shouted = queries.AuditFilter(actor=statuses[0]["actor"].upper(), event="Item.StatusRecorded")
    assert queries.get_audit_log(db, shouted, limit=1) == statuses[:1]


def test_the_audit_log_export_streams_in_log_order_in_batches(plan: System) -> None:
    db = plan.projections_db
    total = queries.get_projection_position(db)
    batches = list(queries.iter_audit_log(db, queries.AuditFilter(), ("position", "actor"), batch=7))
    assert [len(b) for b in batches[:-1]] == [7] * (len(batches) - 1)
    assert [row[0] for batch in batches for row in batch] == list(range(1, total + 1))
    with pytest.raises(ValueError, match="no column 'password'"):
        list(queries.iter_audit_log(db, queries.AuditFilter(), ("position", "password")))


def test_as_at_lookups_and_snapshot_names(plan: System) -> None:
    db = plan.projections_db
    last = queries.get_audit_log(db, limit=1)[0]
    assert queries.get_recorded_at(db, last["position"]) == last["recorded_at"]
    assert queries.get_recorded_at(db, last["position"] + 1) is None
    assert queries.get_position_as_at(db, last["recorded_at"]) == last["position"]
    assert queries.get_position_as_at(db, "2000-01-01T00:00:00+00:00") == 0
    name = queries.get_snapshot_name(db, last["position"])
    assert name == f"position-{last['position']}-{last['chain_head'][:16]}-schema{SCHEMA_VERSION}.db"
    assert queries.get_snapshot_name(db, 0) == f"position-0-genesis-schema{SCHEMA_VERSION}.db"
    assert "Item.StatusRecorded" in queries.get_event_types()


def test_programme_summaries_count_each_programmes_latest_period(plan: System) -> None:
    plan.ledger.register_programme("empty", "Nothing yet", cadence="monthly", actor="a")
    summaries = {p["programme"]: p for p in queries.get_programme_summaries(plan.projections_db)}
    assert summaries["empty"]["summary"] is None
    latest = summaries[PLAN]["latest_period"]
    assert summaries[PLAN]["summary"] == queries.get_summary(plan.projections_db, PLAN, latest)
    assert summaries[PLAN]["summary"]["total"] > 0
