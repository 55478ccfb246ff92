"""The web's handle on the ledger system and the credential store (one per app), and
the read model's one read-only connection per request (`read_model`).

The system (ledger + projector + projections DB) is opened by whoever owns the process
(the composition root `govledger.system` for the command line and the demo, `web.serve`
or the test fixtures) and passed in; `create_app` opens one itself only when run on its
own, and then closes it at exit. The web never imports `govledger`: it is handed the system.
"""

from __future__ import annotations

import atexit
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from flask import Flask, current_app, flash, g, has_request_context

from ledger.application import Ledger
from projections.queries import Connection, connect_read_only
from web.credentials import CredentialStore

EXTENSION = "govledger"
READ_MODEL = "govledger_read_model"  # the request's connection, on flask.g


class System(Protocol):
    """What web needs from projections.system.System."""

    ledger: Ledger
    projections_db: Any

    @property
    def catches_up(self) -> bool: ...

    def wait_for(self, position: int, timeout: float) -> bool: ...

    def close(self) -> None: ...


# Shown when a save outran the projector service's bounded wait.
NOT_SHOWN_YET = (
    "Your change is saved. These pages may take a few seconds to show it: "
    "refresh the page if it is not there yet."
)


@dataclass
class Backend:
    system: System
    credentials: CredentialStore

    @property
    def ledger(self) -> Ledger:
        return self.system.ledger


def open_system(data_dir: Path, *, catch_up: bool = True) -> System:
    from projections.system import open_system as _open_system

    return _open_system(data_dir, catch_up=catch_up)


def init_app(app: Flask, system: System | None) -> None:
    if system is None:
        system = open_system(app.config["DATA_DIR"])
        atexit.register(system.close)
    app.extensions[EXTENSION] = Backend(
        system=system,
        credentials=CredentialStore(
            app.config["CREDENTIALS_DB"], method=app.config["PASSWORD_HASH_METHOD"]
        ),
    )
    app.teardown_appcontext(_close_read_model)
    if not system.catches_up:
        _read_own_writes(app, system)


def _read_own_writes(app: Flask, system: System) -> None:
    """With the projector as its own service, a save waits (a bounded time) until the
    read model shows it, so the page the user is sent to next shows their change."""
    timeout = float(app.config["READ_YOUR_WRITES_TIMEOUT"])

    def wait_after_save(position: int) -> None:
        if not system.wait_for(position, timeout) and has_request_context():
            flash(NOT_SHOWN_YET, "info")

    system.ledger.after_save.append(wait_after_save)


def backend() -> Backend:
    return current_app.extensions[EXTENSION]


def ledger() -> Ledger:
    return backend().ledger


# ---------------------------------------------------------------- the read model


def read_model() -> Connection:
    """The read model (projections.db), read-only: one connection per request, opened on
    first use and closed when the request's app context ends.

    Opening a connection costs more than most of the queries a page makes (SQLite parses
    the whole schema on a connection's first statement), so the page's queries share one.
    It still sees the request's own writes: the projector commits projections.db on its
    own connection after each save, and this one never holds a read transaction open
    (sqlite3 begins transactions only for writes, and every query here reads its rows to
    the end), so each SELECT sees the latest commit. Don't hand it to a streamed response:
    the body is sent after the app context (and this connection) is gone.
    """
    conn = g.get(READ_MODEL)
    if conn is None:
        conn = connect_read_only(backend().system.projections_db)
        setattr(g, READ_MODEL, conn)
    return conn


def _close_read_model(_exc: BaseException | None) -> None:
    conn = g.pop(READ_MODEL, None)
    if conn is not None:
        conn.close()
