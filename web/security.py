"""Security headers on every Flask response, and the CSP nonce for the one inline script.

The GOV.UK template's inline script (it adds `js-enabled` to <body> before first paint)
gets a per-request nonce; everything else is a file served from this origin, so
`script-src 'self'` holds.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, request

STATIC_PREFIXES = ("/static/", "/assets/")


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
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


def init_app(app: Flask) -> None:
    app.after_request(set_security_headers)
    app.context_processor(lambda: {"cspNonce": csp_nonce()})
