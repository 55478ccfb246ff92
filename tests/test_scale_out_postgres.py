"""Issue 14: two nodes on one PostgreSQL ledger (a server this test starts). Node A's
server projects its own saves; node B's runs with --projector-service beside
`govledger project --follow`, which LISTENs for the log's NOTIFY. A write through A is
readable through B within a bounded wait, B reads its own write at once, the chain
verifies and B's projections equal a rebuild."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_projections_support import dump

from ledger.application import open_ledger
from projections.system import build
from tests.web.test_scale_out import CSRF, GOVLEDGER, PASSWORD, _port, request, sign_in

try:
    from .postgres_server import Database, PostgresServer, find_pg_bin
except ImportError:
    from postgres_server import Database, PostgresServer, find_pg_bin

PG_BIN = find_pg_bin()
pytestmark = pytest.mark.skipif(PG_BIN is None, reason="PostgreSQL server binaries not installed")


@pytest.fixture
def database() -> Iterator[Database]:
    assert PG_BIN is not None
    server = PostgresServer(PG_BIN)
    server.start()
    try:
        with server.database() as db:
            yield db
    finally:
        server.stop()


def _wait_listening(port: int) -> None:
    for _ in range(300):
        try:
            request(port, "GET", "/login")
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"no server listening on port {port} after 30 s")


def _create_account(port: int, cookie: str, username: str) -> int:
    _, _, with_csrf, page = request(port, "GET", "/admin/accounts/new", cookie=cookie)
    status, _, _, _ = request(
        port, "POST", "/admin/accounts/new", cookie=with_csrf or cookie,
        form={"csrf_token": CSRF.search(page)[1], "username": username, "display_name": username,
              "role": "officer", "password": PASSWORD},
    )
    return status


def test_two_nodes_and_a_follower_on_one_postgres_log(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = {**os.environ, **database.env(), "GOVLEDGER_PASSWORD": PASSWORD}
    node_a, node_b = tmp_path / "a", tmp_path / "b"
    env_a = {**base, "GOVLEDGER_DATA_DIR": str(node_a)}
    env_b = {**base, "GOVLEDGER_DATA_DIR": str(node_b)}
    subprocess.run([*GOVLEDGER, "account", "create", "--username", "admin", "--name", "Ada",
                    "--role", "administrator"], env=env_a, check=True, capture_output=True)
    # Password hashes are per node: B gets its own for the same account.
    subprocess.run([*GOVLEDGER, "account", "set-password", "admin"], env=env_b, check=True,
                   capture_output=True)
    port_a, port_b = _port(), _port()
    processes = [
        subprocess.Popen([*GOVLEDGER, "serve", "--port", str(port_a), "--insecure-cookies"],
                         env=env_a, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([*GOVLEDGER, "project", "--follow"], env=env_b,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([*GOVLEDGER, "serve", "--port", str(port_b), "--insecure-cookies",
                          "--projector-service"], env=env_b,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    try:
        _wait_listening(port_a)
        _wait_listening(port_b)
        _, cookie_a = sign_in(port_a, "admin", PASSWORD)
        _, cookie_b = sign_in(port_b, "admin", PASSWORD)
        assert _create_account(port_a, cookie_a, "written-on-a") == 302
        seen = False
        for _ in range(200):  # bounded: B's follower is woken by NOTIFY
            if "written-on-a" in request(port_b, "GET", "/admin/accounts", cookie=cookie_b)[3]:
                seen = True
                break
            time.sleep(0.05)
        assert seen, "a write through node A never showed on node B"
        # B's own write is on its next page: the save waited for B's projector.
        assert _create_account(port_b, cookie_b, "written-on-b") == 302
        assert "written-on-b" in request(port_b, "GET", "/admin/accounts", cookie=cookie_b)[3]
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
    assert subprocess.run([*GOVLEDGER, "verify"], env=env_b, capture_output=True).returncode == 0
    for key, value in database.env().items():
        monkeypatch.setenv(key, value)
    ledger = open_ledger(node_b)
    try:
        build(ledger, tmp_path / "rebuilt.db")
    finally:
        ledger.close()
    assert dump(tmp_path / "rebuilt.db") == dump(node_b / "projections.db")
