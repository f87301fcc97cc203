"""The practical limit: the smallest ASGI application that still answers like a JSON API.

It does no routing and no work: every request gets one constant JSON body
(28 bytes by default) with a content type and a length. A benchmark of it
measures only uvicorn, httptools, uvloop and the kernel, the stack that
Signalfire's cached public documents run on too.

Body size is not free (a 6 KB body costs the kernel more than a 28-byte one),
so ``make_app(size_bytes)`` pads the body to a given size for a like-for-like
comparison with a real document.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
BODY = b'{"status":"ok","hello":true}'


def body_of_size(size_bytes: int) -> bytes:
    """``BODY``, or a JSON object padded to ``size_bytes`` (37 bytes at least) when larger."""
    if size_bytes <= len(BODY):
        return BODY
    pad = size_bytes - len(b'{"status":"ok","hello":true,"pad":""}')
    return b'{"status":"ok","hello":true,"pad":"' + b"x" * max(pad, 0) + b'"}'


def make_app(size_bytes: int = 0) -> ASGIApp:
    body = body_of_size(size_bytes)
    start = {
        "type": "http.response.start",
        "status": 200,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    message = {"type": "http.response.body", "body": body}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":  # nothing to set up or tear down
            while True:
                event = await receive()
                await send({"type": event["type"] + ".complete"})
                if event["type"] == "lifespan.shutdown":
                    return
        elif scope["type"] == "http":
            await send(start)
            await send(message)

    return app


app = make_app()
