"""Datasette plugin hooks for the Governance Ledger, registered by make_datasette.

`actor_from_request` defers to the callable given to `make_datasette` for that
Datasette instance (for example, reading the web app's signed session), so the same
process can serve several instances, each with its own way of knowing who is signed in.
Datasette's own `ds_actor` cookie keeps working alongside it.
"""

from __future__ import annotations

import sys
from typing import Any

from datasette import hookimpl
from datasette.app import Datasette
from datasette.plugins import pm

_ATTRIBUTE = "_govledger_actor_from_request"
_PLUGIN_NAME = "govledger"


@hookimpl
def actor_from_request(datasette: Datasette, request: Any) -> Any:
    reader = getattr(datasette, _ATTRIBUTE, None)
    if reader is None:
        return None
    return reader(request)  # an actor, None, or an awaitable of either


def set_actor_from_request(datasette: Datasette, reader: Any) -> None:
    setattr(datasette, _ATTRIBUTE, reader)


def register() -> None:
    """Register these hooks with Datasette's plugin manager (once per process)."""
    if pm.get_plugin(_PLUGIN_NAME) is None:
        pm.register(sys.modules[__name__], name=_PLUGIN_NAME)
