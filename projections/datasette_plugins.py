"""Datasette plugin hooks for the Governance Ledger, registered by make_datasette.

`actor_from_request` defers to the callable given to `make_datasette` for that
Datasette instance (for example, reading the web app's signed session), so the same
process can serve several instances, each with its own way of knowing who is signed in.
Datasette's own `ds_actor` cookie keeps working alongside it.
"""

from __future__ import annotations

import sys
from typing import Any
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.app import Datasette
from datasette.plugins import pm
from datasette.utils.asgi import Response
from markupsafe import escape

_ATTRIBUTE = "_govledger_actor_from_request"
_SIGN_IN_ATTRIBUTE = "_govledger_sign_in_url"
_PLUGIN_NAME = "govledger"


@hookimpl
def actor_from_request(datasette: Datasette, request: Any) -> Any:
    reader = getattr(datasette, _ATTRIBUTE, None)
    if reader is None:
        return None
    return reader(request)  # an actor, None, or an awaitable of either


def set_actor_from_request(datasette: Datasette, reader: Any) -> None:
    setattr(datasette, _ATTRIBUTE, reader)


@hookimpl
def forbidden(datasette: Datasette, request: Any, message: str) -> Any:
    """Someone not signed in still gets a 403, but one that says how to sign in and
    brings them back here afterwards. A signed-in person without the right role gets
    Datasette's own 403: signing in again won't help."""
    sign_in = getattr(datasette, _SIGN_IN_ATTRIBUTE, None)
    if sign_in is None or request.actor is not None:
        return None
    here = datasette.urls.path(request.path)
    if request.query_string:
        here += f"?{request.query_string}"
    link = escape(f"{sign_in}?{urlencode({'next': here})}")
    return Response.html(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>Sign in to see the data – Governance Ledger</title></head><body>"
        "<h1>Sign in to see the data</h1>"
        f"<p>The data explorer is for signed-in users. <a href=\"{link}\">Sign in</a> "
        "and you will come straight back here.</p></body></html>",
        status=403,
    )


def set_sign_in_url(datasette: Datasette, url: str | None) -> None:
    setattr(datasette, _SIGN_IN_ATTRIBUTE, url)


def register() -> None:
    """Register these hooks with Datasette's plugin manager (once per process)."""
    if pm.get_plugin(_PLUGIN_NAME) is None:
        pm.register(sys.modules[__name__], name=_PLUGIN_NAME)
