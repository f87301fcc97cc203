"""SIGKILL a dispatcher in the middle of a fan-out, start another: no subscriber
goes without the message, and any message sent twice carries the same
``webhook-id`` both times, so a receiver that drops repeats sees it once.

A send cannot be made atomic with the commit that records it: a message whose
receiver answered just before the kill, and whose outcome was not yet written,
goes again after its claim lapses. Outcomes are recorded once per claimed batch,
so at most one batch can be repeated like that; the test checks that bound too.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from notify_receivers import HookReceiver

from signalfire.domain.status import ComponentStatus, IncidentStatus
from signalfire.notify.signing import new_secret
from signalfire.store import open_store

HERE = Path(__file__).resolve().parent
POSTGRES_URL = os.environ.get("SIGNALFIRE_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")
SUBSCRIBERS = 240
BATCH = 25  # the dispatcher's batch in _dispatcher.py
LEASE_S = 2.0


class SlowReceiver(HookReceiver):
    """Takes a little while per request, so the fan-out lasts long enough to be cut."""

    def __init__(self) -> None:
        super().__init__()
        handler = self.server.RequestHandlerClass
        original = handler.do_POST

        def slow(request) -> None:  # type: ignore[no-untyped-def]
            time.sleep(0.02)
            original(request)

        handler.do_POST = slow  # type: ignore[method-assign]


def start(url: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, str(HERE / "_dispatcher.py"), url, str(LEASE_S)],
                            stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_a_killed_dispatcher_loses_nothing_and_repeats_only_what_was_in_flight(any_db_url):
    receiver = SlowReceiver().start()
    store = open_store(any_db_url)
    try:
        now = datetime.now(UTC)
        page = store.put_page("app", name="App", now=now)
        feed = store.create_component(page.id, name="Feed", now=now)
        for i in range(SUBSCRIBERS):
            store.subscribe(page.id, kind="webhook", address=receiver.url(f"/s{i}"), now=now,
                            confirmed=True, secret=new_secret())
        store.create_incident(page.id, name="Down", status=IncidentStatus.INVESTIGATING,
                              body="Looking.", now=now,
                              components={feed.id: ComponentStatus.MAJOR_OUTAGE})

        first = start(any_db_url)
        deadline = time.monotonic() + 60
        while sum(len(v) for v in receiver.received.values()) < SUBSCRIBERS // 3:
            assert time.monotonic() < deadline, "the first dispatcher sent too little"
            time.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        first.stdout.close()  # type: ignore[union-attr]
        before = sum(len(v) for v in receiver.received.values())
        assert before < SUBSCRIBERS, "killed too late to cut the fan-out"

        second = start(any_db_url)
        try:
            deadline = time.monotonic() + 90
            while store.delivery_counts(page.id).get("sent", 0) < SUBSCRIBERS:
                assert time.monotonic() < deadline, store.delivery_counts(page.id)
                time.sleep(0.1)
        finally:
            second.send_signal(signal.SIGKILL)
            second.wait(10)
            second.stdout.close()  # type: ignore[union-attr]

        ids: dict[str, collections.Counter[str]] = {}
        for i in range(SUBSCRIBERS):
            got = receiver.received[f"/s{i}"]
            assert got, f"subscriber {i} never got the message"
            ids[f"s{i}"] = collections.Counter(h["webhook-id"] for h, _ in got)
            incident = json.loads(got[0][1])["incident"]
            assert incident["name"] == "Down"
        assert all(len(c) == 1 for c in ids.values())  # one message each, by its id
        repeats = sum(n - 1 for c in ids.values() for n in c.values())
        assert repeats <= BATCH
        assert store.delivery_counts(page.id) == {"sent": SUBSCRIBERS}
    finally:
        receiver.stop()
        store.close()
