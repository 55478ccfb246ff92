"""The ledger application: commands (verbs that return ids) and queries (`get_*`).

- `batch`: how every command loads, checks and saves (batches, conflicts)
- `programmes`: programmes and their items; `risks`: risks, issues and dependencies;
  `indicators`; `measures`: items' due dates and linked indicators;
  `reports`: narratives and publication; `accounts`; `scales`: status scales; `cycle`: leads
  linked to accounts, periods opened with a due date, reminders; `review`: updates
  submitted, approved or returned; `jobs`: background jobs
- `queries`: the `get_*` queries

Import from here: `from ledger.application import Ledger`.
"""

from __future__ import annotations

import os

from ledger.application.accounts import AccountCommands
from ledger.application.batch import Batch
from ledger.application.cycle import CycleCommands
from ledger.application.indicators import IndicatorCommands
from ledger.application.jobs import JobCommands
from ledger.application.measures import MeasureCommands
from ledger.application.programmes import ItemCommands, ProgrammeCommands
from ledger.application.queries import Queries, StatusHistory
from ledger.application.reports import ReportCommands
from ledger.application.retirements import RetirementCommands
from ledger.application.review import ReviewCommands
from ledger.application.risks import DependencyCommands, RiskCommands
from ledger.application.sides import DependencySideCommands
from ledger.config import event_store_env

__all__ = ["Batch", "Ledger", "StatusHistory", "open_ledger"]


class Ledger(
    ProgrammeCommands,
    ItemCommands,
    RetirementCommands,
    RiskCommands,
    DependencyCommands,
    DependencySideCommands,
    IndicatorCommands,
    MeasureCommands,
    ReportCommands,
    AccountCommands,
    CycleCommands,
    ReviewCommands,
    JobCommands,
    Queries,
):
    """Governance Ledger's write side. One instance per process; close it when done."""

    name = "GovernanceLedger"


def open_ledger(data_dir: str | os.PathLike[str] | None = None) -> Ledger:
    """The ledger on the event store in `data_dir` (see ledger.config)."""
    return Ledger(env=event_store_env(data_dir))
