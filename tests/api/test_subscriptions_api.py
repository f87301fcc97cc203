"""Subscribing from the page, the links in messages, and the admin side of it."""

from __future__ import annotations

import pytest

from signalfire.domain.events import EventKind


def subscribe(env, **body):
    return env.anon.post("/api/v1/subscriptions", json={"page": "app", **body})


def test_subscribing_asks_for_confirmation_and_says_nothing_about_the_address(env, clock):
    r = subscribe(env, email="Ana@Example.com")
    assert r.status_code == 202 and r.json() == {"pending": True}
    (s,) = env.store.list_subscribers(env.page_id)
    assert s.address == "ana@example.com" and s.confirmed_at is None
    assert env.store.pending_events() == 1  # the confirmation message, in the outbox
    again = subscribe(env, email="ana@example.com")
    assert again.status_code == 202 and again.json() == r.json()


def test_a_form_post_lands_on_the_check_your_inbox_page(env):
    r = env.anon.post("/api/v1/subscriptions", data={"page": "app", "email": "bo@example.com",
                                                     "component": [env.feed], "website": ""},
                      follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/subscriptions/pending?page=app"
    (s,) = env.store.list_subscribers(env.page_id)
    assert s.component_ids == (env.feed,)
    page = env.anon.get(r.headers["location"])
    assert page.status_code == 200 and "Check your inbox" in page.text


@pytest.mark.parametrize("body, field", [
    ({"email": "not-an-address"}, "email"),
    ({}, "email"),
    ({"email": "a@example.com", "components": ["nope"]}, "components[0]"),
    ({"email": "a@example.com", "components": "feed"}, "components"),
    ({"email": "a@example.com", "colour": "red"}, "colour"),
    ({"page": "nope", "email": "a@example.com"}, "page"),
])
def test_bad_subscriptions_get_a_4xx_naming_the_field(env, body, field):
    r = env.anon.post("/api/v1/subscriptions", json={"page": "app", **body})
    assert 400 <= r.status_code < 500 and r.json()["field"] == field
    assert env.store.list_subscribers(env.page_id) == []


def test_the_honeypot_looks_accepted_and_stores_nothing(env):
    assert subscribe(env, email="bot@example.com", website="x").status_code == 202
    assert env.store.list_subscribers(env.page_id) == []


def test_a_flood_of_subscriptions_from_one_client_is_limited(env):
    codes = [subscribe(env, email=f"u{i}@example.com").status_code for i in range(6)]
    assert codes[:3] == [202] * 3 and codes[-1] == 429


def test_links_confirm_manage_and_unsubscribe(env, clock):
    subscribe(env, email="cy@example.com")
    (s,) = env.store.list_subscribers(env.page_id)
    token = _token(env, s.id)
    r = env.anon.get(f"/subscriptions/confirm?token={token}")
    assert r.status_code == 200 and "You are subscribed" in r.text
    assert env.store.get_subscriber(s.id).confirmed_at is not None

    r = env.anon.post(f"/subscriptions/manage?token={token}",
                      data={"scope": "some", "component": [env.login]})
    assert r.status_code == 200 and "Saved." in r.text
    assert env.store.get_subscriber(s.id).component_ids == (env.login,)

    assert "Unsubscribe?" in env.anon.get(f"/subscriptions/unsubscribe?token={token}").text
    assert env.store.list_subscribers(env.page_id)  # a GET changes nothing
    one_click = env.anon.post(f"/subscriptions/unsubscribe?token={token}",
                              content=b"List-Unsubscribe=One-Click",
                              headers={"content-type": "application/x-www-form-urlencoded"})
    assert one_click.status_code == 200
    assert env.store.list_subscribers(env.page_id) == []
    # A second click (or a mail client retrying) is still a success.
    assert env.anon.post(f"/subscriptions/unsubscribe?token={token}").status_code == 200


def test_a_forged_link_is_refused(env):
    subscribe(env, email="dee@example.com")
    (s,) = env.store.list_subscribers(env.page_id)
    r = env.anon.get(f"/subscriptions/confirm?token={s.id}.0000")
    assert r.status_code == 404 and r.json()["field"] == "token"
    assert env.store.get_subscriber(s.id).confirmed_at is None


def test_admins_add_webhooks_and_channels_and_see_failures(env):
    r = env.client.post(env.url("/subscribers"), json={
        "kind": "webhook", "address": "https://hooks.example.com/secret-path/abc"})
    assert r.status_code == 201
    hook = r.json()
    assert hook["secret"].startswith("whsec_")
    assert hook["address"] == "https://hooks.example.com/***"  # the path may be a secret
    listed = env.client.get(env.url("/subscribers")).json()
    assert [s["secret"] for s in listed] == [None]  # shown once only

    bad = env.client.post(env.url("/subscribers"), json={"kind": "webhook", "address": "ftp://x"})
    assert bad.status_code == 422 and bad.json()["field"] == "address"

    ch = env.client.post(env.url("/channels"), json={
        "name": "ops chat", "kind": "apprise", "target": "slack://TokenA/TokenB/TokenC",
        "events": [EventKind.INCIDENT_AUTO_DETECTED.value]})
    assert ch.status_code == 201
    assert "TokenB" not in ch.text and ch.json()["events"] == ["incident.auto_detected"]
    unknown = env.client.post(env.url("/channels"), json={
        "name": "x", "kind": "apprise", "target": "nosuchservice://abc"})
    assert unknown.status_code == 422 and unknown.json()["field"] == "target"

    d = env.client.get(env.url("/deliveries")).json()
    assert d["subscribers"] == 1 and d["failing_subscribers"] == []
    assert env.client.delete(f"/api/v1/subscribers/{hook['id']}").status_code == 204
    assert env.client.delete(f"/api/v1/channels/{ch.json()['id']}").status_code == 204
    assert env.anon.get(env.url("/subscribers")).status_code == 401


def _token(env, sid):
    from signalfire.notify.messages import LinkTokens

    return LinkTokens(env.store.instance_secret("subscriber-links")).token(sid)


def test_without_an_smtp_server_there_is_no_form_and_no_subscribing(store, clock):
    from starlette.testclient import TestClient

    from signalfire.web.app import create_app

    store.put_page("app", name="App", now=clock())
    app = create_app(store, clock=clock, background=False, default_page="app")
    with TestClient(app) as client:
        assert 'id="subscribe"' not in client.get("/").text
        r = client.post("/api/v1/subscriptions", json={"page": "app", "email": "a@example.com"})
        assert r.status_code == 422 and r.json()["field"] == "email"
        assert "SMTP" in r.json()["error"]
