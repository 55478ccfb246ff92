"""Friendly error pages: what happened and what to do, never a stack trace."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from projections.projector import ProjectionFailed
from web.permissions import public

PAGES: dict[int, tuple[str, str]] = {
    400: (
        "Sorry, there is a problem with that request",
        "Go back, refresh the page and try again.",
    ),
    403: (
        "You do not have access to this page",
        "If you think you should, ask your administrator to give you access.",
    ),
    404: (
        "Page not found",
        "If you typed the web address, check it is correct. If you pasted it, check you "
        "copied the entire address.",
    ),
    405: (
        "Sorry, that cannot be done here",
        "The page does not accept that kind of request. Go back and use the page's form "
        "or links.",
    ),
    413: (
        "What you sent is too large",
        "Nothing has been saved. Shorten the text, or choose a smaller file, and try again.",
    ),
    429: (
        "Too many attempts",
        "You have tried too many times in a short while. Wait a minute, then try again.",
    ),
    500: (
        "Sorry, there is a problem with the service",
        "Try again later. Nothing you submitted has been saved unless you saw a "
        "confirmation.",
    ),
}

# The ledger saved the change, then the read model failed to follow: say so, truthfully.
PROJECTION_PAGE = (
    "Your change was saved, but the pages are behind",
    "Your change is recorded in the ledger. The summaries and reports could not be brought "
    "up to date, so they may not show it yet. The service administrator has been told; do "
    "not submit the change again.",
)

CSRF_PAGE = (
    "Your form could not be submitted",
    "The form had expired or did not come from this service, so nothing was saved. "
    "Go back, refresh the page and submit it again.",
)

bp = Blueprint("errors", __name__)


def _render(code: int, title: str, body: str, *, minimal: bool = False) -> tuple[str, int]:
    return render_template("errors/error.html", title=title, body=body, minimal=minimal), code


def http_error(error: HTTPException) -> tuple[str, int, dict[str, str]]:
    code = error.code or 500
    title, body = PAGES.get(code, PAGES[400 if code < 500 else 500])
    html, status = _render(code, title, body)
    # Keep the headers the status promises: Allow on 405, Retry-After on 429.
    headers = {k: v for k, v in error.get_headers() if k in ("Allow", "Retry-After")}
    return html, status, headers


def csrf_error(error: CSRFError) -> tuple[str, int]:
    return _render(400, *CSRF_PAGE)


def projection_failed(error: ProjectionFailed) -> tuple[str, int]:
    current_app.logger.error("projection failed after a save: %s", error, exc_info=error)
    return _render(500, *PROJECTION_PAGE, minimal=True)


def server_error(error: InternalServerError) -> tuple[str, int]:
    # Render without the signed-in header: whatever broke may be what it needs.
    try:
        return _render(500, *PAGES[500], minimal=True)
    except Exception:
        return "Sorry, there is a problem with the service. Try again later.", 500


def too_large_response(app: Flask) -> Response:
    """The 413 page for a body web.serve refused before the app read it, with the
    headers every page gets (security policy and its nonce). Call it in a fresh context:
    it pushes a request context of its own."""
    with app.test_request_context("/"):
        html, status = _render(413, *PAGES[413], minimal=True)
        return app.process_response(app.make_response((html, status)))


@bp.route("/_error-probe")
@public
def probe() -> str:
    """Raises, so a test can prove what a 500 looks like. Registered only in tests."""
    raise RuntimeError("error probe: this message must never reach the page")


def init_app(app: Flask) -> None:
    for code in PAGES:
        if code != 500:
            app.register_error_handler(code, http_error)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(ProjectionFailed, projection_failed)
    app.register_error_handler(500, server_error)
    if app.testing and app.config["REGISTER_ERROR_PROBE"]:
        app.register_blueprint(bp)
