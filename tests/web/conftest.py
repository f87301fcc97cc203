"""A real server and a real browser for the public pages.

``live_server`` runs the whole application (the demo page seeded into a fresh
SQLite file) under uvicorn on a loopback port that the test owns; ``browser``
is Debian's Chromium driven by Playwright. Nothing leaves the machine.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_live import LiveServer, serve_demo

CHROMIUM = Path("/usr/bin/chromium")
# Playwright may not download its own browsers here; these flags keep the system
# Chromium from phoning home (updates, sync, QUIC probes) during a test run.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """The demo page served by uvicorn on a free loopback port, stopped after the test."""
    with serve_demo(tmp_path) as server:
        yield server


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
