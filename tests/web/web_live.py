"""Serving the demo page for browser tests: uvicorn on a loopback port the test owns."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from signalfire.sim.demo import seed_demo
from signalfire.store import Store, open_store
from signalfire.web.app import create_app

STARTUP_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class LiveServer:
    url: str
    store: Store
    page_id: str


@contextlib.contextmanager
def serve_demo(tmp_path: Path, **app_options: Any) -> Iterator[LiveServer]:
    store = open_store(f"sqlite:///{tmp_path / 'live.db'}")
    page_id = seed_demo(store, now=datetime.now(UTC))

    # Bind first and hand the socket to uvicorn: the port is known before the app
    # is built (it needs its base URL) and no other process can take it meanwhile.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    app = create_app(store, base_url=url, background=False, **app_options)
    # ws="none": the pages use no websockets, and importing uvicorn's websockets
    # protocol raises a DeprecationWarning, which this test run treats as an error.
    config = uvicorn.Config(app, lifespan="on", ws="none", log_level="warning",
                            access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name="live-server", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail(f"the live server did not start on {url}")
            time.sleep(0.02)
        yield LiveServer(url=url, store=store, page_id=page_id)
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT_S)
        sock.close()
        store.close()


