"""The admin API end to end: writes through /api/v1, reads through the public side."""

from __future__ import annotations

from datetime import timedelta

import pytest


def test_it_refuses_requests_without_a_token(env):
    r = env.anon.get(env.url("/components"))
    assert r.status_code == 401
    assert r.json()["field"] == "Authorization"
    assert r.headers["www-authenticate"] == "Bearer"


def test_it_refuses_a_wrong_token(env):
    r = env.anon.get(env.url("/components"), headers={"Authorization": "Bearer sf_nope"})
    assert r.status_code == 401
    assert "not valid" in r.json()["error"]


def test_component_crud(env):
    r = env.client.post(env.url("/components"), json={"name": "Live", "group_id": env.group})
    assert r.status_code == 201, r.text
    live = r.json()
    assert live["status"] == "operational" and live["group_id"] == env.group
    r = env.client.patch(env.url(f"/components/{live['id']}"), json={"status": "partial_outage"})
    assert r.json()["status"] == "partial_outage"
    assert env.client.get(env.url(f"/components/{live['id']}")).json()["status"] == "partial_outage"
    assert env.client.delete(env.url(f"/components/{live['id']}")).status_code == 204
    assert env.client.get(env.url(f"/components/{live['id']}")).status_code == 404


def test_a_component_write_shows_on_the_public_side_at_once(env):
    before = env.anon.get("/api/v2/components.json").json()
    assert {c["name"]: c["status"] for c in before["components"]}["Feed"] == "operational"
    env.client.patch(env.url(f"/components/{env.feed}"), json={"status": "major_outage"})
    after = env.anon.get("/api/v2/components.json").json()
    assert {c["name"]: c["status"] for c in after["components"]}["Feed"] == "major_outage"
    status = env.anon.get("/api/v2/status.json").json()["status"]
    assert status == {"indicator": "critical", "description": "Major Service Outage"}


def test_incident_lifecycle(env):
    r = env.client.post(env.url("/incidents"), json={
        "name": "Feed is down", "status": "investigating", "body": "We are **looking**.",
        "components": {env.feed: "major_outage"}})
    assert r.status_code == 201, r.text
    inc = r.json()
    assert inc["impact"] == "critical" and inc["auto_detected"] is False
    assert inc["shortlink"] == f"http://status.test/incidents/{inc['id']}"
    unresolved = env.anon.get("/api/v2/incidents/unresolved.json").json()["incidents"]
    assert [i["id"] for i in unresolved] == [inc["id"]]

    r = env.client.post(env.url(f"/incidents/{inc['id']}/updates"),
                        json={"status": "resolved", "body": "Fixed."})
    assert r.status_code == 201
    resolved = r.json()
    assert resolved["status"] == "resolved" and resolved["resolved_at"]
    assert [u["status"] for u in resolved["incident_updates"]] == ["resolved", "investigating"]
    assert env.anon.get("/api/v2/incidents/unresolved.json").json()["incidents"] == []
    comps = env.anon.get("/api/v2/summary.json").json()["components"]
    assert {c["name"]: c["status"] for c in comps}["Feed"] == "operational"


def test_confirming_an_auto_detected_incident(env, clock):
    from signalfire.domain.status import IncidentStatus

    i = env.store.create_incident(env.page_id, name="Spike in reports", body="auto",
                                  status=IncidentStatus.INVESTIGATING, now=clock(),
                                  auto_detected=True)
    assert env.client.get(env.url(f"/incidents/{i.id}")).json()["auto_detected"] is True
    r = env.client.patch(env.url(f"/incidents/{i.id}"), json={"confirmed": True})
    assert r.json()["auto_detected"] is False


def test_maintenance_lifecycle(env, clock):
    start = clock() + timedelta(hours=2)
    r = env.client.post(env.url("/maintenances"), json={
        "name": "DB upgrade", "body": "Planned.", "components": [env.login],
        "scheduled_for": start.isoformat(), "scheduled_until": (start + timedelta(hours=1)).isoformat()})
    assert r.status_code == 201, r.text
    m = r.json()
    assert m["status"] == "scheduled" and m["impact"] == "maintenance"
    upcoming = env.anon.get("/api/v2/scheduled-maintenances/upcoming.json").json()
    assert [x["id"] for x in upcoming["scheduled_maintenances"]] == [m["id"]]
    assert upcoming["scheduled_maintenances"][0]["scheduled_for"].startswith(start.strftime("%Y-%m-%dT%H:%M"))
    r = env.client.post(env.url(f"/maintenances/{m['id']}/updates"),
                        json={"status": "in_progress", "body": "Started early."})
    assert r.json()["status"] == "in_progress"
    active = env.anon.get("/api/v2/scheduled-maintenances/active.json").json()
    assert [x["id"] for x in active["scheduled_maintenances"]] == [m["id"]]
    comps = env.anon.get("/api/v2/components.json").json()["components"]
    assert {c["name"]: c["status"] for c in comps}["Login"] == "under_maintenance"
    assert env.anon.get("/api/v2/status.json").json()["status"]["indicator"] == "maintenance"


