"""Scales as the read model holds them: the scales councils defined, each programme's
changes of scale, and the summaries a scale gives (by category, by group), and how a
status rated on an earlier scale maps onto the scale in force."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ledger.scales import CATEGORIES
from projections.queries.connection import Db, Row, rows


def get_scales(db: Db) -> list[Row]:
    """Every scale a council defined, by name: scale, name, statuses (list of dicts:
    name, category, colour, aliases, group...), defined_at, defined_by, revised_at,
    reason, version."""
    found = rows(db, "SELECT * FROM scales ORDER BY name")
    for row in found:
        row["statuses"] = json.loads(row["statuses"])
    return found


def get_scale_changes(db: Db, programme: str) -> list[Row]:
    """The programme's changes of scale, oldest first: position, from_scale, to_scale,
    mapping (dict old status -> new), from_period (and its first day), reason,
    changed_by, changed_at."""
    found = rows(
        db,
        "SELECT position, from_scale, to_scale, mapping, from_period, from_period_start, reason, "
        "changed_by, changed_at "
        "FROM scale_changes WHERE programme = ? ORDER BY position",
        (programme,),
    )
    for row in found:
        row["mapping"] = json.loads(row["mapping"])
    return found


def group_totals(statuses: Sequence[Row]) -> list[Row]:
    """Each group of a summary's statuses (in scale order): group, count, and its parts
    [{status, count}], as councils print "In progress: 12 (Green 8, Amber 3, Red 1)"."""
    groups: dict[str, Row] = {}
    for status in statuses:
        name = status.get("status_group") or ""
        if name:
            group = groups.setdefault(name, {"group": name, "count": 0, "parts": []})
            group["count"] += status["count"]
            group["parts"].append({"status": status["status"], "count": status["count"]})
    return list(groups.values())


def category_totals(statuses: Sequence[Row]) -> list[Row]:
    """Counts by category, every category in its fixed order (zeros included), so
    programmes on different scales compare side by side."""
    counts = dict.fromkeys(CATEGORIES, 0)
    for status in statuses:
        counts[status.get("status_category") or "not rated"] += status["count"]
    return [{"category": name, "count": count} for name, count in counts.items()]


def map_onto_current_scale(db: Db, programme: str, cells: Sequence[Row]) -> list[Row]:
    """Give each rated cell (a status_history row with `status` and `position`) the
    status it maps onto under the scale in force, through every change of scale recorded
    after it was rated: `mapped_status` and `mapped_category` (None when no change
    applies or the status is the same). Returns the changes (get_scale_changes)."""
    changes = get_scale_changes(db, programme)
    current = {
        r["status"]: r["category"]
        for r in rows(db, "SELECT status, category FROM statuses WHERE programme = ?", (programme,))
    }
    for cell in cells:
        status = cell["status"]
        for change in changes:
            # A change from a period maps the periods before it; one without, what was
            # recorded before it.
            start = change["from_period_start"]
            if (cell["period_start"] < start) if start else change["position"] > cell["position"]:
                status = change["mapping"].get(status, status)
        mapped = status != cell["status"]
        cell["mapped_status"] = status if mapped else None
        cell["mapped_category"] = current.get(status, "unrated") if mapped else None
    return changes
