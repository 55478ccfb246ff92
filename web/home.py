"""The signed-in start page, the navigation, and the files the pages need."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, request, send_from_directory, url_for
from flask import render_template as render
from flask_login import current_user
from werkzeug.wrappers import Response

from projections import queries
from projections.datasette_config import ALL_ROLES as DATASETTE_ROLES
from web.backend import read_model
from web.permissions import may_view, public, requires_login

STATIC = Path(__file__).parent / "static"
# GOV.UK Frontend's CSS asks for its fonts and images at /assets/...
GOVUK_ASSETS = STATIC / "govuk" / "assets"
STATIC_MAX_AGE = 300
# Font and image names carry a content hash, so they can be cached for long.
ASSETS_MAX_AGE = 86400

bp = Blueprint("home", __name__)


@dataclass(frozen=True)
class NavItem:
    """A navigation link. `endpoint` items show when the endpoint's declared permission
    allows the user; `href` items (pages outside Flask, like Datasette) use `roles`."""

    text: str
    endpoint: str | None = None
    href: str | None = None
    roles: tuple[str, ...] = ()
    prefix: str | None = None  # paths under this mark the item as the current section


# Add a row when you add a section; what each role sees follows from the permissions.
NAVIGATION: list[NavItem] = [
    NavItem("Home", endpoint="home.index"),
    NavItem("My items", endpoint="updates.my_items"),
    NavItem("Review", endpoint="updates.review_queue", prefix="/review"),
    NavItem("Programmes", endpoint="dashboards.programmes"),
    NavItem("Dependencies", endpoint="dependencies.register", prefix="/dependencies"),
    NavItem("Import and export", endpoint="transfer.index", prefix="/import"),
    NavItem("Audit", endpoint="audit.log", prefix="/audit/"),
    NavItem("Accounts", endpoint="admin.accounts", prefix="/admin/"),
    # Datasette's own allow blocks decide access; this only decides who sees the link.
    NavItem("Data", href="/data/", roles=tuple(DATASETTE_ROLES), prefix="/data/"),
]


def navigation() -> list[dict[str, Any]]:
    if not current_user.is_authenticated:
        return []
    items = []
    for item in NAVIGATION:
        if item.endpoint is not None:
            if not may_view(current_user, item.endpoint):
                continue
            href = url_for(item.endpoint)
        else:
            if not current_user.has_role(*item.roles):
                continue
            href = item.href or "/"
        here = request.path == href
        within = bool(item.prefix and request.path.startswith(item.prefix))
        items.append({"text": item.text, "href": href, "current": here, "active": within})
    return items


@bp.route("/")
@requires_login
def index() -> str:
    return render(
        "home/index.html",
        data_roles=DATASETTE_ROLES,
        programmes=queries.get_programme_summaries(read_model()),
    )


@bp.route("/static/<path:filename>")
@public
def static(filename: str) -> Response:
    return send_from_directory(STATIC, filename, max_age=STATIC_MAX_AGE)


@bp.route("/assets/<path:filename>")
@public
def assets(filename: str) -> Response:
    return send_from_directory(GOVUK_ASSETS, filename, max_age=ASSETS_MAX_AGE)


@bp.route("/favicon.ico")
@public
def favicon() -> Response:
    # Browsers ask for it at the root whatever the page says (Datasette's pages say nothing).
    return send_from_directory(GOVUK_ASSETS / "images", "favicon.ico", max_age=ASSETS_MAX_AGE)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.context_processor(lambda: {"navigation": navigation})