@pytest.mark.parametrize("body, field", [
    ({"name": "X", "status": "exploded", "body": "b"}, "status"),
    ({"name": "X", "body": "b", "impact": "apocalyptic"}, "impact"),
    ({"name": "X", "body": "b", "components": {"nosuchcomp": "major_outage"}}, "components.nosuchcomp"),
    ({"name": "X", "body": "b", "colour": "red"}, "colour"),
    ({"body": "b"}, "name"),
    ({"name": "X", "body": "b", "components": {"abc": "melted"}}, "components.abc"),
])
def test_bad_incidents_get_a_4xx_naming_the_field_and_write_nothing(env, body, field):
    r = env.client.post(env.url("/incidents"), json=body)
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["field"] == field, r.json()
    assert env.store.list_incidents(env.page_id) == []


def test_malformed_json_is_a_422_naming_the_body(env):
    r = env.client.post(env.url("/incidents"), content=b'{"name": "x",',
                        headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["field"] == "body"
    assert "JSON" in r.json()["error"]


def test_an_oversize_body_is_a_413(env):
    r = env.client.post(env.url("/incidents"), json={"name": "x", "body": "a" * 100_000})
    assert r.status_code == 413
    assert env.store.list_incidents(env.page_id) == []


def test_unknown_ids_are_404s_naming_the_id(env):
    r = env.client.post(env.url("/incidents/nosuchincident/updates"),
                        json={"status": "resolved", "body": "x"})
    assert r.status_code == 404 and "nosuchincident" in r.json()["error"]
    assert env.client.get("/api/v1/pages/nosuchpage/components").status_code == 404


def test_a_forbidden_transition_is_a_409(env):
    r = env.client.post(env.url("/incidents"), json={"name": "X", "status": "resolved", "body": "b"})
    iid = r.json()["id"]
    r = env.client.post(env.url(f"/incidents/{iid}/updates"), json={"status": "scheduled", "body": "b"})
    assert r.status_code == 422 and r.json()["field"] == "status"
    env.client.post(env.url(f"/incidents/{iid}/updates"), json={"status": "postmortem", "body": "pm"})
    r = env.client.post(env.url(f"/incidents/{iid}/updates"), json={"status": "identified", "body": "b"})
    assert r.status_code == 409 and r.json()["field"] == "status"


def test_maintenance_must_end_after_it_starts(env, clock):
    t = clock().isoformat()
    r = env.client.post(env.url("/maintenances"), json={
        "name": "M", "body": "b", "scheduled_for": t, "scheduled_until": t})
    assert r.status_code == 422 and r.json()["field"] == "scheduled_until"


def test_naive_datetimes_are_refused(env):
    r = env.client.post(env.url("/maintenances"), json={
        "name": "M", "body": "b", "scheduled_for": "2026-06-01T10:00:00",
        "scheduled_until": "2026-06-01T11:00:00"})
    assert r.status_code == 422 and r.json()["field"] == "scheduled_for"


def test_markdown_in_updates_is_sanitised_on_the_incident_page(env):
    r = env.client.post(env.url("/incidents"), json={
        "name": "X", "body": "Hello <script>alert(1)</script> **bold** [x](javascript:alert(2))"})
    page = env.anon.get(f"/incidents/{r.json()['id']}").text
    assert "<strong>bold</strong>" in page
    assert "&lt;script&gt;alert(1)" in page  # shown as text, never run
    assert "<script>alert(1)" not in page and 'href="javascript' not in page


def test_openapi_is_served(env):
    spec = env.anon.get("/api/openapi.json").json()
    assert "/api/v1/pages/{page_id}/incidents" in spec["paths"]
    assert "/api/v2/summary.json" in spec["paths"]
    assert env.anon.get("/api/docs").status_code == 200


def test_the_contract_holds_on_postgresql_too(pg_env):
    """The main write path once more, on whichever store the parameter gives."""
    r = pg_env.client.post(pg_env.url("/incidents"), json={
        "name": "Login broken", "body": "b", "components": {pg_env.login: "partial_outage"}})
    assert r.status_code == 201
    summary = pg_env.anon.get("/api/v2/summary.json").json()
    assert [i["name"] for i in summary["incidents"]] == ["Login broken"]
    assert summary["status"]["indicator"] == "major"
