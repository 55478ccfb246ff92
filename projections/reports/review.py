"""The review state of a report's entries (issue 12), in the words pages use."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from projections.queries.review import REVIEW_STATE_WORDS, get_review_states
from projections.reports.model import Entry


def with_review(conn: sqlite3.Connection, programme: str, period: str, entries: list[Entry]) -> list[Entry]:
    """Each recorded entry's review state in words ("Approved", "Approval superseded"...),
    once anything of the period went to review; otherwise the entries as they are, so the
    report has no review column and its bytes are as before review existed."""
    states = get_review_states(conn, programme, period)
    if not states:
        return entries
    return [
        replace(e, review=REVIEW_STATE_WORDS[states[e.ref]["state"] if e.ref in states else "draft"])
        if e.category not in ("none", "retired")
        else e
        for e in entries
    ]
