"""One port for everything: Flask for the pages, Datasette at /data/ for the data.

A tiny ASGI dispatcher mounts Datasette at /data/ (the prefix moved from the path to
root_path; Datasette's base_url setting puts it back on every link Datasette writes) and
sends everything else to Flask, run in threads by a2wsgi. Signing in to Flask
signs you in to Datasette: its `actor_from_request` hook reads Flask's signed session
cookie and applies the same rules as the web app (see `make_actor_from_request`).

Every request runs in a fresh, empty `contextvars.Context`, and the server's receive and
send are called from one too (issue 9, finding 1). asyncio registers a socket's reader
callback with whatever context is current when reading resumes (python/cpython#140947);
a2wsgi reads a body over uvicorn's 64 KiB buffer from Flask's thread, so without this the
connection's later requests inherited Flask's app context, and with it `g`'s signed-in
user. Request bodies are bounded here too, before any app reads them (finding 3).
"""

from __future__ import annotations

import asyncio
import contextvars
import os
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, MutableMapping
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, session, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from web import create_app, errors
from web.backend import System, open_system
from web.config import COOKIE_SECURE_ENV, RATELIMIT_STORAGE_ENV
from web.security import COMMON_HEADERS
from web.static_files import StaticServer
from web.transfer import ENVELOPE
from web.wsgi_bridge import WSGIBridge

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Actor = dict[str, Any]
T = TypeVar("T")
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

DATA_PREFIX = "/data/"

# Datasette's pages carry their own inline scripts, so they get the headers that do not
# depend on markup; framing is still refused.
DATASETTE_HEADERS: list[tuple[bytes, bytes]] = [
    (name.lower().encode(), value.encode()) for name, value in COMMON_HEADERS.items()
] + [(b"content-security-policy", b"frame-ancestors 'none'")]


def make_actor_from_request(app: Flask) -> Callable[[Any], Actor | None]:
    """Who is signed in, for Datasette: `actor_from_request(request)` as make_datasette
    wants it (projections.datasette_plugins calls it from Datasette's hook).

    The request's cookie and client details are replayed into a Flask request context,
    so the very same code decides who is signed in: Flask's session interface checks the
    signature (`get_signing_serializer`, same secret) and the 8-hour max age;
    Flask-Login's strong session protection checks the browser; the user loader checks
    the account is active in the ledger. Anonymous, tampered, expired or deactivated:
    None, which the projections' allow blocks deny.
    """
    cookie_name = app.config["SESSION_COOKIE_NAME"]

    def actor() -> Actor | None:
        user = current_user._get_current_object()
        if not user.is_authenticated:
            return None
        return {"id": user.username, "display": user.display_name, "roles": list(user.roles)}

    def actor_from_request(request: Any) -> Actor | None:
        if cookie_name not in request.cookies:
            return None
        return _in_flask_request(app, request, actor)

    return actor_from_request


def make_page_header(app: Flask) -> Callable[[Any], dict[str, Any]]:
    """The app's header over Datasette's pages (projections.datasette_look): the service's
    name and home, and for someone signed in the sign-out form's address and CSRF token.
    The token only when the session already holds its secret: one made here would not be
    saved, so the sign-out would be refused; the header then links back to the app."""
    field = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")

    def header() -> dict[str, Any]:
        content: dict[str, Any] = {
            "service_name": app.config["SERVICE_NAME"],
            "home_url": url_for("home.index"),
        }
        if current_user.is_authenticated and field in session:
            content |= {"sign_out_url": url_for("auth.logout"), "csrf_token": generate_csrf()}
        return content

    return lambda request: _in_flask_request(app, request, header)


def _in_flask_request(app: Flask, request: Any, read: Callable[[], T]) -> T:
    """`read()` inside a Flask request context replaying a Datasette request's cookie and
    client, from an empty context: one pushed where another is current would reuse its
    app context and `g` (the cached user)."""
    headers = {
        name: value
        for name, value in (
            ("Cookie", request.headers.get("cookie")),
            ("User-Agent", request.headers.get("user-agent")),
            ("X-Forwarded-For", request.headers.get("x-forwarded-for")),
        )
        if value is not None
    }
    client = request.scope.get("client") or ("", 0)

    def run() -> T:
        with app.test_request_context("/", headers=headers, environ_base={"REMOTE_ADDR": client[0]}):
            return read()

    return contextvars.Context().run(run)


