"""Which of Datasette's 500s are really the visitor's mistake (issue 9, finding 7).

`_sort_desc=rowid` on audit_log gave a 500: audit_log has its own primary key
(`position`), so SQLite's rowid is not one of its columns and Datasette refuses to sort
by it, but with a DatasetteError whose status defaults to 500. Other parameters fail the
same way (an unknown `_sort` column, `_sort` with `_sort_desc`, a `_through` that is not a
JSON object naming a foreign key, a `_timelimit` or a view's `_next` that is not a whole
number), and a CSV export whose query ran out of time is not caught at all. Each of these
is answered 400 with a message saying what to change; any other failure gets a plain
500 page that shows nothing of the server's internals.
"""

from __future__ import annotations

import json
from typing import Any

from datasette.database import QueryInterrupted
from datasette.utils.asgi import BadRequest, Base400
from datasette.views.base import DatasetteError

from projections.datasette_limits import ResultTooLarge

# Datasette's own messages for a bad parameter, raised with its default status (500).
_BAD_PARAMETER_MESSAGES = (
    "Cannot sort table by ",
    "Cannot use _sort and _sort_desc at the same time",
    "Invalid _through",
)

_THROUGH_HINT = "_through must be a JSON object naming a table, column and value linked to this one."

SERVER_ERROR_MESSAGE = (
    "Something went wrong showing this page. Nothing was changed. Try again, and if it "
    "happens again tell your administrator what you were looking at."
)


def replacement(request: Any, exception: Exception) -> Exception | None:
    """The exception to show instead of `exception`, or None to show it as it is."""
    if isinstance(exception, Base400):
        return None
    if isinstance(exception, DatasetteError):
        if exception.status == 500 and str(exception.message).startswith(_BAD_PARAMETER_MESSAGES):
            return BadRequest(f"{exception.message}. {_sort_hint(exception.message)}".strip())
        return None
    if isinstance(exception, QueryInterrupted):
        return BadRequest("The query took longer than the time limit. Ask for fewer rows or a simpler query.")
    if isinstance(exception, ResultTooLarge):
        return BadRequest(str(exception))
    bad = _bad_parameter(request, exception)
    if bad is not None:
        return BadRequest(bad)
    return DatasetteError(SERVER_ERROR_MESSAGE, title="Sorry, there is a problem", status=500)


def _sort_hint(message: str) -> str:
    if message.startswith("Cannot sort table by "):
        return "Sort by one of the columns shown (rowid is not a column of tables with their own key)."
    if message.startswith("Cannot use _sort"):
        return "Use one of them."
    return _THROUGH_HINT


def _bad_parameter(request: Any, exception: Exception) -> str | None:
    """What is wrong with a parameter Datasette parses without checking, if that is what
    raised `exception` (int() and json.loads raise ValueError; a JSON value that is not
    an object with the right keys raises KeyError or TypeError)."""
    args = request.args
    if isinstance(exception, ValueError):
        if "_timelimit" in args and not _is_whole_number(args.get("_timelimit")):
            return "_timelimit must be a whole number of milliseconds."
        if "_next" in args and not _is_whole_number(args.get("_next")):
            return "_next must be the value from the page's own next link."
    if isinstance(exception, (ValueError, KeyError, TypeError)):
        for through in args.getlist("_through"):
            try:
                value = json.loads(through)
            except ValueError:
                value = None
            if not (isinstance(value, dict) and {"table", "column", "value"} <= value.keys()):
                return _THROUGH_HINT
    return None


def _is_whole_number(text: str | None) -> bool:
    try:
        int(text or "")
    except ValueError:
        return False
    return True
