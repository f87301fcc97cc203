"""The notification outbox through the Store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from signalfire.domain.events import Audience, EventKind
from signalfire.errors import InputError, NotFound


@pytest.fixture
def page(any_store, clock):
    p = any_store.put_page("app", name="App", now=clock())
    feed = any_store.create_component(p.id, name="Feed", now=clock())
    login = any_store.create_component(p.id, name="Login", now=clock())
    return p, feed.id, login.id


def test_an_email_needs_confirming_and_is_asked_once(any_store, clock, page):
    p, _, _ = page
    s = any_store.subscribe(p.id, kind="email", address="ana@example.com", now=clock())
    assert s.confirmed_at is None and s.component_ids is None
    assert any_store.fan_out(now=clock()) == 1
    (confirm,) = any_store.claim_deliveries("w1", now=clock())
    assert confirm.event_kind is EventKind.SUBSCRIPTION_CONFIRM
    assert confirm.address == "ana@example.com" and confirm.subscriber_id == s.id
    # Unconfirmed: incidents do not reach it.
    any_store.emit(p.id, EventKind.INCIDENT_CREATED, "inc1", now=clock())
    any_store.fan_out(now=clock())
    assert any_store.claim_deliveries("w1", now=clock()) == []
    any_store.confirm_subscriber(s.id, now=clock())
    any_store.emit(p.id, EventKind.INCIDENT_CREATED, "inc2", now=clock())
    any_store.fan_out(now=clock())
    (news,) = any_store.claim_deliveries("w1", now=clock())
    assert news.subject_id == "inc2"


def test_subscribers_hear_only_their_components(any_store, clock, page):
    p, feed, login = page
    every = any_store.subscribe(p.id, kind="webhook", address="https://a.example/hook",
                                now=clock(), confirmed=True)
    only_login = any_store.subscribe(p.id, kind="webhook", address="https://b.example/hook",
                                     now=clock(), confirmed=True, component_ids=[login])
    any_store.emit(p.id, EventKind.INCIDENT_CREATED, "feed-down", now=clock(),
                   component_ids=[feed])
    any_store.emit(p.id, EventKind.INCIDENT_CREATED, "all-down", now=clock())
    any_store.fan_out(now=clock())
    got = {(d.subscriber_id, d.subject_id) for d in any_store.claim_deliveries("w", now=clock())}
    assert got == {(every.id, "feed-down"), (every.id, "all-down"), (only_login.id, "all-down")}


def test_bad_subscriptions_name_the_field(any_store, clock, page):
    p, _, _ = page
    with pytest.raises(InputError) as bad:
        any_store.subscribe(p.id, kind="email", address="x@example.com", now=clock(),
                            component_ids=["nope"])
    assert bad.value.field == "components[0]"
    with pytest.raises(InputError):
        any_store.subscribe(p.id, kind="pigeon", address="x", now=clock())
    with pytest.raises(NotFound):
        any_store.unsubscribe("nobody")


def test_a_delivery_goes_to_one_dispatcher_and_comes_back_when_its_claim_lapses(
        any_store, clock, page):
    p, _, _ = page
    any_store.subscribe(p.id, kind="webhook", address="https://a.example/h", now=clock(),
                        confirmed=True)
    any_store.emit(p.id, EventKind.INCIDENT_CREATED, "i", now=clock())
    assert any_store.fan_out(now=clock()) == 1
    assert any_store.fan_out(now=clock()) == 0  # an event fans out once
    (first,) = any_store.claim_deliveries("a", now=clock(), lease_s=60)
    assert any_store.claim_deliveries("b", now=clock()) == []
    later = clock() + timedelta(seconds=61)  # "a" died without a word
    (again,) = any_store.claim_deliveries("b", now=later)
    assert again.id == first.id and again.attempts == 2
    any_store.finish_deliveries("a", now=later, sent=[first.id])  # too late: not a's any more
    assert any_store.delivery_counts(p.id) == {"pending": 1}
    any_store.finish_deliveries("b", now=later, sent=[again.id])
    assert any_store.delivery_counts(p.id) == {"sent": 1}


def test_a_permanent_failure_stops_the_subscriber_and_keeps_the_error(any_store, clock, page):
    p, _, _ = page
    s = any_store.subscribe(p.id, kind="webhook", address="https://gone.example/h",
                            now=clock(), confirmed=True)
    any_store.emit(p.id, EventKind.INCIDENT_CREATED, "i", now=clock())
    any_store.fan_out(now=clock())
    (d,) = any_store.claim_deliveries("w", now=clock())
    any_store.finish_deliveries("w", now=clock(), failed=[(d.id, "410 Gone", True)])
    gone = any_store.get_subscriber(s.id)
    assert gone.disabled_at is not None and gone.last_error == "410 Gone"
    assert [f.id for f in any_store.list_subscribers(p.id, failing=True)] == [s.id]
    any_store.emit(p.id, EventKind.INCIDENT_UPDATED, "i", now=clock())
    any_store.fan_out(now=clock())
    assert any_store.claim_deliveries("w", now=clock() + timedelta(hours=1)) == []


def test_quick_updates_are_merged_into_the_latest(any_store, clock, page):
    p, _, _ = page
    any_store.subscribe(p.id, kind="webhook", address="https://a.example/h", now=clock(),
                        confirmed=True)
    any_store.emit(p.id, EventKind.INCIDENT_CREATED, "i", now=clock())
    any_store.fan_out(now=clock(), hold_s=30)
    (opened,) = any_store.claim_deliveries("w", now=clock())  # the first word goes at once
    any_store.finish_deliveries("w", now=clock(), sent=[opened.id])
    for _ in range(3):
        any_store.emit(p.id, EventKind.INCIDENT_UPDATED, "i", now=clock())
    any_store.fan_out(now=clock(), hold_s=30)
    assert any_store.claim_deliveries("w", now=clock()) == []  # held for 30 s
    (latest,) = any_store.claim_deliveries("w", now=clock() + timedelta(seconds=31))
    assert latest.event_kind is EventKind.INCIDENT_UPDATED
    assert any_store.delivery_counts(p.id) == {"sent": 1, "merged": 2, "pending": 1}


def test_operator_channels_hear_operator_only_events(any_store, clock, page):
    p, _, _ = page
    ch = any_store.create_channel(p.id, name="ops", kind="apprise", target="json://localhost/x",
                                  now=clock())
    narrow = any_store.create_channel(p.id, name="resolved-only", kind="webhook",
                                      target="https://c.example/h", now=clock(),
                                      events=["incident.resolved"])
    any_store.subscribe(p.id, kind="webhook", address="https://a.example/h", now=clock(),
                        confirmed=True)
    any_store.emit(p.id, EventKind.INCIDENT_AUTO_DETECTED, "i", now=clock(),
                   audience=Audience.OPERATORS)
    any_store.fan_out(now=clock())
    (d,) = any_store.claim_deliveries("w", now=clock())
    assert d.channel_id == ch.id and d.address == "json://localhost/x"
    with pytest.raises(InputError) as bad:
        any_store.create_channel(p.id, name="x", kind="apprise", target="y", now=clock(),
                                 events=["incident.exploded"])
    assert bad.value.field == "events[0]"
    assert [c.name for c in any_store.list_channels(p.id)] == ["ops", "resolved-only"]
    assert narrow.events == ("incident.resolved",)


def test_a_claim_takes_no_more_than_its_limit(any_store, clock, page):
    p, _, _ = page
    for i in range(12):
        any_store.subscribe(p.id, kind="webhook", address=f"https://h.example/{i}", now=clock(),
                            confirmed=True)
    any_store.emit(p.id, EventKind.INCIDENT_CREATED, "i", now=clock())
    any_store.fan_out(now=clock())
    assert len(any_store.claim_deliveries("w", now=clock(), limit=5)) == 5
    assert len(any_store.claim_deliveries("w", now=clock(), limit=5)) == 5
    assert len(any_store.claim_deliveries("w", now=clock(), limit=5)) == 2
    assert any_store.claim_deliveries("w", now=clock(), limit=5, kind="email") == []
