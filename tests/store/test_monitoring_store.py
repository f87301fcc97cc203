"""Monitors, observations and the quorum through the Store, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from signalfire.domain.probe import ConditionResult, MonitorKind, Observation
from signalfire.domain.status import ComponentStatus as C
from signalfire.domain.status import IncidentStatus
from signalfire.errors import AuthError, InputError


@pytest.fixture
def setup(any_store, clock):
    page = any_store.put_page("app", name="App", now=clock())
    comp = any_store.create_component(page.id, name="Feed", now=clock())
    mon = any_store.create_monitor(page.id, name="feed-http", kind=MonitorKind.HTTP,
                                   target="http://x/", component_id=comp.id,
                                   regions=["eu", "us", "ap"], failure_threshold=2,
                                   success_threshold=1, interval_s=30, now=clock())
    return any_store, page, comp, mon


def obs(mon, region, at, ok=True, **kw):
    return Observation(id=uuid.uuid4().hex, monitor_id=mon.id, region=region, at=at, ok=ok,
                       duration_ms=kw.pop("duration_ms", 20.0), **kw)


def test_monitor_round_trip(setup):
    store, page, _, mon = setup
    assert mon.regions == ("eu", "us", "ap") and mon.interval_s == 30
    assert store.list_monitors(region="eu") == [mon]
    assert store.list_monitors(region="mars") == []
    with pytest.raises(InputError):
        store.create_monitor(page.id, name="feed-http", kind=MonitorKind.TCP, now=mon_time(store))


def mon_time(store):
    from datetime import UTC, datetime
    return datetime.now(UTC)


def test_observations_are_stored_once_however_often_sent(setup, clock):
    store, _, _, mon = setup
    batch = [obs(mon, "eu", clock(), conditions=(ConditionResult("[STATUS] == 200", True, "200"),))]
    first = store.ingest(batch, received_at=clock())
    again = store.ingest(batch + batch, received_at=clock())
    assert (first.accepted, again.accepted, again.duplicates) == (1, 0, 2)
    (stored,) = store.recent_observations(mon.id)
    assert stored.conditions[0].actual == "200" and stored.received_at == clock()


def test_a_minority_down_is_partial_and_a_majority_is_major(setup, clock):
    store, _, comp, mon = setup
    t = clock()
    store.ingest([obs(mon, r, t) for r in ("eu", "us", "ap")], received_at=t)
    assert store.get_component(comp.id).status is C.OPERATIONAL
    for step in (1, 2):
        t2 = t + timedelta(seconds=30 * step)
        result = store.ingest([obs(mon, "eu", t2, ok=False, error="timeout"),
                               obs(mon, "us", t2), obs(mon, "ap", t2)], received_at=t2)
    assert store.get_component(comp.id).status is C.PARTIAL_OUTAGE
    assert result.component_changes[0].new is C.PARTIAL_OUTAGE
    assert "eu" in store.component_verdict(comp.id)[1]
    for step in (3, 4):
        t3 = t + timedelta(seconds=30 * step)
        store.ingest([obs(mon, r, t3, ok=False) for r in ("eu", "us")] + [obs(mon, "ap", t3)],
                     received_at=t3)
    assert store.get_component(comp.id).status is C.MAJOR_OUTAGE
    t4 = t + timedelta(seconds=150)
    store.ingest([obs(mon, r, t4) for r in ("eu", "us", "ap")], received_at=t4)
    assert store.get_component(comp.id).status is C.OPERATIONAL
    flips = [(f.region, f.up) for f in store.ingest([], received_at=t4).flips]
    assert flips == []


def test_state_survives_a_restart(setup, clock, tmp_path):
    store, _, _, mon = setup
    store.ingest([obs(mon, "eu", clock(), ok=False)], received_at=clock())
    (state,) = store.monitor_states(mon.id)
    assert state.consecutive_failures == 1 and state.up is None
    result = store.ingest([obs(mon, "eu", clock() + timedelta(seconds=30), ok=False)],
                          received_at=clock() + timedelta(seconds=31))
    assert [(f.region, f.up) for f in result.flips] == [("eu", False)]


def test_a_silent_region_stops_counting(setup, clock):
    store, _, comp, mon = setup
    t = clock()
    for step in range(2):
        at = t + timedelta(seconds=30 * step)
        store.ingest([obs(mon, "eu", at, ok=False), obs(mon, "us", at), obs(mon, "ap", at)],
                     received_at=at)
    assert store.get_component(comp.id).status is C.PARTIAL_OUTAGE
    # eu goes quiet; us and ap keep reporting fine: eu no longer counts at all.
    later = t + timedelta(minutes=10)
    store.ingest([obs(mon, "us", later), obs(mon, "ap", later)], received_at=later)
    assert store.get_component(comp.id).status is C.OPERATIONAL


def test_maintenance_is_never_overridden(setup, clock):
    store, page, comp, mon = setup
    store.create_maintenance(page.id, name="M", body="b", now=clock(), scheduled_for=clock(),
                             scheduled_until=clock() + timedelta(hours=1), component_ids=[comp.id])
    for step in range(3):
        at = clock() + timedelta(seconds=30 * step)
        store.ingest([obs(mon, r, at, ok=False) for r in ("eu", "us", "ap")], received_at=at)
    assert store.get_component(comp.id).status is C.UNDER_MAINTENANCE


def test_a_status_set_by_hand_stands_until_the_verdict_moves(setup, clock):
    store, page, comp, mon = setup
    store.ingest([obs(mon, r, clock()) for r in ("eu", "us", "ap")], received_at=clock())
    store.create_incident(page.id, name="x", status=IncidentStatus.INVESTIGATING, body="b",
                          now=clock(), components={comp.id: C.DEGRADED_PERFORMANCE})
    at = clock() + timedelta(seconds=30)
    store.ingest([obs(mon, r, at) for r in ("eu", "us", "ap")], received_at=at)
    assert store.get_component(comp.id).status is C.DEGRADED_PERFORMANCE


def test_agents_authenticate_until_revoked(any_store, clock):
    agent, secret = any_store.create_agent("eu-1", "eu-west", now=clock())
    assert any_store.authenticate_agent(secret, now=clock()).region == "eu-west"
    any_store.revoke_agent(agent.id, now=clock())
    with pytest.raises(AuthError, match="revoked"):
        any_store.authenticate_agent(secret, now=clock())
    with pytest.raises(AuthError):
        any_store.authenticate_agent("sfa_nope", now=clock())


def test_heartbeat_secrets(any_store, clock):
    page = any_store.put_page("app", name="App", now=clock())
    hb = any_store.create_monitor(page.id, name="cron", kind=MonitorKind.HEARTBEAT, now=clock())
    secret = any_store.set_heartbeat_secret(hb.id)
    assert any_store.monitor_by_heartbeat(secret).id == hb.id


def test_rollups_count_late_observations_in_their_own_minute(setup, clock):
    store, _, _, mon = setup
    t0 = clock()
    store.ingest([obs(mon, "eu", t0, duration_ms=10), obs(mon, "eu", t0 + timedelta(seconds=5),
                                                          ok=False)], received_at=t0)
    assert store.roll_up(t0 + timedelta(seconds=1)) == 2
    assert store.roll_up(t0 + timedelta(seconds=2)) == 0
    # An agent delivers, an hour late, a check made in that same minute.
    late = t0 + timedelta(hours=1)
    store.ingest([obs(mon, "eu", t0 + timedelta(seconds=10), duration_ms=30)], received_at=late)
    assert store.roll_up(late) == 1
    (minute,) = [b for b in store.buckets([mon.id], width_s=60, since=t0 - timedelta(minutes=1))]
    assert (minute.checks, minute.failures, minute.min_ms, minute.max_ms) == (3, 1, 10, 30)
    (day,) = store.buckets([mon.id], width_s=86400, since=t0 - timedelta(days=1))
    assert day.checks == 3
    assert store.prune_raw(before=late + timedelta(seconds=1)) == 3
    assert store.recent_observations(mon.id) == []


def test_an_agent_clock_running_ahead_does_not_pin_the_state_in_the_future(setup, clock):
    store, _, _, mon = setup
    ahead = clock() + timedelta(hours=2)
    store.ingest([obs(mon, "eu", ahead, ok=False)], received_at=clock())
    (state,) = store.monitor_states(mon.id)
    assert state.last_at == clock()
    (stored,) = store.recent_observations(mon.id)
    assert stored.at == ahead and stored.received_at == clock()  # both kept, as sent
    # Once the agent's clock is put right, its checks count again.
    later = clock() + timedelta(seconds=30)
    result = store.ingest([obs(mon, "eu", later, ok=False)], received_at=later)
    assert [(f.region, f.up) for f in result.flips] == [("eu", False)]


def test_a_restart_neither_forgets_nor_alerts_again(tmp_path, clock):
    from signalfire.store import open_store

    url = f"sqlite:///{tmp_path / 'restart.db'}"
    first = open_store(url)
    page = first.put_page("app", name="App", now=clock())
    mon = first.create_monitor(page.id, name="m", kind=MonitorKind.HTTP, target="http://x/",
                               regions=["eu"], failure_threshold=2, now=clock())
    flips = []
    for step in range(2):
        at = clock() + timedelta(seconds=30 * step)
        flips += first.ingest([obs(mon, "eu", at, ok=False)], received_at=at).flips
    assert [(f.region, f.up) for f in flips] == [("eu", False)]
    first.close()

    again = open_store(url)  # the server restarted
    at = clock() + timedelta(seconds=90)
    result = again.ingest([obs(mon, "eu", at, ok=False)], received_at=at)
    assert result.flips == []  # still down: nothing new to say
    (state,) = again.monitor_states(mon.id)
    assert state.up is False and state.consecutive_failures == 3
    again.close()
