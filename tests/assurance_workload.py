"""The workload the concurrency and crash suites share (issue 16, items 2 and 3).

Writers run commands on a small shared set of records (updates, corrections and
re-ratings, each with a fresh or a stale version seen), and keep a client-side journal:
one line per outcome, written and fsynced only after the ledger answered, so what is in
the journal is exactly what a user was told. `account` then holds the log to the
journals: every accepted command in the log exactly once, every refused one absent and
its conflict naming changes that really are in the log, nothing in the log that no
command accounts for. `check_store` adds that the chain verifies and the projections
equal a rebuild. No tests here.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from test_projections_support import data_tables, dump

from ledger.application import Ledger
from ledger.errors import Conflict, LedgerError
from ledger.store.verification import event_store, verify
from projections.system import build, open_system

PLAN = "shared-plan"
ITEMS = ("A1", "A2", "A3", "A4")
RISKS = ("R1", "R2")
Q1, Q2 = "2024/25 Q1", "2024/25 Q2"
STATUSES = ("Green", "Amber", "Red")
KINDS = ("update", "correction", "re-rating")
TOKEN = re.compile(r"cmd-\d+-\d+")


def seed(ledger: Ledger) -> dict[str, str]:
    """The shared records, each item rated for Q1 (so a correction has something to put
    right). Returns each target ("item A1", "risk R1") with its aggregate id."""
    ledger.register_programme(PLAN, "Shared plan", cadence="quarterly", actor="pm")
    targets: dict[str, str] = {}
    for ref in ITEMS:
        targets[f"item {ref}"] = str(ledger.register_item(PLAN, ref, kind="action", title=ref, actor="pm"))
        ledger.record_status(PLAN, ref, period=Q1, status="Green", update="Started", actor="pm")
    for ref in RISKS:
        targets[f"risk {ref}"] = str(
            ledger.raise_risk(
                PLAN, ref, description=f"Risk {ref}", rag_before="Red", mitigation="Plan", rag_after="Amber",
                period=Q1, actor="pm",
            )
        )  # fmt: skip
    return targets


class Journal:
    """The client's record of what it was told, one JSON line per answer, fsynced."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("a", encoding="utf-8")

    def write(self, entry: dict[str, Any]) -> None:
        self._file.write(json.dumps(entry) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()

    @staticmethod
    def read(paths: list[Path]) -> list[dict[str, Any]]:
        entries = []
        for path in paths:
            if path.exists():
                # A writer killed mid-line leaves a torn last line: it was never complete.
                for line in path.read_text(encoding="utf-8").splitlines():
                    try:
                        entries.append(json.loads(line))
                    except json.JSONDecodeError:
                        continue
        return entries


def _run(ledger: Ledger, kind: str, target: str, token: str, seen: int, rng: random.Random) -> None:
    what, ref = target.split(" ")
    status = rng.choice(STATUSES)
    mitigation = "" if status == "Green" else f"Mitigation {token}"
    if what == "risk":
        ledger.rerate_risk(
            PLAN, ref, rag_before="Red", mitigation=f"Plan {token}", rag_after=status, period=Q2,
            actor=token.rsplit("-", 1)[0], reason=f"Re-rated {token}", seen_version=seen,
        )  # fmt: skip
    elif kind == "correction":
        ledger.correct_status(
            PLAN, ref, period=Q1, status=status, update=f"Corrected {token}", mitigation=mitigation,
            actor=token.rsplit("-", 1)[0], reason=f"Wrong {token}", seen_version=seen,
        )  # fmt: skip
    else:
        ledger.record_status(
            PLAN, ref, period=Q2, status=status, update=f"Update {token}", mitigation=mitigation,
            actor=token.rsplit("-", 1)[0], reason=f"Re-rated {token}", seen_version=seen,
        )  # fmt: skip


def write_commands(data_dir: str, worker: int, count: int, targets: dict[str, str], journal: str) -> None:
    """One writer: `count` commands on the shared targets, half of them with a version
    remembered from earlier (stale if anyone has saved since), through open_system, so
    each save is projected as it would be behind the web app."""
    rng = random.Random(worker)
    log = Journal(Path(journal))
    remembered: dict[str, list[int]] = {t: [1] for t in targets}
    system = open_system(data_dir)
    try:
        ledger = system.ledger
        for n in range(count):
            target = rng.choice(list(targets))
            kind = "re-rating" if target.startswith("risk") else rng.choice(KINDS[:2])
            if rng.random() < 0.5:
                seen, fresh = rng.choice(remembered[target]), False
            else:
                seen, fresh = ledger.get_version(_uuid(targets[target])), True
                remembered[target].append(seen)
            token = f"cmd-{worker}-{n}"
            entry: dict[str, Any] = {
                "id": token,
                "kind": kind,
                "target": target,
                "seen": seen,
                "fresh": fresh,
            }
            try:
                _run(ledger, kind, target, token, seen, rng)
            except Conflict as conflict:
                entry |= {
                    "outcome": "conflict",
                    "current": conflict.current_version,
                    "changes": [[c.version, c.actor] for c in conflict.changes],
                    "message": str(conflict),
                }
            except LedgerError as refused:
                entry |= {"outcome": "refused", "message": str(refused)}
            else:
                entry["outcome"] = "accepted"
                remembered[target].append(seen + 1)
            log.write(entry)
    finally:
        system.close()
        log.close()


def _uuid(text: str) -> Any:
    from uuid import UUID

    return UUID(text)


@dataclass
class Figures:
    """What one run's log and journals add up to."""

    tried: int = 0
    accepted: int = 0
    conflicts: int = 0
    conflicts_naming_the_change: int = 0
    other_refusals: int = 0
    lost: list[str] = field(default_factory=list)  # accepted, not in the log
    duplicated: list[str] = field(default_factory=list)  # in the log more than once
    refused_but_recorded: list[str] = field(default_factory=list)
    unacknowledged: list[str] = field(default_factory=list)  # in the log, no answer journaled
    events: int = 0

    def line(self) -> str:
        return ", ".join(
            f"{k.replace('_', ' ')} {len(v) if isinstance(v, list) else v}" for k, v in asdict(self).items()
        )


def log_events(ledger: Ledger) -> list[Any]:
    """Every event in the log, in order, a page at a time (PostgreSQL may leave gaps)."""
    events, start = [], 0
    while True:
        page = ledger.recorder.select_notifications(start, 1000, inclusive_of_start=False)
        if not page:
            return events
        events.extend(ledger.mapper.to_domain_event(n) for n in page)
        start = page[-1].id


def account(ledger: Ledger, entries: list[dict[str, Any]], targets: dict[str, str]) -> Figures:
    """Hold the log to the journals (see the module's docstring)."""
    events = log_events(ledger)
    in_log: Counter[str] = Counter()
    by_version: dict[tuple[str, int], str] = {}
    for event in events:
        by_version[(str(event.originator_id), event.originator_version)] = getattr(event, "actor", "")
        tokens = set(TOKEN.findall(" ".join(str(v) for v in vars(event).values() if isinstance(v, str))))
        in_log.update(tokens)
    figures = Figures(tried=len(entries), events=len(events))
    answered = set()
    for entry in entries:
        token, outcome = entry["id"], entry["outcome"]
        answered.add(token)
        if outcome == "accepted":
            figures.accepted += 1
            if in_log[token] == 0:
                figures.lost.append(token)
        elif in_log[token]:
            figures.refused_but_recorded.append(token)
        if outcome == "conflict":
            figures.conflicts += 1
            aggregate = targets[entry["target"]]
            named = entry["changes"] and all(
                version > entry["seen"] and by_version.get((aggregate, version)) == actor
                for version, actor in entry["changes"]
            )
            figures.conflicts_naming_the_change += bool(named and entry["current"] > entry["seen"])
        elif outcome == "refused":
            figures.other_refusals += 1
    figures.duplicated = sorted(t for t, n in in_log.items() if n > 1)
    figures.unacknowledged = sorted(set(in_log) - answered)
    return figures


def check_store(data_dir: Path, scratch: Path) -> tuple[int, bool]:
    """The chain verifies, and the projections, caught up, equal a rebuild from the log.
    Returns (events verified, projections equal)."""
    result = verify(event_store(data_dir))
    assert result.ok, result
    with open_system(data_dir) as system:
        live = dump(system.projections_db)
        rebuilt = scratch / "rebuilt.db"
        build(system.ledger, rebuilt)
    equal = data_tables(dump(rebuilt)) == data_tables(live)
    rebuilt.unlink()
    return result.events, equal
