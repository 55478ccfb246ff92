"""Configuration from the environment, with safe defaults.

Secrets never live in code or events: `GOVLEDGER_SECRET_KEY` wins; without it a random
key is generated once and kept in the data directory, readable by its owner only, so
sessions survive restarts.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from ledger.config import resolve_data_dir

SECRET_KEY_ENV = "GOVLEDGER_SECRET_KEY"
COOKIE_SECURE_ENV = "GOVLEDGER_COOKIE_SECURE"
MAX_REQUEST_BYTES_ENV = "GOVLEDGER_MAX_REQUEST_BYTES"
RATELIMIT_STORAGE_ENV = "GOVLEDGER_RATELIMIT_STORAGE_URI"
# Seconds a save waits for the projector service to show it (READ_YOUR_WRITES_TIMEOUT).
READ_YOUR_WRITES_ENV = "GOVLEDGER_READ_YOUR_WRITES_TIMEOUT"
# Uploads larger than this many bytes are imported by a background job (web.transfer.jobs).
IMPORT_JOB_BYTES_ENV = "GOVLEDGER_IMPORT_JOB_BYTES"
# Report downloads for programmes with more items than this are built by a job (web.jobs).
REPORT_JOB_ITEMS_ENV = "GOVLEDGER_REPORT_JOB_ITEMS"
RATELIMIT_DB = "ratelimits.db"
SECRET_KEY_FILE = "secret_key"
CREDENTIALS_DB = "credentials.db"

DEFAULTS: dict[str, Any] = {
    "SERVICE_NAME": "Governance Ledger",
    "SESSION_COOKIE_NAME": "govledger_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": True,
    # A working day; the signed cookie's timestamp is checked against it on every request.
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
    # Every request body but an import upload (web.transfer has its own, larger limit).
    # Forms are a few text fields: 2 MB is plenty, and Werkzeug does not bound them.
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    # The CSRF token lives as long as the session: an officer writing a long update must not
    # lose it to a one-hour token expiry.
    "WTF_CSRF_TIME_LIMIT": None,
    "RATELIMIT_ENABLED": True,
    # None: a SQLite file in the data directory, shared by every worker on this machine
    # (web.ratelimit_store); $GOVLEDGER_RATELIMIT_STORAGE_URI names another (redis://...).
    "RATELIMIT_STORAGE_URI": None,
    # With the projector running as its own service, how long a save waits to be shown.
    "READ_YOUR_WRITES_TIMEOUT": 5.0,
    "LOGIN_RATE_LIMIT": "5/minute",
    "LOGIN_RATE_LIMIT_PER_IP": "30/minute",
    "MIN_PASSWORD_LENGTH": 12,
    "PASSWORD_HASH_METHOD": "scrypt",
    # Only ever set by the test that proves 500 pages hide stack traces.
    "REGISTER_ERROR_PROBE": False,
}


def configure(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    """Defaults, then the environment, then `test_config`; secret key resolved last."""
    app.config.from_mapping(DEFAULTS)
    secure = os.environ.get(COOKIE_SECURE_ENV)
    if secure is not None:
        app.config["SESSION_COOKIE_SECURE"] = secure.strip().lower() not in ("0", "false", "no")
    limit = os.environ.get(MAX_REQUEST_BYTES_ENV)
    if limit is not None:
        app.config["MAX_CONTENT_LENGTH"] = byte_count(limit, MAX_REQUEST_BYTES_ENV)
    storage = os.environ.get(RATELIMIT_STORAGE_ENV)
    if storage:
        app.config["RATELIMIT_STORAGE_URI"] = storage
    wait = os.environ.get(READ_YOUR_WRITES_ENV)
    if wait is not None:
        app.config["READ_YOUR_WRITES_TIMEOUT"] = float(wait)
    job_bytes = os.environ.get(IMPORT_JOB_BYTES_ENV)
    if job_bytes is not None:
        app.config["IMPORT_JOB_BYTES"] = byte_count(job_bytes, IMPORT_JOB_BYTES_ENV)
    job_items = os.environ.get(REPORT_JOB_ITEMS_ENV)
    if job_items is not None:
        app.config["REPORT_JOB_ITEMS"] = whole_count(job_items, REPORT_JOB_ITEMS_ENV)
    if test_config:
        app.config.from_mapping(test_config)
    data_dir = resolve_data_dir(app.config.get("DATA_DIR"))
    data_dir.mkdir(parents=True, exist_ok=True)
    app.config["DATA_DIR"] = data_dir
    app.config.setdefault("CREDENTIALS_DB", data_dir / CREDENTIALS_DB)
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        from web.ratelimit_store import storage_uri

        app.config["RATELIMIT_STORAGE_URI"] = storage_uri(data_dir / RATELIMIT_DB)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ.get(SECRET_KEY_ENV) or load_or_create_secret(data_dir)


def today() -> date:
    """The date due and overdue are counted from: today, unless the app's TODAY setting
    pins one (tests do, so days overdue don't depend on when they run)."""
    pinned = current_app.config.get("TODAY")
    return pinned if isinstance(pinned, date) else date.today()


def byte_count(text: str, setting: str) -> int:
    """A positive whole number of bytes, or a message naming the setting."""
    return whole_count(text, setting, "bytes")


def whole_count(text: str, setting: str, unit: str = "items") -> int:
    """A positive whole number (of `unit`), or a message naming the setting."""
    value = text.strip().replace("_", "")
    if not value.isdigit() or int(value) == 0:
        raise RuntimeError(f"{setting} must be a whole number of {unit} above 0, not {text!r}")
    return int(value)


def load_or_create_secret(data_dir: Path) -> str:
    """The key in `<data_dir>/secret_key`, created 0600 on first use."""
    path = data_dir / SECRET_KEY_FILE
    try:
        # O_EXCL: two processes starting together cannot both write a different key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if not key:
            raise RuntimeError(f"{path} is empty: delete it or set ${SECRET_KEY_ENV}.") from None
        return key
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key + "\n")
    return key
