"""One port for everything: Flask for the pages, Datasette at /data/ for the data.

A tiny ASGI dispatcher mounts Datasette at /data/ (the prefix moved from the path to
root_path; Datasette's base_url setting puts it back on every link Datasette writes) and
sends everything else to Flask, run in threads by a2wsgi. Signing in to Flask
signs you in to Datasette: its `actor_from_request` hook reads Flask's signed session
cookie and applies the same rules as the web app (see `make_actor_from_request`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from pathlib import Path
from typing import Any

from a2wsgi import WSGIMiddleware
from flask import Flask
from flask_login import current_user

from web import create_app
from web.backend import System, open_system
from web.security import COMMON_HEADERS

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Actor = dict[str, Any]

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

    def actor_from_request(request: Any) -> Actor | None:
        if cookie_name not in request.cookies:
            return None
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
        with app.test_request_context(
            "/", headers=headers, environ_base={"REMOTE_ADDR": client[0]}
        ):
            user = current_user._get_current_object()
            if not user.is_authenticated:
                return None
            return {"id": user.username, "display": user.display_name, "roles": list(user.roles)}

    return actor_from_request


class Dispatcher:
    """ASGI: /data/... to Datasette, everything else to Flask. Closes the system on
    lifespan shutdown (or `close()`)."""

    def __init__(self, flask_app: Flask, datasette_app: ASGIApp, system: System) -> None:
        self.flask_app = flask_app
        self.flask = WSGIMiddleware(flask_app)  # type: ignore[arg-type]
        self.datasette = datasette_app
        self.system = system

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1000})
        elif scope["path"] == DATA_PREFIX.rstrip("/"):
            await _redirect(send, DATA_PREFIX)
        elif scope["path"].startswith(DATA_PREFIX):
            with_headers = _adding_headers(send, DATASETTE_HEADERS)
            await self.datasette(_below(scope, DATA_PREFIX), receive, with_headers)
        else:
            await self.flask(scope, receive, send)

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
        )
    except BaseException:
        system.close()
        raise
    return Dispatcher(flask_app, datasette.app(), system)


def serve(
    data_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    secure_cookies: bool | None = None,
) -> None:
    """Run the service under uvicorn until interrupted. `secure_cookies=None` leaves it
    to $GOVLEDGER_COOKIE_SECURE (default: secure)."""
    import uvicorn

    config = {} if secure_cookies is None else {"SESSION_COOKIE_SECURE": secure_cookies}
    app = make_asgi_app(data_dir, config=config)
    try:
        uvicorn.run(app, host=host, port=port, lifespan="on", log_level="info")
    finally:
        app.close()
