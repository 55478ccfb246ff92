"""Narrative that no longer matches the numbers (issue 13, item 3): checks a manager sees
before publishing, and the report's record shows.

- **Written before a re-rating**: a narrative section of the period that summarises its
  ratings (the summary section, or any section naming a status on the programme's scale)
  whose text in force was recorded before an item's status for the period changed. Each
  change is named: the item, the status when the text was written and the status now.
- **Counts that differ**: a section quoting a count by status ("Green 48", "Green: 48",
  "Green – on track: 48", "48 Green", "48 actions rated Green", each on one line) that
  differs from the period's computed count, naming both.

Worked out from projected rows, so a pure function of the log, like the flags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from projections.queries.connection import Db, Row, rows
from projections.queries.dashboards import get_summary

# Words a count may have between it and the status, on the same line: "48 actions are
# rated Green".
_BETWEEN = r"(?:(?:items?|actions?|workstreams?|core areas?|are|were|is|was|rated|as|now)[ \t]+){0,4}"
# What a paper may say of a status before its count, on the same line: "Green – on track: 48".
_GLOSS = r"(?:[ \t]*[–-][^\n\d:]{0,80}(?=:))?"


@dataclass(frozen=True)
class NarrativeCheck:
    section: str  # the section's key, e.g. summary
    heading: str
    kind: str  # "written before a re-rating" or "count differs"
    why: str  # the check in words


_SECTIONS = """
SELECT section, heading, text, position FROM report_sections
WHERE programme = :programme AND period = :period ORDER BY section_order
"""

_STATUS_STEPS = """
SELECT ref, position, status FROM status_events
WHERE programme = :programme AND period = :period
ORDER BY ref, position
"""


_NUMBER = r"(\d{1,3}(?:,\d{3})+|\d+)\b"


def _quoted_counts(text: str, statuses: list[str]) -> list[tuple[str, int]]:
    """(status, count) for every count the text quotes by status, in the order written:
    "Green 48" first, then "48 Green" for numbers not already read as the status before
    them (so "Green 3, Amber 1" is Green 3 and Amber 1, never Amber 3)."""
    found: list[tuple[int, str, int]] = []
    taken: set[int] = set()
    for status in statuses:
        name = re.escape(status)
        after = rf"\b{name}\b{_GLOSS}[ \t]*(?:[:=–-][ \t]*)?{_NUMBER}"
        for m in re.finditer(after, text, flags=re.IGNORECASE):
            found.append((m.start(), status, int(m[1].replace(",", ""))))
            taken.add(m.start(1))
    for status in statuses:
        name = re.escape(status)
        for m in re.finditer(rf"\b{_NUMBER}[ \t]+{_BETWEEN}{name}\b", text, flags=re.IGNORECASE):
            if m.start(1) not in taken:
                found.append((m.start(), status, int(m[1].replace(",", ""))))
    return [(status, count) for _, status, count in sorted(found)]


def _changes_since(steps: list[Row], position: int) -> list[tuple[str, str, str]]:
    """(ref, status when the text was written, status now) for each item whose status for
    the period changed after log position `position`."""
    by_item: dict[str, list[Row]] = {}
    for step in steps:
        by_item.setdefault(step["ref"], []).append(step)
    changed = []
    for ref, item_steps in by_item.items():
        then = next((s["status"] for s in reversed(item_steps) if s["position"] <= position), None)
        now = item_steps[-1]["status"]
        if item_steps[-1]["position"] > position and then != now:
            changed.append((ref, then or "not rated", now or "Not rated"))
    return changed


def get_narrative_checks(db: Db, programme: str, period: str) -> list[NarrativeCheck]:
    """Every check that fails for the period's narrative, in report order."""
    summary = get_summary(db, programme, period)
    counts = {s["status"]: s["count"] for s in summary["statuses"]}
    params = {"programme": programme, "period": period}
    steps = rows(db, _STATUS_STEPS, params)
    checks: list[NarrativeCheck] = []
    for section in rows(db, _SECTIONS, params):
        text = section["text"] or ""
        named = [s for s in counts if re.search(rf"\b{re.escape(s)}\b", text, flags=re.IGNORECASE)]
        if not text.strip() or not (named or section["section"] == "summary"):
            continue
        heading = section["heading"]
        changes = _changes_since(steps, section["position"])
        if changes:
            listed = "; ".join(f"{ref} {then} to {now}" for ref, then, now in changes)
            checks.append(NarrativeCheck(
                section["section"], heading, "written before a re-rating",
                f"“{heading}” was written before {len(changes)} later change"
                f"{'' if len(changes) == 1 else 's'} to {period}'s ratings: {listed}.",
            ))
        for status, quoted in dict.fromkeys(_quoted_counts(text, named)):
            if quoted != counts[status]:
                checks.append(NarrativeCheck(
                    section["section"], heading, "count differs",
                    f"“{heading}” says {status} {quoted}, but {counts[status]} "
                    f"{'is' if counts[status] == 1 else 'are'} rated {status} for {period}.",
                ))
    return checks
