"""The web's handle on the ledger system and the credential store (one per app), and
the read model's one read-only connection per request (`read_model`).

The system (ledger + projector + projections DB) is opened by whoever owns the process
(the composition root `govledger.system` for the command line and the demo, `web.serve`
or the test fixtures) and passed in; `create_app` opens one itself only when run on its
own, and then closes it at exit. The web never imports `govledger`: it is handed the system.
"""

from __future__ import annotations

import atexit
import os
import threading
from dataclasses import dataclass, field
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


class ReadConnections:
    """One read-only connection to the read model per thread, kept from request to request.

    A fresh connection per request cost more than most pages' queries together: SQLite
    parses the whole schema (over a hundred tables, views and indexes) on a connection's
    first statement, about 1 ms on this machine, every request. A kept connection parses
    it once (SQLite re-reads it by itself if a migration changes it). `rebuild` copies the
    new database into the live file, so a kept connection sees it; a file replaced under
    it (another inode) is noticed and the connection opened again.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        self._mine = threading.local()

    def get(self) -> Connection:
        held: tuple[Connection, tuple[int, int]] | None = getattr(self._mine, "held", None)
        try:
            stat = os.stat(self.path)
            identity = (stat.st_dev, stat.st_ino)
        except FileNotFoundError:
            identity = (-1, -1)  # connect_read_only says what is missing
        if held is not None and held[1] == identity:
            return held[0]
        if held is not None:
            held[0].close()
        conn = connect_read_only(self.path)
        self._mine.held = (conn, identity)
        return conn


@dataclass
class Backend:
    system: System
    credentials: CredentialStore
    read_connections: ReadConnections = field(init=False)

    def __post_init__(self) -> None:
        self.read_connections = ReadConnections(self.system.projections_db)

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
    """The read model (projections.db), read-only: this thread's kept connection
    (ReadConnections), which the page's queries share.

    It still sees the request's own writes: the projector commits projections.db on its
    own connection after each save, and this one never holds a read transaction open
    (sqlite3 begins transactions only for writes, every query here reads its rows to the
    end, and the request's end rolls back anything left open), so each SELECT sees the
    latest commit. Don't hand it to a streamed response: the body may be sent from
    another thread, after the request has ended.
    """
    conn = g.get(READ_MODEL)
    if conn is None:
        conn = backend().read_connections.get()
        setattr(g, READ_MODEL, conn)
    return conn


def _close_read_model(_exc: BaseException | None) -> None:
    """The request is over: leave the kept connection with no transaction open, so the
    next request's reads see the latest commit."""
    conn = g.pop(READ_MODEL, None)
    if conn is not None and conn.in_transaction:
        conn.rollback()