def largest_flask_body(app: Flask) -> int:
    """The largest body any Flask page accepts: a form's, or an import upload's."""
    return max(app.config["MAX_CONTENT_LENGTH"], app.config["IMPORT_MAX_BYTES"] + ENVELOPE)


class BodyTooLarge(Exception):
    """A streamed request body went past the limit: the app's reading stops here."""


class Dispatcher:
    """ASGI: /data/... to Datasette, the pages' files from the event loop (web.static_files),
    everything else to Flask. Closes the system on lifespan shutdown (or `close()`)."""

    def __init__(self, flask_app: Flask, datasette_app: ASGIApp, system: System) -> None:
        self.flask_app = flask_app
        self.flask = WSGIBridge(_in_fresh_context(flask_app))  # type: ignore[arg-type]
        self.datasette = datasette_app
        self.static = StaticServer(flask_app.config["TRUSTED_PROXIES"])
        self.system = system
        self.flask_limit = largest_flask_body(flask_app)
        self.data_limit: int = flask_app.config["MAX_CONTENT_LENGTH"]  # Datasette takes forms only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1000})
        else:
            request = self._http(scope, _called_cleanly(receive), _called_cleanly(send))
            await asyncio.create_task(request, context=contextvars.Context())

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == DATA_PREFIX.rstrip("/"):
            await _redirect(send, DATA_PREFIX)
            return
        to_data = scope["path"].startswith(DATA_PREFIX)
        if not to_data and await self.static.serve(scope, receive, send):
            return
        limit = self.data_limit if to_data else self.flask_limit
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._too_large(send)  # refused unread
            return
        body = _LimitedBody(receive, send, limit)
        try:
            if to_data:
                with_headers = _adding_headers(body.send, DATASETTE_HEADERS)
                await self.datasette(_below(scope, DATA_PREFIX), body.receive, with_headers)
            else:
                await self.flask(scope, body.receive, body.send)
        except BodyTooLarge:
            pass
        if body.exceeded and not body.started:
            await self._too_large(send)

    async def _too_large(self, send: Send) -> None:
        """The friendly 413 page, rendered by Flask as every page is; the connection is
        closed after it, so the unread body is never read."""
        page = contextvars.Context().run(errors.too_large_response, self.flask_app)
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in page.headers.items()]
        headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": page.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": page.get_data()})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def close(self) -> None:
        self.system.close()


