"""Confirming and dismissing automatic incidents, and a page's detection settings,
through the admin API; what the public sees meanwhile."""

from __future__ import annotations

from signalfire.domain.status import ComponentStatus, IncidentStatus


def auto_incident(env, clock, *, published: bool):
    return env.store.create_incident(
        env.page_id, name="Problems with Feed", status=IncidentStatus.INVESTIGATING,
        body="We detected a problem with Feed.", now=clock(), auto_detected=True,
        components={env.feed: ComponentStatus.PARTIAL_OUTAGE}, published=published,
        onset_at=clock(), detected_at=clock(),
        detection={"statuses": {env.feed: "partial_outage"}, "components": [env.feed]})


def public_ids(env):
    return [i["id"] for i in env.anon.get("/api/v2/incidents.json").json()["incidents"]]


def feed_status(env):
    comps = env.anon.get("/api/v2/components.json").json()["components"]
    return {c["name"]: c["status"] for c in comps}["Feed"]


def test_a_held_back_incident_is_internal_until_confirmed(env, clock):
    i = auto_incident(env, clock, published=False)
    assert public_ids(env) == [] and feed_status(env) == "operational"
    assert env.anon.get(f"/incidents/{i.id}").status_code == 404
    inside = env.client.get(env.url(f"/incidents/{i.id}")).json()
    assert inside["published"] is False and inside["auto_detected"] is True
    assert inside["detected_at"] and inside["first_public_update_at"] is None

    clock.advance(minutes=3)
    r = env.client.post(env.url(f"/incidents/{i.id}/confirm"), json={"body": "On it."})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["auto_detected"] is False and doc["published"] is True
    assert doc["acknowledged_at"] == doc["first_public_update_at"] != doc["detected_at"]
    assert doc["incident_updates"][0]["body"] == "On it."
    assert public_ids(env) == [i.id] and feed_status(env) == "partial_outage"
    assert env.anon.get(f"/incidents/{i.id}").status_code == 200


def test_confirming_twice_or_a_persons_incident_is_a_conflict(env, clock):
    i = auto_incident(env, clock, published=True)
    assert env.client.post(env.url(f"/incidents/{i.id}/confirm")).status_code == 200
    r = env.client.post(env.url(f"/incidents/{i.id}/confirm"))
    assert r.status_code == 409 and "not waiting for confirmation" in r.json()["error"]
    r = env.client.post(env.url(f"/incidents/{i.id}/dismiss"))
    assert r.status_code == 409 and "resolved, not dismissed" in r.json()["error"]


def test_dismissing_keeps_a_labelled_false_alarm_hidden_from_the_public(env, clock):
    i = auto_incident(env, clock, published=True)
    assert public_ids(env) == [i.id] and feed_status(env) == "partial_outage"
    r = env.client.post(env.url(f"/incidents/{i.id}/dismiss"), json={"reason": "A load test."})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["dismissed_at"] and doc["published"] is False and doc["status"] == "resolved"
    assert doc["detection"]["dismissed_reason"] == "A load test."
    assert public_ids(env) == [] and feed_status(env) == "operational"
    assert env.anon.get(f"/incidents/{i.id}").status_code == 404
    # Kept for the operators, labelled.
    listed = env.client.get(env.url("/incidents")).json()
    assert [x["id"] for x in listed] == [i.id] and listed[0]["dismissed_at"]
    r = env.client.post(env.url(f"/incidents/{i.id}/dismiss"))
    assert r.status_code == 409 and "already dismissed" in r.json()["error"]
    r = env.client.post(env.url(f"/incidents/{i.id}/confirm"))
    assert r.status_code == 409 and "dismissed" in r.json()["error"]


def test_a_person_opened_incident_cannot_be_dismissed(env, clock):
    r = env.client.post(env.url("/incidents"), json={"name": "Feed down", "body": "Looking."})
    r = env.client.post(env.url(f"/incidents/{r.json()['id']}/dismiss"))
    assert r.status_code == 409
    assert "only an automatically detected incident" in r.json()["error"]


