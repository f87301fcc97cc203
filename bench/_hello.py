"""The practical limit: the smallest ASGI application that still answers like a JSON API.

It does no routing and no work, and sends one constant 28-byte JSON body with a
content type and a length, so a benchmark of it measures only uvicorn,
httptools, uvloop and the kernel. Signalfire's cached public documents run on
that same stack; how close they get to this is the number that matters.
"""

from __future__ import annotations

from typing import Any

BODY = b'{"status":"ok","hello":true}'
_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(BODY)).encode()),
    ],
}
_BODY = {"type": "http.response.body", "body": BODY}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        # Lifespan and anything else: nothing to set up, say so and stop.
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        return
    await send(_START)
    await send(_BODY)
