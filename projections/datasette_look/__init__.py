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

The web app says what goes in the header (`set_page_header`): its name and address, the
signed-in person's sign-out with its CSRF token. Without it the header names the data only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from datasette import hookimpl
from datasette.app import Datasette
from markupsafe import Markup

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
MOUNT = "-govledger"  # served at <base_url>-govledger/...; "-" keeps it off database names
STATIC_MOUNTS = [(MOUNT, str(STATIC))]
# The columns holding a RAG category, and the words the app shows for each.
CATEGORY_COLUMNS = {"category", "status_category", "rag_before_category", "rag_after_category"}
CATEGORY_WORDS = {"green": "Green", "amber": "Amber", "red": "Red", "unrated": "Not rated"}

PageHeader = Callable[[Any], dict[str, Any]]
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
def render_cell(value: Any, column: str) -> Markup | None:
    if column in CATEGORY_COLUMNS and isinstance(value, str) and value in CATEGORY_WORDS:
        return Markup('<strong class="app-status app-status--{}">{}</strong>').format(
            value, CATEGORY_WORDS[value]
        )
    return None
