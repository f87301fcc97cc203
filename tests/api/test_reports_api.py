"""Crowd reports through HTTP: the public single endpoint and collectors' batches."""

from __future__ import annotations

from datetime import timedelta

import pytest


@pytest.fixture
def crowd(env):
    env.store.set_report_categories(env.page_id, [("app", "App not loading"), ("login", "Login")])
    return env


def post(env, body, **headers):
    return env.anon.post("/api/v1/reports", json=body, headers=headers)


def totals(env, clock, by="category"):
    return env.store.report_totals(env.page_id, since=clock() - timedelta(hours=1),
                                   until=clock() + timedelta(hours=1), by=by)


def test_a_report_is_acknowledged_once_committed_and_counted_once(crowd, clock):
    r = post(crowd, {"page": "app", "category": "app", "country": "br"})
    assert r.status_code == 201 and r.json() == {"accepted": True, "counted": True}
    again = post(crowd, {"page": "app", "category": "login"})
    assert again.json() == {"accepted": True, "counted": False}  # same reporter, same window
    assert crowd.store.count_raw_reports(crowd.page_id) == 2
    assert totals(crowd, clock) == [("app", 1)]
    assert totals(crowd, clock, by="country") == [("BR", 1)]


def test_a_form_post_is_answered_with_a_redirect_to_the_page(crowd):
    r = crowd.anon.post("/api/v1/reports", data={"page": "app", "category": "app",
                                                 "website": ""}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].endswith("/is-it-down?reported=1")


def test_the_honeypot_looks_accepted_and_stores_nothing(crowd):
    r = post(crowd, {"page": "app", "category": "app", "website": "http://spam.example"})
    assert r.status_code == 201
    assert crowd.store.count_raw_reports(crowd.page_id) == 0


@pytest.mark.parametrize("body, status, field", [
    ({"category": "app"}, 422, "page"),
    ({"page": "nosuchpage", "category": "app"}, 422, "page"),
    ({"page": "app"}, 422, "category"),
    ({"page": "app", "category": "explosions"}, 422, "category"),
    ({"page": "app", "category": "app", "country": "XX"}, 422, "country"),
    ({"page": "app", "category": "app", "component": "Nope"}, 422, "component"),
    ({"page": "app", "category": "app", "colour": "red"}, 422, "colour"),
    ({"page": "app", "category": 7}, 422, "category"),
    (["not", "an", "object"], 422, "body"),
])
def test_bad_reports_get_a_4xx_naming_the_field_and_store_nothing(crowd, body, status, field):
    r = post(crowd, body)
    assert r.status_code == status, r.text
    assert r.json()["field"] == field
    assert crowd.store.count_raw_reports(crowd.page_id) == 0


def test_garbage_huge_and_unknown_bodies(crowd):
    garbage = crowd.anon.post("/api/v1/reports", content=b"{not json",
                              headers={"content-type": "application/json"})
    assert garbage.status_code == 422 and garbage.json()["field"] == "body"
    huge = crowd.anon.post("/api/v1/reports", content=b"x" * 100_000,
                           headers={"content-type": "application/json"})
    assert huge.status_code == 413
    odd = crowd.anon.post("/api/v1/reports", content=b"hello",
                          headers={"content-type": "text/plain"})
    assert odd.status_code == 415
    assert crowd.store.count_raw_reports(crowd.page_id) == 0


def test_a_flood_from_one_client_is_limited_and_others_still_get_through(crowd):
    statuses = [post(crowd, {"page": "app", "category": "app"}).status_code for _ in range(12)]
    assert statuses[:5] == [201] * 5 and statuses[-1] == 429
    limited = post(crowd, {"page": "app", "category": "app"})
    assert limited.headers["retry-after"] == "60"
    # Without trusted proxies, a forged X-Forwarded-For changes nothing.
    assert post(crowd, {"page": "app", "category": "app"},
                **{"X-Forwarded-For": "203.0.113.9"}).status_code == 429


def test_collectors_send_batches(crowd, clock):
    r = crowd.client.post("/api/v1/collectors", json={"name": "edge"})
    token = r.json()["token"]
    batch = {"reports": [{"page": "app", "category": "app", "country": "MX",
                          "reporter": f"install-{i % 3}"} for i in range(10)]}
    r = crowd.anon.post("/api/v1/reports/batch", json=batch,
                        headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json() == {"accepted": 10, "counted": 3}
    assert totals(crowd, clock, by="country") == [("MX", 3)]
    bad = {"reports": [*batch["reports"][:2], {"page": "app", "category": "nope",
                                               "reporter": "x"}]}
    r = crowd.anon.post("/api/v1/reports/batch", json=bad,
                        headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422 and r.json()["field"] == "reports.2.category"
    assert crowd.store.count_raw_reports(crowd.page_id) == 10  # nothing of the bad batch
    assert crowd.anon.post("/api/v1/reports/batch", json=batch).status_code == 401


def test_the_form_tells_the_counting_window_in_force(store, clock):
    from starlette.testclient import TestClient

    from signalfire.web.app import create_app

    page = store.put_page("app", name="App", now=clock())
    store.set_report_categories(page.id, [("app", "App not loading")])
    app = create_app(store, clock=clock, background=False, default_page="app",
                     report_window_s=15 * 60)
    with TestClient(app) as client:
        assert "counts every 15 minutes" in client.get("/is-it-down").text
