"""Monitors, agents and heartbeats through the HTTP API."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest


def _monitor(env, **over):
    body = {"name": "feed-http", "kind": "http", "target": "http://127.0.0.1:9/feed",
            "component_id": env.feed, "regions": ["eu", "us"], "interval_s": 30,
            "conditions": ["[STATUS] == 200"], "failure_threshold": 1, "success_threshold": 1}
    body.update(over)
    return env.client.post(env.url("/monitors"), json=body)


def test_monitor_crud(env):
    r = _monitor(env)
    assert r.status_code == 201, r.text
    m = r.json()
    assert m["regions"] == ["eu", "us"] and m["conditions"] == ["[STATUS] == 200"]
    r = env.client.patch(env.url(f"/monitors/{m['id']}"), json={"interval_s": 60})
    assert r.json()["interval_s"] == 60
    assert [x["name"] for x in env.client.get(env.url("/monitors")).json()] == ["feed-http"]
    assert env.client.delete(env.url(f"/monitors/{m['id']}")).status_code == 204
    assert env.client.get(env.url(f"/monitors/{m['id']}")).status_code == 404


@pytest.mark.parametrize("over, field, words", [
    ({"conditions": ["[STAUTS] == 200"]}, "conditions", "did you mean [STATUS]"),
    ({"options": {"methd": "GET"}}, "options", "unknown option"),
    ({"kind": "smoke-signal"}, "kind", ""),
    ({"target": "not a url"}, "target", ""),
    ({"regions": []}, "regions", ""),
    ({"interval_s": 0}, "interval_s", ""),
])
def test_bad_monitors_are_refused_with_the_field_named(env, over, field, words):
    r = _monitor(env, **over)
    assert r.status_code == 422, r.text
    assert r.json()["field"].startswith(field), r.json()
    assert words in r.json()["error"]
    assert env.store.list_monitors() == []


def _agent(env, region="eu"):
    r = env.client.post("/api/v1/agents", json={"name": f"agent-{region}", "region": region})
    assert r.status_code == 201
    return r.json()


def _obs(monitor_id, at, ok=True, **kw):
    return {"id": uuid.uuid4().hex, "monitor_id": monitor_id, "at": at.isoformat(), "ok": ok,
            "duration_ms": 12.5, **kw}


def test_agents_pull_their_region_and_push_observations_once(env, clock):
    m = _monitor(env).json()
    _monitor(env, name="us-only", regions=["us"])
    agent = _agent(env, "eu")
    headers = {"Authorization": f"Bearer {agent['token']}"}
    pulled = env.anon.get("/api/v1/agent/monitors", headers=headers).json()
    assert pulled["region"] == "eu" and [x["name"] for x in pulled["monitors"]] == ["feed-http"]
    batch = {"observations": [_obs(m["id"], clock() - timedelta(seconds=10), ok=False,
                                   error="timeout")]}
    first = env.anon.post("/api/v1/agent/observations", json=batch, headers=headers).json()
    again = env.anon.post("/api/v1/agent/observations", json=batch, headers=headers).json()
    assert (first["accepted"], again["accepted"], again["duplicates"]) == (1, 0, 1)
    (o,) = env.client.get(env.url(f"/monitors/{m['id']}/observations")).json()
    # The region is the agent's; the server keeps its own time of receipt beside the agent's.
    assert o["region"] == "eu" and o["error"] == "timeout"
    assert o["received_at"] != o["at"]
    comps = {c["name"]: c["status"] for c in env.anon.get("/api/v2/components.json").json()[
        "components"]}
    assert comps["Feed"] == "major_outage"  # the only reporting region is down


def test_a_revoked_agent_is_refused(env):
    agent = _agent(env)
    headers = {"Authorization": f"Bearer {agent['token']}"}
    assert env.anon.get("/api/v1/agent/monitors", headers=headers).status_code == 200
    env.client.delete(f"/api/v1/agents/{agent['id']}")
    r = env.anon.get("/api/v1/agent/monitors", headers=headers)
    assert r.status_code == 401 and "revoked" in r.json()["error"]
    # An admin token is not an agent token, nor the other way round.
    assert env.client.get("/api/v1/agent/monitors").status_code == 401
    assert env.anon.get("/api/v1/agents", headers=headers).status_code == 401


def test_bad_observation_batches_are_refused_whole(env, clock):
    m = _monitor(env).json()
    headers = {"Authorization": f"Bearer {_agent(env)['token']}"}
    good = _obs(m["id"], clock())
    naive = {**_obs(m["id"], clock()), "at": "2026-06-01T12:00:00"}
    r = env.anon.post("/api/v1/agent/observations", json={"observations": [good, naive]},
                      headers=headers)
    assert r.status_code == 422 and r.json()["field"] == "observations.1.at"
    assert env.client.get(env.url(f"/monitors/{m['id']}/observations")).json() == []


def test_heartbeats(env, clock):
    r = env.client.post(env.url("/monitors"), json={
        "name": "nightly-backup", "kind": "heartbeat", "interval_s": 3600,
        "options": {"grace_s": 600}})
    assert r.status_code == 201, r.text
    url = r.json()["heartbeat_url"]
    path = url.removeprefix("http://status.test")
    ping = env.anon.post(path)
    assert ping.status_code == 200 and ping.json() == {"ok": True, "monitor": "nightly-backup"}
    assert env.store.last_ping_at(r.json()["id"]) == clock()
    assert env.anon.get("/api/v1/heartbeat/not-a-real-secret").status_code == 404


def test_metrics(env, clock):
    m = _monitor(env).json()
    headers = {"Authorization": f"Bearer {_agent(env)['token']}"}
    env.anon.post("/api/v1/agent/observations", headers=headers,
                  json={"observations": [_obs(m["id"], clock())]})
    text = env.anon.get("/metrics").text
    assert 'signalfire_monitor_up{monitor="feed-http",page="' in text
    assert 'signalfire_checks_total{kind="http",region="eu",result="ok"} 1.0' in text
    assert "signalfire_check_duration_seconds_bucket" in text
