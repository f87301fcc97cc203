"""The target of ``probes.py``: every path answers 200 ``{"status":"ok"}``.

Started by ``probes.py``, never by hand. It binds a free port on 127.0.0.1
itself, prints ``port=N`` on stdout, then serves a raw ASGI callable with
uvicorn, uvloop and httptools (no access log, no server header, one worker).
There is no routing, so ``/m/0`` … ``/m/9999`` cost the same and nothing can be
cached per path: the benchmark measures the prober, and this process has a
core of its own so that it never competes with it.

The one exception is ``/_requests``, which answers the number of requests
served so far: the benchmark checks that the checks it counted really reached
the target.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn

BODY = b'{"status":"ok"}'
COUNT_PATH = "/_requests"
ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def make_app() -> ASGIApp:
    start = {
        "type": "http.response.start",
        "status": 200,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(BODY)).encode()),
        ],
    }
    message = {"type": "http.response.body", "body": BODY}
    served = 0

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        nonlocal served
        if scope["type"] == "lifespan":  # nothing to set up or tear down
            while True:
                event = await receive()
                await send({"type": event["type"] + ".complete"})
                if event["type"] == "lifespan.shutdown":
                    return
        elif scope["type"] == "http":
            if scope["path"] == COUNT_PATH:
                count = str(served).encode()
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(b"content-length", str(len(count)).encode())]})
                await send({"type": "http.response.body", "body": count})
                return
            served += 1
            await send(start)
            await send(message)

    return app


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: _probe_target.py")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(make_app(), loop="uvloop", http="httptools", access_log=False,
                            server_header=False, date_header=False, log_level="warning",
                            workers=1,
                            # Thousands of checks a second, each on a new connection.
                            backlog=4096)
    print(f"port={sock.getsockname()[1]}", flush=True)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main(sys.argv)
