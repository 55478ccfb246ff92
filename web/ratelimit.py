"""Rate limits: slow down password guessing on the sign-in form.

Counts live in shared storage (RATELIMIT_STORAGE_URI): by default a SQLite file in the
data directory (web.ratelimit_store), so guesses spread over several worker processes
are counted together and survive a restart.

The address is the request's `remote_addr`: the connection's own, unless
$GOVLEDGER_TRUSTED_PROXIES configures proxies (web.security), so X-Forwarded-For from
anyone else changes nothing.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

import web.ratelimit_store  # noqa: F401  (registers the govledger-sqlite:// storage)

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)


def login_key() -> str:
    """One bucket per address and username, so guessing one person's password is slow
    without letting one person lock another out from elsewhere."""
    username = (request.form.get("username") or "").strip().lower()
    return f"login:{get_remote_address()}:{username}"


def login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def login_limit_per_ip() -> str:
    return current_app.config["LOGIN_RATE_LIMIT_PER_IP"]


def init_app(app: Flask) -> None:
    limiter.init_app(app)