def _in_fresh_context(wsgi_app: WSGIApp) -> WSGIApp:
    """`wsgi_app` called in an empty context: Flask must never find an app context
    already pushed (it would reuse it, `g` and all)."""

    def call(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return contextvars.Context().run(wsgi_app, environ, start_response)

    return call


def _called_cleanly(call: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """The server's receive or send, run as a task of its own in an empty context: a
    callback it registers on the connection (resuming reading, waiting to write) must not
    capture the context of whoever called it (Flask's thread, via a2wsgi)."""

    async def clean(*args: Any) -> Any:
        call_it: Coroutine[Any, Any, Any] = call(*args)  # type: ignore[assignment]
        return await asyncio.create_task(call_it, context=contextvars.Context())

    return clean


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            return int(value)  # the server has already refused one that is not a number
    return None


class _LimitedBody:
    """Counts the body as the app reads it and stops at `limit` (chunked bodies have no
    Content-Length to check up front). Once over, the app's own reply is dropped: the
    Dispatcher answers 413 instead."""

    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self._receive, self._send, self.limit = receive, send, limit
        self.read = 0
        self.exceeded = False
        self.started = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.read += len(message.get("body", b""))
            if self.read > self.limit:
                self.exceeded = True
                raise BodyTooLarge(f"request body over {self.limit} bytes")
        return message

    async def send(self, message: Message) -> None:
        if self.exceeded:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


def _below(scope: Scope, prefix: str) -> Scope:
    """The scope as an app mounted at `prefix` sees it: the prefix moved from the path to
    root_path. Datasette 0.65 could strip its base_url itself, but then builds its
    .json/.csv links from the unstripped path and prefixes them twice (/data/data/...)."""
    mount = prefix.rstrip("/")
    scope = dict(scope, path=scope["path"][len(mount) :], root_path=scope.get("root_path", "") + mount)
    if scope.get("raw_path"):
        scope["raw_path"] = scope["raw_path"][len(mount.encode()) :]
    return scope


def _adding_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            present = {name.lower() for name, _ in message.get("headers", [])}
            headers = list(message.get("headers", []))
            headers += [(name, value) for name, value in extra if name not in present]
            message = {**message, "headers": headers}
        await send(message)

    return send_with_headers


async def _redirect(send: Send, location: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 302,
            "headers": [(b"location", location.encode()), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b""})


def make_asgi_app(
    data_dir: str | Path,
    *,
    config: Mapping[str, Any] | None = None,
    system: System | None = None,
) -> Dispatcher:
    """The whole service as one ASGI app over `data_dir`. `config` overrides Flask
    settings (tests, --insecure-cookies); `system` lets a caller share an open one."""
    from projections.datasette_config import make_datasette

    system = system or open_system(Path(data_dir))
    try:
        flask_app = create_app({"DATA_DIR": Path(data_dir), **(config or {})}, system=system)
        datasette = make_datasette(
            system.projections_db,
            actor_from_request=make_actor_from_request(flask_app),
            base_url=DATA_PREFIX,  # so Datasette's links carry /data/
            sign_in_url="/login",
            page_header=make_page_header(flask_app),
        )
    except BaseException:
        system.close()
        raise
    return Dispatcher(flask_app, datasette.app(), system)


# How the product runs under uvicorn (serve() and the tests' real-server runs share it).
SERVER_OPTIONS: dict[str, Any] = {
    "lifespan": "on",
    # uvicorn's own guard against python/cpython#140947, beside the Dispatcher's.
    "reset_contextvars": True,
    # uvicorn would otherwise believe X-Forwarded-For from any loopback client and rewrite
    # the client address before Flask sees it; forwarded headers are trusted only where
    # GOVLEDGER_TRUSTED_PROXIES says so, by the Flask app itself (web.security).
    "proxy_headers": False,
}


# Set in the environment for each worker process (a worker is a fresh interpreter).
PROJECTOR_ENV = "GOVLEDGER_PROJECTOR"
PROJECTOR_SERVICE = "service"  # `govledger project --follow` keeps projections.db up to date


def projector_is_service() -> bool:
    return os.environ.get(PROJECTOR_ENV, "in-process").strip().lower() == PROJECTOR_SERVICE


def app_from_environment() -> Dispatcher:
    """The ASGI app for one worker process (uvicorn's factory): the data directory and
    settings come from the environment `serve` sets ($GOVLEDGER_DATA_DIR, ...)."""
    from ledger.config import resolve_data_dir

    data_dir = resolve_data_dir(None)
    system = open_system(data_dir, catch_up=not projector_is_service())
    return make_asgi_app(data_dir, system=system)


def shared_storage_problem(workers: int) -> str | None:
    """Why `workers` processes cannot share the sign-in rate limits, or None."""
    uri = os.environ.get(RATELIMIT_STORAGE_ENV, "")
    if workers > 1 and uri.startswith("memory://"):
        return (
            f"{RATELIMIT_STORAGE_ENV}={uri} keeps sign-in limits in each worker's memory, so "
            f"{workers} workers would each allow the full number of guesses. Unset it (a "
            "SQLite file in the data directory is shared by every worker) or name shared "
            "storage such as redis://host:6379."
        )
    return None


def serve(
    data_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    secure_cookies: bool | None = None,
    workers: int = 1,
    projector_service: bool = False,
) -> None:
    """Run the service under uvicorn until interrupted, in `workers` processes.
    `secure_cookies=None` leaves it to $GOVLEDGER_COOKIE_SECURE (default: secure);
    `projector_service`: saves wait for `govledger project --follow` to show them."""
    import uvicorn

    from ledger.config import DATA_DIR_ENV

    problem = shared_storage_problem(workers)
    if problem:
        raise RuntimeError(problem)
    os.environ[DATA_DIR_ENV] = str(Path(data_dir).resolve())
    if secure_cookies is not None:
        os.environ[COOKIE_SECURE_ENV] = "1" if secure_cookies else "0"
    if projector_service:
        os.environ[PROJECTOR_ENV] = PROJECTOR_SERVICE
    if workers > 1:
        # Each worker imports and builds its own app: the same Dispatcher and options.
        uvicorn.run(
            "web.serve:app_from_environment", factory=True, workers=workers,
            host=host, port=port, log_level="info", **SERVER_OPTIONS,
        )
        return
    app = app_from_environment()
    try:
        uvicorn.run(app, host=host, port=port, log_level="info", **SERVER_OPTIONS)
    finally:
        app.close()
