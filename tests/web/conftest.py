"""Fixtures in the style of Flask's tutorial: `app`, `client`, `runner`, `auth`; and for
the browser tests, `server`, `chromium` and `chromium_page`.

Every test gets a fresh data directory holding two programmes and one demo account per
role (`web_helpers.DEMO_USERS`); the officer and the programme manager are given
`PROGRAMME`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import launch_chromium, live_server, new_page
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from jinja2.bccache import Bucket, BytecodeCache
from web_helpers import AuthActions, app_test_config, seed

from web import create_app
from web.backend import System, open_system


@pytest.fixture(scope="session")
def seeded_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seeded once per session; each test gets its own copy (much faster than seeding)."""
    template = tmp_path_factory.mktemp("seeded") / "data"
    system = open_system(template)
    try:
        seed(system, template)
    finally:
        system.close()
    return template


@pytest.fixture
def data_dir(tmp_path: Path, seeded_data_dir: Path) -> Path:
    return Path(shutil.copytree(seeded_data_dir, tmp_path / "data"))


@pytest.fixture
def system(data_dir: Path) -> Iterator[System]:
    system = open_system(data_dir)
    yield system
    system.close()


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Override in a test module (or parametrise) to change the app's configuration."""
    return {}


class _SharedBytecodeCache(BytecodeCache):
    """Compiled templates shared by every test's app: compiling them is most of the cost
    of a fresh app. Jinja checks each entry against the template source."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_BYTECODE = _SharedBytecodeCache()


@pytest.fixture
def app(system: System, data_dir: Path, app_config: dict[str, Any]) -> Flask:
    app = create_app(app_test_config(data_dir, **app_config), system=system)
    app.jinja_env.bytecode_cache = _BYTECODE
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def server(data_dir: Path, system: System) -> Iterator[str]:
    """The base URL of the whole service as production runs it (web.serve's ASGI app:
    Flask, and Datasette at /data/, under uvicorn), sharing `system` with the test: what
    the test records through `system.ledger`, the pages show. CSRF is on and cookies are
    secure, as in production: browsers accept them from http://127.0.0.1."""
    from web.serve import make_asgi_app

    with live_server(make_asgi_app(data_dir, config={"SECRET_KEY": "browser-test"}, system=system)) as url:
        yield url


@pytest.fixture
def chromium() -> Iterator[Any]:
    """A headless Chromium (Playwright's `Browser`); the test is skipped without one."""
    with launch_chromium() as browser:
        yield browser


@pytest.fixture
def chromium_page(chromium: Any, server: str) -> Any:
    """A page on `server`, in a browser context of its own."""
    return new_page(chromium, server)
