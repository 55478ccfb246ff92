"""The pages' files (/static/, /assets/, /favicon.ico) answered on the server's event
loop, never by one of Flask's threads (issue 14 item 6): under load a stylesheet no
longer queues behind pages being rendered.

Starlette's StaticFiles finds the file (refusing paths out of its folder), answers
If-None-Match / If-Modified-Since with 304 and serves ranges; the headers Flask's routes
in web.home send are added here: the same Cache-Control and the same security headers.
Anything it cannot serve (a missing file, a POST) goes on to Flask, whose routes still
answer it exactly as before, with the friendly 404 page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from time import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles

from web.home import ASSETS_MAX_AGE, GOVUK_ASSETS, STATIC, STATIC_MAX_AGE
from web.security import COMMON_HEADERS, content_security_policy

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", content_security_policy(None).encode()),
    *((name.lower().encode(), value.encode()) for name, value in COMMON_HEADERS.items()),
]
HSTS = (b"strict-transport-security", b"max-age=31536000")


@dataclass(frozen=True)
class Mount:
    """Files under `prefix` from `folder`; an exact path (`file`) maps to one file."""

    prefix: str
    folder: Path
    max_age: int
    file: str | None = None

    def relative(self, path: str) -> str | None:
        """The file's path within `folder`, or None when `path` is not under this mount."""
        if self.file is not None:
            return "/" + self.file if path == self.prefix else None
        return path[len(self.prefix) - 1 :] if path.startswith(self.prefix) else None


# The same folders and lifetimes as web.home's routes (which Flask still has, for url_for
# and for whatever this layer passes on).
MOUNTS = (
    Mount("/static/", STATIC, STATIC_MAX_AGE),
    Mount("/assets/", GOVUK_ASSETS, ASSETS_MAX_AGE),
    Mount("/favicon.ico", GOVUK_ASSETS / "images", ASSETS_MAX_AGE, file="favicon.ico"),
)


class StaticServer:
    """Serves MOUNTS' files; `trusted_proxies` as the Flask app is configured (so HSTS is
    sent exactly when Flask would send it)."""

    def __init__(self, trusted_proxies: int) -> None:
        self.trusted_proxies = trusted_proxies
        # check_dir off: GOV.UK Frontend's files arrive with setup.sh; until then Flask 404s.
        self.files = {m.prefix: StaticFiles(directory=m.folder, check_dir=False) for m in MOUNTS}

    async def serve(self, scope: MutableMapping[str, Any], receive: Any, send: Send) -> bool:
        """Answer the request if it is for a file that exists: True; else False, and
        nothing has been sent (the caller passes it on to Flask)."""
        if scope["method"] not in ("GET", "HEAD"):
            return False
        for mount in MOUNTS:
            relative = mount.relative(scope["path"])
            if relative is not None:
                break
        else:
            return False
        files = self.files[mount.prefix]
        try:
            path = files.get_path({**scope, "path": relative, "root_path": ""})
            response = await files.get_response(path, scope)
        except HTTPException:
            return False
        await response(scope, receive, self._with_headers(send, mount.max_age, self._secure(scope)))
        return True

    def _secure(self, scope: MutableMapping[str, Any]) -> bool:
        """HTTPS as werkzeug's ProxyFix would decide it: the proto `trusted_proxies` hops
        back when that many are given, else the connection's own scheme."""
        if self.trusted_proxies:
            header = dict(scope.get("headers", [])).get(b"x-forwarded-proto", b"").decode("latin-1")
            values = [v.strip() for v in header.split(",")] if header else []
            if len(values) >= self.trusted_proxies:
                return values[-self.trusted_proxies] == "https"
        return scope.get("scheme") == "https"

    @staticmethod
    def _with_headers(send: Send, max_age: int, secure: bool) -> Send:
        extra = [
            *SECURITY_HEADERS,
            (b"cache-control", f"public, max-age={max_age}".encode()),
            (b"expires", formatdate(time() + max_age, usegmt=True).encode()),
            *([HSTS] if secure else []),
        ]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        return send_with_headers
