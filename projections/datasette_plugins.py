"""Datasette plugin hooks for the Governance Ledger, registered by make_datasette.

`actor_from_request` defers to the callable given to `make_datasette` for that
Datasette instance (for example, reading the web app's signed session), so the same
process can serve several instances, each with its own way of knowing who is signed in.
Datasette's own `ds_actor` cookie keeps working alongside it.

The other hooks harden Datasette (issue 9, findings 4 and 7): every connection is bounded
(projections.datasette_limits), Datasette's debug and introspection pages are for
administrators only, its CSV is neutralised against formulas
(projections.datasette_csv), and a bad parameter gets a 400 that says what to change
rather than a 500 (projections.datasette_errors).
"""

from __future__ import annotations

import logging
import re
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.app import Datasette
from datasette.plugins import pm
from datasette.utils import actor_matches_allow, await_me_maybe, display_actor
from datasette.utils.asgi import Forbidden, Request, Response
from markupsafe import Markup, escape

from projections import datasette_look
from projections.datasette_csv import neutralising
from projections.datasette_errors import replacement
from projections.datasette_limits import CSV_EXPORT, bound_connection
from projections.queries.flags import register_flags_function

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]

_ATTRIBUTE = "_govledger_actor_from_request"
_SIGN_IN_ATTRIBUTE = "_govledger_sign_in_url"
_PLUGIN_NAME = "govledger"
_LOOK_PLUGIN_NAME = "govledger-look"
_log = logging.getLogger(__name__)

# As strict as Datasette's pages allow: its templates carry inline scripts and styles (no
# nonce hook), and Vega compiles chart expressions with `new Function`. Everything is
# loaded from this origin; no plugins, no <base>, no posting elsewhere, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)

_REFUSED = "/-/administrators-only"  # where a refused request for a debug page is sent
# Who may see Datasette's debug and introspection pages (an allow block, as in metadata).
DEBUG_ALLOW = {"roles": ["administrator"]}
# Threads, versions, settings, installed plugins, the server's file paths, the metadata
# with its allow rules, everyone's permission checks, and the debugging tools. /-/actor
# stays open to everyone signed in: it shows only their own identity.
DEBUG_PAGES = re.compile(
    r"/-/(threads|versions|settings|config|plugins|databases|metadata|permissions|messages"
    r"|allow-debug|patterns|auth-token)(\.json)?$"
)


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
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>Sign in to see the data – Governance Ledger</title></head><body>"
        "<h1>Sign in to see the data</h1>"
        f'<p>The data explorer is for signed-in users. <a href="{link}">Sign in</a> '
        "and you will come straight back here.</p></body></html>",
        status=403,
    )


def set_sign_in_url(datasette: Datasette, url: str | None) -> None:
    setattr(datasette, _SIGN_IN_ATTRIBUTE, url)


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    bound_connection(conn)
    register_flags_function(conn)  # the `flags` view calls it


@hookimpl
def permission_allowed(actor: dict[str, Any] | None, action: str) -> bool | None:
    # Datasette keeps these for a "root" actor it never has here: give them to administrators.
    if action in ("permissions-debug", "debug-menu") and actor_matches_allow(actor, DEBUG_ALLOW):
        return True
    return None


@hookimpl
def handle_exception(datasette: Datasette, request: Any, exception: Exception) -> Any:
    """Every error page, in place of Datasette's own handler (unregistered in register()):
    that one prints a rich traceback with locals for every 400, which held the event loop,
    and so every other user, for 0.5-2 s per bad request."""
    shown = replacement(request, exception) or exception
    status = getattr(shown, "status", 500)
    if status >= 500:
        _log.error("Datasette failed on %s", request.path, exc_info=exception)
    message = str(getattr(shown, "message", shown))

    async def page() -> Response:
        # As Datasette's own error pages: JSON for .json, else its error template.
        info = {
            **getattr(shown, "error_dict", {}),
            "ok": False,
            "error": message,
            "status": status,
            "title": getattr(shown, "title", None),
        }
        if request.path.split("?")[0].endswith(".json"):
            return Response.json(info, status=status)
        if getattr(shown, "message_is_html", False):
            info["error"] = Markup(message)  # Datasette's own markup, with the SQL escaped
        template = datasette.jinja_env.select_template([f"{status}.html", "error.html"])
        context = {
            **info,
            "urls": datasette.urls,
            "app_css_hash": datasette.app_css_hash(),
            "menu_links": lambda: [],
            "request": request,
            "actor": request.actor,
            "display_actor": display_actor,
            **datasette_look.template_vars(datasette, request),
        }
        return Response.html(await template.render_async(context), status=status)

    return page


@hookimpl
def asgi_wrapper(datasette: Datasette) -> Callable[[ASGIApp], ASGIApp]:
    def wrap(app: ASGIApp) -> ASGIApp:
        async def hardened(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return await app(scope, receive, send)
            path = route_path(datasette, scope)
            if DEBUG_PAGES.match(path):
                request = Request(scope, receive)
                actor = await _actor(datasette, request)
                if not actor_matches_allow(actor, DEBUG_ALLOW):
                    scope = {**scope, "path": _REFUSED, "raw_path": _REFUSED.encode(), "query_string": b""}
            elif path.endswith(".csv"):
                # _trace wraps the CSV in an HTML page, which would not be neutralised.
                query = [
                    p for p in scope.get("query_string", b"").split(b"&") if not p.startswith(b"_trace=")
                ]
                scope = {**scope, "query_string": b"&".join(query)}
                send = neutralising(send)
                exporting = CSV_EXPORT.set(True)
                try:
                    return await app(scope, receive, _with_policy(send))
                finally:
                    CSV_EXPORT.reset(exporting)
            await app(scope, receive, _with_policy(send))

        return hardened

    return wrap


def _with_policy(send: Any) -> Any:
    async def send_with_policy(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if not any(name.lower() == b"content-security-policy" for name, _ in headers):
                headers.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
            message = {**message, "headers": headers}
        await send(message)

    return send_with_policy


def route_path(datasette: Datasette, scope: dict[str, Any]) -> str:
    """The path Datasette routes on, worked out exactly as its router does: the raw path
    when there is one, without the query string or base_url."""
    raw_path = scope.get("raw_path")
    path = (raw_path.decode("ascii") if raw_path else scope["path"]).partition("?")[0]
    base_url = datasette.setting("base_url")
    if base_url != "/" and path.startswith(base_url):
        path = "/" + path[len(base_url) :]
    return path


async def _actor(datasette: Datasette, request: Request) -> dict[str, Any] | None:
    """Who is asking, by the same hooks, in the same order, as Datasette's router."""
    for actor in pm.hook.actor_from_request(datasette=datasette, request=request):
        actor = await await_me_maybe(actor)
        if actor:
            return actor
    return request.scope.get("actor") or None


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [(f"^{_REFUSED}$", _refuse)]


async def _refuse() -> None:
    # Raised inside Datasette, so its own 403 page (or ours, with a sign-in link, for
    # someone not signed in) is rendered with its usual headers.
    raise Forbidden("This page is for administrators.")


def register() -> None:
    """Register these hooks with Datasette's plugin manager (once per process)."""
    if pm.get_plugin(_PLUGIN_NAME) is None:
        pm.register(sys.modules[__name__], name=_PLUGIN_NAME)
    if pm.get_plugin(_LOOK_PLUGIN_NAME) is None:
        pm.register(datasette_look, name=_LOOK_PLUGIN_NAME)
    if (default := pm.get_plugin("datasette.handle_exception")) is not None:
        pm.unregister(default)
