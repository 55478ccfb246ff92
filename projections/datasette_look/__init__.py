"""Datasette's pages in the app's look, and accessible (issue 16 item 4, issue 13 item 9),
through Datasette's own override points rather than a fork:

- `templates/base.html` (Datasette's `template_dir`) replaces only the page frame: `lang`,
  a skip link, the app's header with a link back to the app and a sign-out, and `<main>`.
  Every other template is Datasette's, and fills the same blocks.
- `static/data.css` (the `extra_css_urls` hook): contrast fixed (buttons, links, header),
  the app's status colours, and pages that reflow at 320px.
- `static/data.js` (the `extra_js_urls` hook): names for the controls Datasette's
  templates leave unlabelled (filter selects, the filter value, the SQL box, the
  dashboard's filters, the actions menu). It only adds labels; nothing depends on it.
- `render_cell`: RAG categories shown as the app's status tags (colour and word).
- `asgi_wrapper`: a dashboard opened with no programme chosen is sent to the first
  programme, as each has its own scale. (datasette-dashboards' own `default` redirect is
  not used: it drops the /data/ prefix and sets every request cookie again on the
  response, without the session cookie's Secure and HttpOnly flags.)

The web app says what goes in the header (`set_page_header`): its name and address, the
signed-in person's sign-out with its CSRF token. Without it the header names the data only.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.app import Datasette
from datasette.utils.asgi import Response
from markupsafe import Markup

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
MOUNT = "-govledger"  # served at <base_url>-govledger/...; "-" keeps it off database names
STATIC_MOUNTS = [(MOUNT, str(STATIC))]
# The columns holding a RAG category, and the words the app shows for each.
CATEGORY_COLUMNS = {"category", "status_category", "rag_before_category", "rag_after_category"}
CATEGORY_WORDS = {"green": "Green", "amber": "Amber", "red": "Red", "unrated": "Not rated"}

PageHeader = Callable[[Any], dict[str, Any]]
ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
DASHBOARD = re.compile(r"/-/dashboards/([^/]+)$")
_HEADER_ATTRIBUTE = "_govledger_page_header"


def set_page_header(datasette: Datasette, header: PageHeader | None) -> None:
    """`header(request)` gives the header's content: service_name, home_url, and for
    someone signed in sign_out_url and csrf_token (see templates/base.html)."""
    setattr(datasette, _HEADER_ATTRIBUTE, header)


def _asset(datasette: Datasette, name: str) -> str:
    # The file's hash in the address, so a new version is never served from a cache.
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    return datasette.urls.path(f"/{MOUNT}/{name}?{digest}")


@hookimpl
def extra_css_urls(datasette: Datasette) -> list[dict[str, str]]:
    return [{"url": _asset(datasette, "data.css")}]


@hookimpl
def extra_js_urls(datasette: Datasette) -> list[dict[str, Any]]:
    # A module runs once the page is parsed, after Datasette's own scripts built the SQL box.
    return [{"url": _asset(datasette, "data.js"), "module": True}]


@hookimpl
def extra_template_vars(datasette: Datasette, request: Any) -> dict[str, Any]:
    return template_vars(datasette, request)


def template_vars(datasette: Datasette, request: Any) -> dict[str, Any]:
    """What templates/base.html needs beyond Datasette's own context (error pages too)."""
    header = getattr(datasette, _HEADER_ATTRIBUTE, None)
    content = header(request) if header is not None and request is not None else {}
    return {"app_header": {"service_name": datasette.metadata("title") or "Data", **content}}


@hookimpl
def asgi_wrapper(datasette: Datasette) -> Callable[[ASGIApp], ASGIApp]:
    def wrap(app: ASGIApp) -> ASGIApp:
        async def opening_on_one_programme(scope: dict[str, Any], receive: Any, send: Any) -> None:
            found = DASHBOARD.search(scope.get("path", "")) if scope["type"] == "http" else None
            if not found or scope.get("query_string") or not _has_programme_filter(datasette, found[1]):
                return await app(scope, receive, send)
            first = await _first_programme(datasette)
            if first is None:
                return await app(scope, receive, send)
            where = f"{scope.get('root_path', '')}{scope['path']}?{urlencode({'programme': first})}"
            redirected = False

            async def redirect_once_allowed(message: dict[str, Any]) -> None:
                # Datasette checks who may see the dashboard first: only a page it would
                # have shown becomes the redirect, so a refusal stays a refusal.
                nonlocal redirected
                if message["type"] == "http.response.start" and message["status"] == 200:
                    redirected = True
                    await Response.redirect(where).asgi_send(send)
                elif not redirected:
                    await send(message)

            await app(scope, receive, redirect_once_allowed)

        return opening_on_one_programme

    return wrap


def _has_programme_filter(datasette: Datasette, slug: str) -> bool:
    dashboard = (datasette.plugin_config("datasette-dashboards") or {}).get(slug) or {}
    return "programme" in dashboard.get("filters", {})


async def _first_programme(datasette: Datasette) -> str | None:
    rows = await datasette.get_database().execute(
        "SELECT programme FROM programmes ORDER BY programme LIMIT 1"
    )
    first = rows.first()
    return first[0] if first else None


@hookimpl
def render_cell(value: Any, column: str) -> Markup | None:
    if column in CATEGORY_COLUMNS and isinstance(value, str) and value in CATEGORY_WORDS:
        return Markup('<strong class="app-status app-status--{}">{}</strong>').format(
            value, CATEGORY_WORDS[value]
        )
    return None
