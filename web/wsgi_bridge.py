"""Flask under the ASGI server with one hand-off to the event loop per page, not three.

a2wsgi runs the WSGI app in its thread pool and hands each message to the event loop on
its own (the status and headers, every body chunk, then the final empty chunk), the
thread waiting for the loop each time: three round trips for an ordinary page, each one
needing the GIL back from the other side, which a busy worker's loop and its ten threads
share (9% of the workers' time in the load benchmark's profile). Here a response is held
in the thread until it is complete, then goes to the loop as one start and one body, in
one round trip. A body past BUFFER bytes (an export, a report) is streamed as a2wsgi
streams it, chunk by chunk, so memory stays bounded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi import WSGIResponder

BUFFER = 256 * 1024  # bytes a response may be held before it is streamed
Message = dict[str, Any]


class _Responder(WSGIResponder):
    """One request: a2wsgi's responder, holding the response until it is whole."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._held: list[Message] = []
        self._held_bytes = 0
        self._streaming = False

    def start_response(
        self, status: str, response_headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        self.exc_info = exc_info
        if not self.response_started:
            self.response_started = True
            headers = [
                (name.strip().encode("latin1").lower(), value.strip().encode("latin1"))
                for name, value in response_headers
            ]
            code = int(status.split(" ", 1)[0])
            self._held.append({"type": "http.response.start", "status": code, "headers": headers})
        return self._write

    def _write(self, chunk: bytes) -> None:
        body = {"type": "http.response.body", "body": chunk, "more_body": True}
        if self._streaming:
            self.send(body)  # type: ignore[arg-type]
            return
        self._held.append(body)
        self._held_bytes += len(chunk)
        if self._held_bytes > BUFFER:
            self._hand_over(self._held)
            self._held, self._streaming = [], True

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> None:
        iterable: Iterable[bytes] = self.app(environ, start_response)
        try:
            for chunk in iterable:
                self._write(chunk)
            if self._streaming:
                self.send({"type": "http.response.body", "body": b""})
            else:
                starts = [m for m in self._held if m["type"] == "http.response.start"]
                body = b"".join(m["body"] for m in self._held if m["type"] == "http.response.body")
                self._hand_over([*starts, {"type": "http.response.body", "body": body}])
        finally:
            getattr(iterable, "close", lambda: None)()

    def _hand_over(self, messages: list[Message]) -> None:
        """Queue `messages` for the loop's sender in one round trip."""
        asyncio.run_coroutine_threadsafe(self._put_all(messages), loop=self.loop).result()

    async def _put_all(self, messages: list[Message]) -> None:
        for message in messages:
            await self.send_queue.put(message)  # type: ignore[arg-type]


class WSGIBridge(WSGIMiddleware):
    """a2wsgi's WSGIMiddleware, each HTTP request answered by `_Responder`."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await _Responder(self.app, self.executor, self.send_queue_size)(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
