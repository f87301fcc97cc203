"""The public v2 documents have Statuspage's exact field names, enums and nesting."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import feedparser

PAGE_KEYS = {"id", "name", "url", "time_zone", "updated_at"}
COMPONENT_KEYS = {"id", "name", "status", "created_at", "updated_at", "position", "description",
                  "showcase", "start_date", "group_id", "page_id", "group",
                  "only_show_if_degraded"}
INCIDENT_KEYS = {"id", "name", "status", "created_at", "updated_at", "monitoring_at",
                 "resolved_at", "impact", "shortlink", "started_at", "page_id",
                 "incident_updates", "components"}
UPDATE_KEYS = {"id", "status", "body", "incident_id", "created_at", "updated_at", "display_at",
               "affected_components", "deliver_notifications", "custom_tweet", "tweet_id"}
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _seed(env, clock):
    r = env.client.post(env.url("/incidents"), json={
        "name": "Feed slow", "body": "Looking", "components": {env.feed: "degraded_performance"}})
    start = clock() + timedelta(days=1)
    env.client.post(env.url("/maintenances"), json={
        "name": "Upgrade", "body": "Planned", "components": [env.login],
        "scheduled_for": start.isoformat(), "scheduled_until": (start + timedelta(hours=1)).isoformat()})
    return r.json()["id"]


def test_summary_has_statuspage_shape(env, clock):
    incident_id = _seed(env, clock)
    doc = env.anon.get("/api/v2/summary.json").json()
    assert set(doc) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    assert set(doc["page"]) == PAGE_KEYS
    assert TIME.match(doc["page"]["updated_at"])
    group, feed, login = doc["components"]
    assert set(group) == COMPONENT_KEYS | {"components"}
    assert group["group"] is True and group["components"] == [feed["id"]]
    assert group["status"] == "degraded_performance"  # the worst of its members
    assert set(feed) == COMPONENT_KEYS and feed["group_id"] == group["id"]
    assert login["group_id"] is None
    (incident,) = doc["incidents"]
    assert set(incident) == INCIDENT_KEYS and incident["id"] == incident_id
    assert incident["impact"] == "minor" and incident["status"] == "investigating"
    (update,) = incident["incident_updates"]
    assert set(update) == UPDATE_KEYS
    assert update["affected_components"] == [{"code": env.feed, "name": "Feed",
                                              "old_status": "operational",
                                              "new_status": "degraded_performance"}]
    (maintenance,) = doc["scheduled_maintenances"]
    assert set(maintenance) == INCIDENT_KEYS | {"scheduled_for", "scheduled_until"}
    assert maintenance["status"] == "scheduled" and maintenance["impact"] == "maintenance"
    assert doc["status"] == {"indicator": "minor", "description": "Minor Service Outage"}


def test_each_document_has_its_top_level_keys(env, clock):
    _seed(env, clock)
    expected = {
        "/api/v2/status.json": {"page", "status"},
        "/api/v2/components.json": {"page", "components"},
        "/api/v2/incidents.json": {"page", "incidents"},
        "/api/v2/incidents/unresolved.json": {"page", "incidents"},
        "/api/v2/scheduled-maintenances.json": {"page", "scheduled_maintenances"},
        "/api/v2/scheduled-maintenances/upcoming.json": {"page", "scheduled_maintenances"},
        "/api/v2/scheduled-maintenances/active.json": {"page", "scheduled_maintenances"},
    }
    for path, keys in expected.items():
        r = env.anon.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        assert set(r.json()) == keys, path
    assert env.anon.get("/api/v2/scheduled-maintenances/active.json").json()[
        "scheduled_maintenances"] == []


def test_feeds_read_with_feedparser(env, clock):
    incident_id = _seed(env, clock)
    for path in ("/history.atom", "/history.rss"):
        feed = feedparser.parse(env.anon.get(path).content)
        assert not feed.bozo, feed.bozo_exception
        titles = [e.title for e in feed.entries]
        assert set(titles) == {"Feed slow", "Upgrade"}
        entry = next(e for e in feed.entries if e.title == "Feed slow")
        assert entry.link == f"http://status.test/incidents/{incident_id}"
        body = entry.content[0].value if "content" in entry else entry.description
        assert "Looking" in body


def test_the_badge_is_svg_that_follows_the_status(env, clock):
    ok = env.anon.get("/badge.svg")
    assert ok.headers["content-type"].startswith("image/svg+xml")
    assert ET.fromstring(ok.content).tag.endswith("svg")
    _seed(env, clock)
    degraded = env.anon.get("/badge.svg")
    assert degraded.content != ok.content


def test_component_badges(env, clock):
    import uuid

    from signalfire.domain.probe import MonitorKind, Observation

    clock.advance(hours=1)
    up = env.anon.get(f"/badges/{env.feed}/uptime.svg")
    assert up.status_code == 200 and b"100.00%" in up.content  # from the status history
    assert b"no data" in env.anon.get(f"/badges/{env.feed}/response-time.svg").content
    mon = env.store.create_monitor(env.page_id, name="feed", kind=MonitorKind.HTTP,
                                   target="http://x/", component_id=env.feed, now=clock())
    env.store.ingest([Observation(id=uuid.uuid4().hex, monitor_id=mon.id, region="local",
                                  at=clock(), ok=i % 4 != 0, duration_ms=120.0)
                      for i in range(8)], received_at=clock())
    env.store.roll_up(clock())
    env.client.patch(env.url(f"/components/{env.feed}"), json={"description": "x"})  # re-render
    assert b"75.00%" in env.anon.get(f"/badges/{env.feed}/uptime.svg").content
    assert b" ms" in env.anon.get(f"/badges/{env.feed}/response-time.svg").content
    assert env.anon.get("/badges/nosuchcomponent/uptime.svg").status_code == 404
