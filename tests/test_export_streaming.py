"""Export streams one record at a time (issue 14 item 8): its output is byte for byte what
the whole-log export wrote before, for a ledger of several programmes with every kind of
row (tests/fixtures/export_many/, written by the previous implementation), and still so
after an import of that export into an empty ledger."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_export import rich  # noqa: F401  (a fixture)

from ledger.application import Ledger, open_ledger
from ledger.transfer.export import export
from ledger.transfer.importing import import_file
from ledger.transfer.kinds import KINDS

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "export_many"
P2, P4 = "2024/25 P2", "2024/25 P4"


@pytest.fixture
def many(rich: Ledger) -> Ledger:  # noqa: F811
    """`rich` (the seed's programmes and a board), plus a change of scale, a programme on
    periods it defines, and an item retired, merged and reinstated."""
    a = {"actor": "carol"}
    ledger = rich
    ledger.register_programme("trust", "Children's Trust", cadence="custom", scale="rag",
                              requires_mitigation=False, **a)
    ledger.define_periods("trust", [[P2, "2024-04-01", "2024-07-31"], [P4, "2024-08-01", "2024-11-30"]], **a)
    for ref, title in (("CA1", "Early help"), ("CA2", "Education"), ("CA3", "Health")):
        ledger.register_item("trust", ref, kind="core area", title=title, **a)
    ledger.record_status("trust", "CA1", period=P2, status="Red", update="Behind", mitigation="Plan", **a)
    ledger.record_status("trust", "CA1", period=P4, status="Green", update="Back on track", **a)
    ledger.record_status("trust", "CA2", period=P4, status="Amber", update="Slow", mitigation="Review", **a)
    ledger.retire_item("trust", "CA3", period=P2, reason="Folded in", merged_into="CA2", **a)
    ledger.reinstate_item("trust", "CA3", period=P4, reason="Split out again", **a)
    ledger.register_programme("targets", "Targets", cadence="quarterly", scale="five-point",
                              requires_mitigation=False, **a)
    ledger.register_item("targets", "T1", kind="objective", title="Recycling rate", **a)
    ledger.record_status("targets", "T1", period="2024/25 Q2", status="Amber/Green", update="Close", **a)
    ledger.change_scale("targets", "rag", reason="Adopts RAG", from_period="2024/25 Q3", mapping={
        "Green": "Green", "Amber/Green": "Amber", "Amber": "Amber", "Amber/Red": "Red", "Red": "Red",
    }, **a)
    ledger.record_status("targets", "T1", period="2024/25 Q3", status="Green", update="Recovered", **a)
    return ledger


def _files(folder: Path) -> dict[str, bytes]:
    return {kind: (folder / f"{kind}.csv").read_bytes() for kind in KINDS}


def test_a_many_programme_export_is_byte_identical_to_the_previous_one(many: Ledger, tmp_path: Path) -> None:
    result = export(many, tmp_path / "out")
    assert _files(tmp_path / "out") == _files(FIXTURE)
    assert result.rows["scale_changes"] == 1 and result.rows["retirements"] == 2
    assert result.rows["history"] > 0 and result.rows["periods"] == 2


def test_its_re_import_into_an_empty_ledger_exports_the_same_bytes(many: Ledger, tmp_path: Path) -> None:
    export(many, tmp_path / "out")
    fresh = open_ledger(tmp_path / "fresh")
    try:
        assert import_file(fresh, tmp_path / "out", actor="carol").problems == []
        export(fresh, tmp_path / "again")
    finally:
        fresh.close()
    assert _files(tmp_path / "again") == _files(tmp_path / "out")
