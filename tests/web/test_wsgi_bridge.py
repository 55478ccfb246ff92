"""Flask's responses reach the event loop whole, in one hand-off (web.wsgi_bridge), and
big bodies still stream."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Response

from web import wsgi_bridge
from web.wsgi_bridge import BUFFER, WSGIBridge

CHUNK = 100 * 1024


@pytest.fixture
def bridge() -> WSGIBridge:
    app = Flask(__name__)

    @app.route("/page")
    def page() -> str:
        return "<p>Hello</p>"

    @app.route("/export")
    def export() -> Response:
        def rows() -> Iterator[bytes]:
            for n in range(8):
                yield bytes([65 + n]) * CHUNK

        return Response(rows(), mimetype="text/csv")

    @app.route("/broken")
    def broken() -> str:
        raise RuntimeError("never shown")

    return WSGIBridge(app)


def call(bridge: WSGIBridge, path: str, monkeypatch: pytest.MonkeyPatch) -> tuple[list[dict[str, Any]], int]:
    """The ASGI messages sent for GET `path`, and how many hand-offs the thread made."""
    sent: list[dict[str, Any]] = []
    hand_offs: list[int] = []
    responder = wsgi_bridge._Responder
    send_one, hand_over = wsgi_bridge.WSGIResponder.send, responder._hand_over
    monkeypatch.setattr(responder, "send", lambda self, m: hand_offs.append(1) or send_one(self, m))
    monkeypatch.setattr(responder, "_hand_over", lambda self, ms: hand_offs.append(1) or hand_over(self, ms))

    async def go() -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
            "root_path": "", "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
        }
        await bridge(scope, receive, send)

    asyncio.run(go())
    return sent, len(hand_offs)


def test_a_page_goes_to_the_loop_whole_in_one_hand_off(
    bridge: WSGIBridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent, hand_offs = call(bridge, "/page", monkeypatch)
    assert hand_offs == 1
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 200 and (b"content-type", b"text/html; charset=utf-8") in sent[0]["headers"]
    assert sent[1]["body"] == b"<p>Hello</p>" and not sent[1].get("more_body")


def test_a_big_body_still_streams(bridge: WSGIBridge, monkeypatch: pytest.MonkeyPatch) -> None:
    sent, _ = call(bridge, "/export", monkeypatch)
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    assert b"".join(m["body"] for m in bodies) == b"".join(bytes([65 + n]) * CHUNK for n in range(8))
    held = -(-BUFFER // CHUNK) + (BUFFER % CHUNK == 0)  # chunks held until past the buffer
    assert len(bodies) == held + (8 - held) + 1  # then one message a chunk, and the end
    assert all(m.get("more_body") for m in bodies[:-1]) and not bodies[-1].get("more_body")


def test_an_error_is_flasks_own_500(bridge: WSGIBridge, monkeypatch: pytest.MonkeyPatch) -> None:
    sent, _ = call(bridge, "/broken", monkeypatch)
    assert sent[0]["status"] == 500 and b"never shown" not in sent[-1]["body"]
