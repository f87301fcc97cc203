"""A real server and a real browser for the public pages.

``live_server`` runs the whole application (the demo page seeded into a fresh
SQLite file) under uvicorn on a loopback port that the test owns; ``browser``
is Debian's Chromium driven by Playwright. Nothing leaves the machine.
"""

from __future__ import annotations

import contextlib
import os
import shutil
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

CHROMIUM = Path("/usr/bin/chromium")
# Playwright may not download its own browsers here; these flags keep the system
# Chromium from phoning home (updates, sync, QUIC probes) during a test run.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
STARTUP_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class LiveServer:
    url: str
    store: Store
    page_id: str


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """The demo page served by uvicorn on a free loopback port, stopped after the test."""
    with serve_demo(tmp_path) as server:
        yield server


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


# Module scope, not session: while Playwright's sync API is started it keeps an
# asyncio loop marked as running on the main thread, so every test after it that
# calls asyncio.run (or an async test plugin) would fail with "cannot be called
# from a running event loop". One Chromium per test module costs about a second.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright's sync API, shared by one test module."""
    chromium = shutil.which(str(CHROMIUM))
    if chromium is None:
        message = (f"{CHROMIUM} is missing: the public pages are NOT being checked in a real "
                   "browser (apt-get install chromium)")
        if os.environ.get("SIGNALFIRE_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()