def test_unknown_incidents_and_maintenance_are_not_found(env, clock):
    assert env.client.post(env.url("/incidents/nosuch/confirm")).status_code == 404
    assert env.client.post(env.url("/incidents/nosuch/dismiss")).status_code == 404
    m = env.client.post(env.url("/maintenances"), json={
        "name": "Upgrade", "body": "Upgrading.", "scheduled_for": "2030-01-01T00:00:00Z",
        "scheduled_until": "2030-01-01T01:00:00Z"}).json()
    r = env.client.post(env.url(f"/incidents/{m['id']}/confirm"))
    assert r.status_code == 404 and r.json()["field"] == "incident_id"


def test_editing_an_automatic_incident_uses_the_usual_endpoints(env, clock):
    i = auto_incident(env, clock, published=True)
    r = env.client.patch(env.url(f"/incidents/{i.id}"), json={"name": "Feed is down"})
    assert r.json()["name"] == "Feed is down" and r.json()["auto_detected"] is True
    r = env.client.post(env.url(f"/incidents/{i.id}/updates"),
                        json={"status": "identified", "body": "A bad deploy."})
    assert r.status_code == 201 and r.json()["status"] == "identified"
    r = env.client.patch(env.url(f"/incidents/{i.id}"), json={"confirmed": True})
    assert r.json()["auto_detected"] is False and r.json()["acknowledged_at"]


def test_detection_settings_round_trip(env):
    r = env.client.get(env.url("/detection"))
    assert r.status_code == 200 and r.json()["enabled"] is False
    wanted = {"enabled": True, "detector": "counts", "threshold": 0.7, "publish": "confirm",
              "quiet_period_s": 600, "reopen_window_s": 1800, "min_count": 4,
              "history_days": 3, "regions": {"sa-east": ["BR"]},
              "categories": {"login": "Login"}}
    r = env.client.put(env.url("/detection"), json=wanted)
    assert r.status_code == 200, r.text
    assert env.client.get(env.url("/detection")).json() == {**wanted, "page_id": env.page_id}


def test_bad_detection_settings_name_the_field(env):
    r = env.client.put(env.url("/detection"), json={"threshold": 2})
    assert r.status_code == 422 and r.json()["field"] == "threshold"
    r = env.client.put(env.url("/detection"), json={"publish": "later"})
    assert r.status_code == 422 and r.json()["field"] == "publish"
    r = env.client.put(env.url("/detection"), json={"regions": {"sa-east": ["Brazil"]}})
    assert r.status_code == 422
    assert env.client.put("/api/v1/pages/nosuch/detection", json={}).status_code == 404


def test_the_server_detects_by_itself_and_the_public_sees_it_at_once(store, clock):
    import time
    from datetime import timedelta

    from starlette.testclient import TestClient

    from signalfire.domain.auto_incident import DetectionSettings
    from signalfire.domain.crowd import Report
    from signalfire.web.app import create_app

    page = store.put_page("app", name="App", now=clock())
    store.put_detection_settings(page.id, DetectionSettings(
        enabled=True, detector="no-such-detector", history_days=1).to_doc(), now=clock())
    start = clock() - timedelta(days=1)
    store.add_reports([Report(page_id=page.id, category="app", country="DE",
                              at=start + timedelta(minutes=m), reporter=f"q{m}")
                       for m in range(0, 24 * 60 - 5, 3)])
    store.add_reports([Report(page_id=page.id, category="app", country="DE",
                              at=clock() - timedelta(minutes=1 + n % 3, seconds=n % 50),
                              reporter=f"s{n}") for n in range(150)])
    app = create_app(store, base_url="http://status.test", clock=clock, background=False,
                     detection=True, detection_every_s=0.05)
    with TestClient(app, base_url="http://status.test") as anon:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            incidents = anon.get("/api/v2/incidents/unresolved.json").json()["incidents"]
            if incidents:
                break
            time.sleep(0.05)
        metrics = anon.get("/metrics").text
    assert [i["name"] for i in incidents] == ["Users report problems"]
    assert f'signalfire_detection_confidence{{page="{page.id}"}}' in metrics
    assert f'signalfire_detection_series{{page="{page.id}"}} 3.0' in metrics
    (incident,) = store.list_incidents(page.id)
    assert incident.auto_detected and incident.detected_at == clock()
