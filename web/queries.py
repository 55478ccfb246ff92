"""The read side, as the web needs it: projections.queries bound to this app's database.

The projector writes projections.db after every save, so a page shows the change its own
form just made.
"""

from __future__ import annotations

from typing import Any

from projections import queries
from web.backend import backend


def list_accounts() -> list[dict[str, Any]]:
    """Accounts by username: username, display_name, roles, programmes, active."""
    return queries.get_accounts(backend().system.projections_db)


def list_programmes() -> list[dict[str, Any]]:
    """Programmes by name: programme (the id), name, cadence..."""
    return queries.get_programmes(backend().system.projections_db)


def list_programme_summaries() -> list[dict[str, Any]]:
    """Each programme with its latest period's status counts (`summary`, or None)."""
    db = backend().system.projections_db
    programmes = queries.get_programmes(db)
    for programme in programmes:
        latest = programme["latest_period"]
        programme["summary"] = queries.get_summary(db, programme["programme"], latest) if latest else None
    return programmes
