"""The dispatcher against real peers: an SMTP server, webhook receivers, Apprise."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from notify_receivers import HookReceiver, MailSink
from standardwebhooks.webhooks import Webhook

from signalfire.domain.status import ComponentStatus, IncidentStatus
from signalfire.notify.dispatcher import Dispatcher, backoff_s
from signalfire.notify.messages import LinkTokens, Messages
from signalfire.notify.signing import new_secret
from signalfire.notify.transports import (
    AppriseTransport,
    EmailTransport,
    WebhookTransport,
    webhook_session,
)

BASE = "https://status.example.com"


@pytest.fixture
def mail() -> Iterator[MailSink]:
    sink = MailSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def hooks() -> Iterator[HookReceiver]:
    receiver = HookReceiver().start()
    yield receiver
    receiver.stop()


class Rig:
    def __init__(self, store: Any, clock: Any, mail: MailSink) -> None:
        self.store, self.clock = store, clock
        self.page = store.put_page("app", name="Clipstream", now=clock())
        self.feed = store.create_component(self.page.id, name="Feed", now=clock())
        self.links = LinkTokens(b"s" * 32)
        self.messages = Messages(store, base_url=BASE, links=self.links)
        self.mail = mail

    def dispatcher(self, client: Any, **options: Any) -> Dispatcher:
        transports = {
            "webhook": WebhookTransport(client, self.messages, lambda: datetime.now(UTC)),
            "email": EmailTransport(self.messages, host="127.0.0.1", port=self.mail.port,
                                    sender="status@example.com"),
            "apprise": AppriseTransport(self.messages),
        }
        return Dispatcher(self.store, self.messages, transports, self.clock, **options)

    def open_incident(self) -> Any:
        return self.store.create_incident(
            self.page.id, name="Videos do not load", status=IncidentStatus.INVESTIGATING,
            body="We are looking into it.", now=self.clock(),
            components={self.feed.id: ComponentStatus.MAJOR_OUTAGE})


@pytest.fixture
def rig(store, clock, mail) -> Rig:
    return Rig(store, clock, mail)


def run(rig: Rig, rounds: int = 1, **options: Any) -> Dispatcher:
    async def go() -> Dispatcher:
        async with webhook_session() as client:
            d = rig.dispatcher(client, **options)
            for _ in range(rounds):
                await d.run_once()
            for t in d.transports.values():
                if isinstance(t, EmailTransport):
                    await t.close()
            return d
    return asyncio.run(go())


def test_an_email_subscriber_confirms_then_hears_of_the_incident(rig: Rig) -> None:
    s = rig.store.subscribe(rig.page.id, kind="email", address="ana@example.com",
                            now=rig.clock())
    run(rig)
    (confirm,) = rig.mail.to("ana@example.com")
    assert confirm["Subject"] == "Confirm your subscription to Clipstream status"
    link = re.search(r"https://\S+/subscriptions/confirm\?token=(\S+)",
                     confirm.get_body(("plain",)).get_content())
    assert link is not None and rig.links.subscriber_id(link.group(1)) == s.id
    assert "List-Unsubscribe" not in confirm  # not a subscription yet

    rig.store.confirm_subscriber(s.id, now=rig.clock())
    rig.open_incident()
    run(rig)
    confirm_and_news = rig.mail.to("ana@example.com")
    assert len(confirm_and_news) == 2
    news = confirm_and_news[1]
    assert news["Subject"] == "[Clipstream] Videos do not load: Investigating"
    assert news["From"] == "Clipstream status <status@example.com>"
    unsubscribe = news["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{BASE}/subscriptions/unsubscribe?token={s.id}.")
    assert news["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = news.get_body(("plain",)).get_content()
    assert "We are looking into it." in text and "Feed" in text
    html = news.get_body(("html",)).get_content()
    assert "Videos do not load" in html and "Manage your subscription" in html

    (incident,) = rig.store.list_incidents(rig.page.id)
    rig.store.add_update(incident.id, status=IncidentStatus.RESOLVED, body="Fixed.",
                         now=rig.clock())
    run(rig)  # the resolution goes at once, without the coalescing wait
    assert rig.mail.to("ana@example.com")[-1]["Subject"] == "[Clipstream] Resolved: Videos do not load"


def test_webhooks_are_signed_in_statuspages_shape(rig: Rig, hooks: HookReceiver) -> None:
    secret = new_secret()
    rig.store.subscribe(rig.page.id, kind="webhook", address=hooks.url("/hook"),
                        now=rig.clock(), confirmed=True, secret=secret)
    incident = rig.open_incident()
    run(rig)
    ((headers, body),) = hooks.received["/hook"]
    payload = Webhook(secret).verify(body, headers)  # a third-party verifier agrees
    assert payload["incident"]["id"] == incident.id
    assert payload["incident"]["status"] == "investigating"
    assert payload["incident"]["incident_updates"][0]["body"] == "We are looking into it."
    assert payload["page"]["id"] == rig.page.id
    assert payload["page"]["status_indicator"] in ("major", "critical")
    assert payload["meta"]["unsubscribe"].startswith(f"{BASE}/subscriptions/unsubscribe")
    assert headers["webhook-id"].startswith("msg_")


def test_a_receiver_that_fails_then_recovers_gets_exactly_one(rig: Rig,
                                                              hooks: HookReceiver) -> None:
    rig.store.subscribe(rig.page.id, kind="webhook", address=hooks.url("/flaky"),
                        now=rig.clock(), confirmed=True)
    hooks.plan["/flaky"] = [500]
    rig.open_incident()
    run(rig)
    assert hooks.received["/flaky"] == []
    assert rig.store.delivery_counts(rig.page.id) == {"pending": 1}
    rig.clock.advance(seconds=backoff_s(1) - 1)
    run(rig)  # not yet due
    assert hooks.received["/flaky"] == []
    rig.clock.advance(seconds=2)
    run(rig, rounds=2)
    assert len(hooks.received["/flaky"]) == 1
    assert rig.store.delivery_counts(rig.page.id) == {"sent": 1}


def test_a_410_stops_the_subscriber_and_shows_why(rig: Rig, hooks: HookReceiver) -> None:
    s = rig.store.subscribe(rig.page.id, kind="webhook", address=hooks.url("/gone"),
                            now=rig.clock(), confirmed=True)
    hooks.plan["/gone"] = [410]
    rig.open_incident()
    run(rig)
    stopped = rig.store.get_subscriber(s.id)
    assert stopped.disabled_at is not None and "HTTP 410" in (stopped.last_error or "")
    assert rig.store.delivery_counts(rig.page.id) == {"failed": 1}


def test_a_receiver_that_is_down_is_tried_again_later(rig: Rig) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/hook"
    rig.store.subscribe(rig.page.id, kind="webhook", address=dead, now=rig.clock(),
                        confirmed=True)
    rig.open_incident()
    run(rig)
    rig.clock.advance(seconds=backoff_s(1) + 1)
    run(rig)
    assert rig.store.delivery_counts(rig.page.id) == {"pending": 1}
    (sub,) = rig.store.list_subscribers(rig.page.id)
    assert sub.disabled_at is None  # not its fault, as far as anyone can tell


def test_a_refused_address_stops_that_email(rig: Rig) -> None:
    rig.mail.refuse.add("nobody@example.com")
    s = rig.store.subscribe(rig.page.id, kind="email", address="nobody@example.com",
                            now=rig.clock(), confirmed=True)
    rig.open_incident()
    run(rig)
    assert rig.store.get_subscriber(s.id).disabled_at is not None


def test_apprise_delivers_to_a_loopback_service(rig: Rig, hooks: HookReceiver) -> None:
    target = hooks.url("/apprise").replace("http://", "json://")
    rig.store.create_channel(rig.page.id, name="ops", kind="apprise", target=target,
                             now=rig.clock())
    rig.open_incident()
    run(rig)
    (got,) = hooks.bodies("/apprise")
    assert got["title"] == "[Clipstream] Videos do not load: Investigating"
    assert "We are looking into it." in got["message"]


def test_two_dispatchers_never_send_one_message_twice(rig: Rig, hooks: HookReceiver) -> None:
    for i in range(60):
        rig.store.subscribe(rig.page.id, kind="webhook", address=hooks.url(f"/h{i}"),
                            now=rig.clock(), confirmed=True, secret=new_secret())
    rig.open_incident()

    async def both() -> None:
        async with webhook_session() as client:
            a = rig.dispatcher(client, batch=7, worker="a")
            b = rig.dispatcher(client, batch=7, worker="b")
            for _ in range(12):
                await asyncio.gather(a.run_once(), b.run_once())
            assert a.sent > 0 and b.sent > 0  # both took part
    asyncio.run(both())
    ids = [h["webhook-id"] for i in range(60) for h, _ in hooks.received[f"/h{i}"]]
    assert len(ids) == 60 and len(set(ids)) == 60
    assert rig.store.delivery_counts(rig.page.id) == {"sent": 60}


def test_a_chat_channel_gets_no_more_than_its_rate(rig: Rig, hooks: HookReceiver) -> None:
    target = hooks.url("/chat").replace("http://", "json://")
    rig.store.create_channel(rig.page.id, name="ops", kind="apprise", target=target,
                             now=rig.clock())
    for n in range(3):  # three separate incidents: nothing to merge
        rig.store.create_incident(rig.page.id, name=f"Trouble {n}",
                                  status=IncidentStatus.INVESTIGATING, body="Looking.",
                                  now=rig.clock())
    run(rig, channel_per_minute=2, channel_burst=1)
    assert len(hooks.bodies("/chat")) == 1  # the burst; the others wait their turn
    assert rig.store.delivery_counts(rig.page.id) == {"sent": 1, "pending": 2}
