"""The server probes region `local` itself: a real HTTP target on loopback, broken
and mended, moves the component's status through the quorum."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from starlette.testclient import TestClient

from signalfire.domain.probe import MonitorKind
from signalfire.domain.status import ComponentStatus as C
from signalfire.engine.clock import system_clock
from signalfire.web.app import create_app


class _Target(BaseHTTPRequestHandler):
    healthy = True

    def do_GET(self) -> None:
        body = b'{"status": "ok"}' if type(self).healthy else b'{"status": "broken"}'
        self.send_response(200 if type(self).healthy else 503)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def target():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Target)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Target.healthy = True
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def _wait_for(predicate, timeout_s=15.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_the_local_prober_moves_the_component(store, target):
    now = system_clock()
    page = store.put_page("app", name="App", now=now)
    comp = store.create_component(page.id, name="Feed", now=now)
    store.create_monitor(page.id, name="feed", kind=MonitorKind.HTTP, component_id=comp.id,
                         target=f"http://127.0.0.1:{target.server_port}/feed", interval_s=1,
                         timeout_s=2, conditions=["[STATUS] == 200", "[BODY].status == ok"],
                         failure_threshold=2, success_threshold=1, now=now)
    app = create_app(store, base_url="http://status.test")
    with TestClient(app, base_url="http://status.test") as client:
        def status():
            return {c["name"]: c["status"] for c in
                    client.get("/api/v2/components.json").json()["components"]}["Feed"]

        assert _wait_for(lambda: store.component_verdict(comp.id) is not None)
        assert status() == C.OPERATIONAL.value
        _Target.healthy = False
        assert _wait_for(lambda: status() == C.MAJOR_OUTAGE.value), "never went down"
        (obs, *_) = store.recent_observations(store.list_monitors()[0].id)
        assert not obs.ok and obs.status == 503
        assert [c.ok for c in obs.conditions] == [False, False]
        _Target.healthy = True
        assert _wait_for(lambda: status() == C.OPERATIONAL.value), "never came back"


def test_a_silent_heartbeat_goes_down_and_a_ping_brings_it_back(store):
    now = system_clock()
    page = store.put_page("app", name="App", now=now)
    comp = store.create_component(page.id, name="Backups", now=now)
    hb = store.create_monitor(page.id, name="backup", kind=MonitorKind.HEARTBEAT,
                              component_id=comp.id, interval_s=1, failure_threshold=1,
                              success_threshold=1, options={"grace_s": 0}, now=now)
    secret = store.set_heartbeat_secret(hb.id)
    app = create_app(store, base_url="http://status.test")
    with TestClient(app, base_url="http://status.test") as client:
        assert _wait_for(lambda: store.get_component(comp.id).status is C.MAJOR_OUTAGE)
        (obs, *_) = store.recent_observations(hb.id)
        assert obs.error == "no_ping"

        def pinged_and_up():
            client.post(f"/api/v1/heartbeat/{secret}")
            return store.get_component(comp.id).status is C.OPERATIONAL
        assert _wait_for(pinged_and_up)
