"""An app over a fresh store, a page with two components, and an authorised client."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from starlette.testclient import TestClient

from signalfire.notify.transports import SmtpConfig
from signalfire.web.app import create_app

BASE = "http://status.test"


@dataclass
class Env:
    client: TestClient
    anon: TestClient
    store: object
    page_id: str
    feed: str
    login: str
    group: str

    def url(self, path: str) -> str:
        return f"/api/v1/pages/{self.page_id}{path}"


@pytest.fixture
def make_env(clock):
    def make(store) -> Env:
        page = store.put_page("app", name="App", now=clock())
        group = store.create_group(page.id, name="Core", now=clock())
        feed = store.create_component(page.id, name="Feed", group_id=group.id, now=clock())
        login = store.create_component(page.id, name="Login", now=clock(), position=1)
        _, secret = store.create_token("tests", now=clock())
        # An SMTP server is named so that email subscriptions are open; nothing
        # connects to it, since background duties (the dispatcher) are off.
        app = create_app(store, base_url=BASE, clock=clock, background=False,
                         max_body_bytes=64_000, smtp=SmtpConfig(host="127.0.0.1", port=9))
        client = TestClient(app, base_url=BASE, headers={"Authorization": f"Bearer {secret}"})
        anon = TestClient(app, base_url=BASE)
        return Env(client, anon, store, page.id, feed.id, login.id, group.id)
    return make


@pytest.fixture
def env(store, make_env):
    e = make_env(store)
    yield e
    e.client.close()
    e.anon.close()


@pytest.fixture
def pg_env(any_store, make_env):
    e = make_env(any_store)
    yield e
    e.client.close()
    e.anon.close()


@pytest.fixture
def live(store, clock):
    """The real server (uvicorn) on a free loopback port, over the `store` fixture."""
    import socket
    import threading
    import time

    import uvicorn

    page = store.put_page("app", name="App", now=clock())
    store.create_component(page.id, name="Feed", now=clock())
    store.create_component(page.id, name="Login", now=clock(), position=1)
    _, secret = store.create_token("tests", now=clock())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    app = create_app(store, base_url=url, background=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield type("Live", (), {"url": url, "token": secret, "page_id": page.id, "store": store})
    server.should_exit = True
    thread.join(10)
