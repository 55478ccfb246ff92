"""Security headers on every Flask response, the CSP nonce for the one inline script,
which proxies are trusted, and the origin check on every unsafe request.

The GOV.UK template's inline script (it adds `js-enabled` to <body> before first paint)
gets a per-request nonce; everything else is a file served from this origin, so
`script-src 'self'` holds.

Forwarded headers (X-Forwarded-For, -Proto, -Host) are trusted only when
$GOVLEDGER_TRUSTED_PROXIES says how many proxies stand in front of the service; then
werkzeug's ProxyFix takes the client's address from that many hops back. Unset (the
default), the address is the connection's own, so a client cannot pick its sign-in
rate-limit bucket by sending X-Forwarded-For.
"""

from __future__ import annotations

import os
import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, render_template, request
from werkzeug.middleware.proxy_fix import ProxyFix

TRUSTED_PROXIES_ENV = "GOVLEDGER_TRUSTED_PROXIES"
ALLOWED_ORIGINS_ENV = "GOVLEDGER_ALLOWED_ORIGINS"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
DEFAULT_PORTS = {"http": "80", "https": "443"}

CROSS_ORIGIN_PAGE = (
    "Your form could not be submitted",
    "The request did not come from a page of this service (its {header} header names {origin}), "
    "so nothing was saved. Open the service's own page, then submit the form there.",
)

STATIC_PREFIXES = ("/static/", "/assets/")


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def content_security_policy(nonce: str | None) -> str:
    """The pages' policy; without a nonce (static files) no inline script at all."""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'" if nonce else "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            "font-src 'self'",
            "connect-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


# Also sent by web.serve on Datasette's responses, whose pages carry their own scripts.
COMMON_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def set_security_headers(response: Response) -> Response:
    # A view may send a stricter policy of its own (report documents do): keep it.
    response.headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
    for name, value in COMMON_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if not request.path.startswith(STATIC_PREFIXES):
        # Pages show who did what to public records: keep them out of shared caches and
        # off the back button of a shared council PC after sign-out.
        response.headers["Cache-Control"] = "no-store"
    return response


def trusted_proxies(value: object) -> int:
    """How many proxies to trust: a whole number, 0 (the default) for none."""
    text = str(value if value is not None else "0").strip() or "0"
    if not text.isascii() or not text.isdigit() or int(text) > 10:
        raise RuntimeError(
            f"{TRUSTED_PROXIES_ENV} must be the number of proxies in front of the service "
            f"(0 to 10), not {text!r}."
        )
    return int(text)


def origin_of(url: str) -> str | None:
    """scheme://host[:port], lower case and without a default port; None if not a URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    suffix = f":{port}" if port is not None and str(port) != DEFAULT_PORTS[parts.scheme] else ""
    return f"{parts.scheme}://{host}{suffix}"


def _allowed_origins() -> set[str]:
    own = origin_of(f"{request.scheme}://{request.host}")
    configured = {origin_of(o) for o in current_app.config["ALLOWED_ORIGINS"]}
    return {o for o in (own, *configured) if o}


def check_origin() -> tuple[str, int] | None:
    """Refuse an unsafe request sent from another site, as Django does: an Origin header
    must name this service (or a configured origin); on HTTPS, where browsers always
    send one of the two, a request without Origin needs a same-origin Referer. Plain
    HTTP without either is left to the CSRF token."""
    if request.method in SAFE_METHODS:
        return None
    origin = request.headers.get("Origin")
    if origin is not None:
        header, claimed = "Origin", origin
    elif request.is_secure:
        header, claimed = "Referer", request.headers.get("Referer") or "nothing"
    else:
        return None
    if origin_of(claimed) in _allowed_origins():
        return None
    title, body = CROSS_ORIGIN_PAGE
    body = body.format(header=header, origin=claimed[:200])
    return render_template("errors/error.html", title=title, body=body, minimal=True), 403


def init_app(app: Flask) -> None:
    """Before CSRFProtect, so a cross-site request is refused for what it is."""
    app.config.setdefault("TRUSTED_PROXIES", os.environ.get(TRUSTED_PROXIES_ENV))
    app.config["TRUSTED_PROXIES"] = hops = trusted_proxies(app.config["TRUSTED_PROXIES"])
    allowed = app.config.get("ALLOWED_ORIGINS", os.environ.get(ALLOWED_ORIGINS_ENV, ""))
    if isinstance(allowed, str):
        allowed = [o for o in allowed.replace(",", " ").split() if o]
    unusable = [o for o in allowed if origin_of(o) is None]
    if unusable:
        raise RuntimeError(
            f"{ALLOWED_ORIGINS_ENV}: not an origin like https://ledger.example.gov.uk: {unusable}"
        )
    app.config["ALLOWED_ORIGINS"] = list(allowed)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.before_request(check_origin)
    app.after_request(set_security_headers)
    app.context_processor(lambda: {"cspNonce": csp_nonce()})
