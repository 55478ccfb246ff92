"""The raw baseline server for bench/bench_load.py: a bare ASGI app (no framework, no
templates, no session) answering each request type with the one SQLite statement
the real page stands on, on the demo copy's projections.db, served by the same
uvicorn with the same worker count. POST /update inserts one row in its own
transaction into a scratch file with the event store's synchronous=FULL.

    LOAD_DATA_DIR=... uvicorn --app-dir bench load_baseline:app --workers 2
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

DATA_DIR = Path(os.environ.get("LOAD_DATA_DIR", "."))  # set by bench_load.py for the server
READS = {
    "/dashboard": (
        "SELECT status, count(*) FROM status_history WHERE programme = :programme AND period = :period "
        "GROUP BY status"
    ),
    "/timeline": (
        "SELECT * FROM audit_log WHERE programme = :programme AND subject_ref = :ref "
        "AND aggregate_kind = 'Item' ORDER BY position"
    ),
    "/my-items": "SELECT * FROM items WHERE programme = :programme ORDER BY sort_key",
    "/update-form": (
        "SELECT s.* FROM audit_log a JOIN status_events s ON s.position = a.position "
        "WHERE a.programme = :programme AND a.subject_ref = :ref AND a.aggregate_kind = 'Item' "
        "ORDER BY s.period_start, s.position"
    ),
}
_connections: dict[str, sqlite3.Connection] = {}


def connection(name: str) -> sqlite3.Connection:
    """One connection per worker process and file, opened on first use."""
    if name not in _connections:
        if name == "read":
            conn = sqlite3.connect(f"file:{DATA_DIR / 'projections.db'}?mode=ro", uri=True)
        else:
            conn = sqlite3.connect(DATA_DIR / "bench-raw-full.db", isolation_level=None, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("CREATE TABLE IF NOT EXISTS raw (id INTEGER PRIMARY KEY, ref TEXT, body TEXT)")
        _connections[name] = conn
    return _connections[name]


async def app(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    path = scope["path"]
    if path in READS:
        params = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        rows = connection("read").execute(READS[path], params).fetchall()
        status, payload = 200, f"<p>{len(rows)} rows</p>".encode()
    elif path == "/update" and scope["method"] == "POST":
        ref = parse_qs(body.decode()).get("ref", [""])[0]
        conn = connection("write")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO raw (ref, body) VALUES (?, ?)", (ref, "Load update: delivery continues."))
        conn.execute("COMMIT")
        status, payload = 200, b"saved"
    else:
        status, payload = 404, b"not found"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/html"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})
