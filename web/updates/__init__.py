"""Officers record their updates: statuses and updates (and corrections), risks and
issues, dependencies, indicator values and the report narrative; programme managers open
periods for updates with a due date.

Every view is for officers and programme managers (opening a period and extending it,
`periods`, for programme managers only), and writes only to programmes assigned to them
(`web.permissions.can_write`); everyone else gets 403, even for the empty form.
Handlers are thin: validate, one ledger command, flash, redirect; otherwise
the form again with what was typed, the error summary, or on a conflict the other
person's change beside the officer's own text.
"""

from __future__ import annotations

from flask import Flask

from web.updates import details, items, measures, moves, periods, records, retirements, review, risks  # noqa: F401  (importing them registers the views)
from web.updates.support import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
