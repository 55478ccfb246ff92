"""Chromium and a live server for the tests that drive a real browser (no tests here).

Imported as `browser_support` (tests/ is on sys.path, put there by tests/conftest.py, as
for helpers_store). The browser is Debian's Chromium, driven through Playwright; a test
that needs it is skipped, saying why, when either is missing.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
TIMEOUT_MS = 10_000  # for every Playwright action and wait on a page


@contextmanager
def launch_chromium() -> Iterator[Any]:
    """A headless Chromium (Playwright's `Browser`), closed on leaving."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium): no browser to drive")
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="Playwright is not installed (pip install playwright): no browser to drive",
    )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def live_server(app: Any, **options: Any) -> Iterator[str]:
    """Serve the ASGI `app` (web.serve.make_asgi_app's, the product's own server) with
    uvicorn in a thread on a free loopback port; yields its base URL. The lifespan runs,
    so the app's shutdown (closing its system) runs on leaving. `options` go to
    uvicorn.Config (web.serve.SERVER_OPTIONS to run exactly as `govledger serve` does)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", **{"lifespan": "on", **options}))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # the port is ours until uvicorn listens on it
        port = sock.getsockname()[1]
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def new_page(browser: Any, base_url: str) -> Any:
    """A page in its own browser context (its own cookies) on `base_url`."""
    page = browser.new_context(base_url=base_url).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page


def collect_problems(page: Any, problems: list[str]) -> None:
    """Note in `problems` every console error or warning and uncaught error on `page`."""
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))


def sign_in(page: Any, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
