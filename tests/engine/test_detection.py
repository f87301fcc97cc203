"""The detection pipeline end to end on SQLite, with an injected clock: report
counts and probe results in, automatic incidents out."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

import pytest

from signalfire.domain.auto_incident import DetectionSettings, PublishMode
from signalfire.domain.crowd import Report
from signalfire.domain.probe import MonitorKind, Observation
from signalfire.domain.signals import RatioDetector
from signalfire.domain.status import ComponentStatus, IncidentStatus
from signalfire.engine.detection import DetectionEngine

_reporter = itertools.count()


def settings(**kw) -> dict:
    base = {"enabled": True, "threshold": 0.6, "quiet_period_s": 15 * 60,
            "reopen_window_s": 60 * 60, "min_count": 5, "history_days": 1,
            "regions": {"sa-east": ["BR", "AR"], "eu-west": ["DE"]}}
    return DetectionSettings.from_doc({**base, **kw}).to_doc()


class World:
    def __init__(self, store, clock, **kw):
        self.store, self.clock = store, clock
        self.page = store.put_page("app", name="App", now=clock())
        self.feed = store.create_component(self.page.id, name="Feed", now=clock())
        self.login = store.create_component(self.page.id, name="Login", now=clock())
        store.put_detection_settings(self.page.id, settings(**kw), now=clock())
        self.changed = []
        self.engine = self.new_engine()

    def new_engine(self):
        return DetectionEngine(self.store, clock=self.clock,
                               detector_factory=lambda name: RatioDetector(),
                               on_incident=self.changed.append)

    def report(self, n, *, country="DE", category="not-loading", at=None):
        at = at or self.clock()
        self.store.add_reports([
            Report(page_id=self.page.id, category=category, country=country,
                   at=at + timedelta(seconds=i % 50), reporter=f"r{next(_reporter)}")
            for i in range(n)])

    def history(self, minutes=24 * 60):
        """A quiet day: one report every other minute."""
        start = self.clock() - timedelta(minutes=minutes)
        batch = [Report(page_id=self.page.id, category="not-loading", country="DE",
                        at=start + timedelta(minutes=m), reporter=f"h{next(_reporter)}")
                 for m in range(0, minutes, 2)]
        self.store.add_reports(batch)

    def minute(self, reports=0, **kw):
        """Reports during the current minute, then the clock moves on and detection ticks."""
        if reports:
            self.report(reports, **kw)
        self.clock.advance(minutes=1)
        return self.engine.tick()[self.page.id]

    def incidents(self):
        return self.store.list_incidents(self.page.id)


@pytest.fixture
def world(store, clock):
    w = World(store, clock)
    w.history()
    w.engine.tick()
    return w


def test_a_surge_of_reports_opens_an_automatic_incident(world, clock):
    assert world.incidents() == []
    outage_start = clock()
    world.minute(40)
    world.minute(60)
    (incident,) = world.incidents()
    assert incident.auto_detected and incident.published and incident.is_public
    assert incident.status is IncidentStatus.INVESTIGATING
    assert incident.detected_at == clock() and incident.first_public_update_at == clock()
    assert incident.onset_at == outage_start  # the first unusual minute, not the alarm
    assert incident.acknowledged_at is None
    doc = incident.detection
    assert doc["signal"]["sources"] == ["reports"]
    assert "DE" in doc["countries"] and "eu-west" in doc["regions"]
    assert "reports overall" in incident.updates[-1].body
    assert world.changed and world.changed[-1].id == incident.id


def test_it_resolves_after_the_quiet_period_and_a_retrigger_reopens_it(world, clock):
    world.minute(40)
    world.minute(60)
    (incident,) = world.incidents()
    for _ in range(14):
        world.minute(1)
    assert world.store.get_incident(incident.id).is_open
    for _ in range(4):
        world.minute(1)
    resolved = world.store.get_incident(incident.id)
    assert resolved.status is IncidentStatus.RESOLVED
    assert resolved.updates[0].body.startswith("No sign of the problem for 15 minutes")
    # Back within the reopen window: the same incident, not a new one.
    world.minute(50)
    world.minute(80)
    (again,) = world.incidents()
    assert again.id == incident.id and again.status is IncidentStatus.INVESTIGATING
    assert again.updates[0].body.startswith("The problem is back")


def test_a_restart_neither_forgets_nor_alerts_again(world, clock):
    world.minute(40)
    world.minute(60)
    (incident,) = world.incidents()
    world.engine = world.new_engine()  # warm up again from the stored counts
    world.minute(70)
    world.minute(70)
    assert [i.id for i in world.incidents()] == [incident.id]
    assert world.store.get_incident(incident.id).is_open


def test_a_few_reports_on_a_quiet_page_page_nobody(world):
    for _ in range(5):
        world.minute(4)  # four times the usual, but under the floor of 5
    assert world.incidents() == []


def _fail(world, region, *, ok=False):
    world.store.ingest([Observation(id=uuid.uuid4().hex, monitor_id=world.monitor.id,
                                    region=region, at=world.clock(), ok=ok, duration_ms=5.0)],
                       received_at=world.clock())


@pytest.fixture
def probed(world, clock):
    world.monitor = world.store.create_monitor(
        world.page.id, name="feed-http", kind=MonitorKind.HTTP, component_id=world.feed.id,
        target="http://example.invalid/", interval_s=10, timeout_s=2,
        regions=["sa-east", "eu-west", "us-east"], failure_threshold=1, success_threshold=1,
        now=clock())
    for region in ("sa-east", "eu-west", "us-east"):
        _fail(world, region, ok=True)
    return world


def _probe(world, *down):
    """One round of checks from every region; the regions in ``down`` fail."""
    for region in ("sa-east", "eu-west", "us-east"):
        _fail(world, region, ok=region not in down)


def test_reports_and_probes_that_agree_open_one_incident_with_both_as_evidence(probed, clock):
    for _ in range(3):
        _probe(probed, "sa-east")  # one region of three: a partial outage, not enough alone
        assert probed.minute() is None
    assert probed.incidents() == []
    _probe(probed, "sa-east")
    probed.minute(30, country="BR")
    _probe(probed, "sa-east")
    probed.minute(40, country="BR")
    (incident,) = probed.incidents()
    assert incident.component_ids == (probed.feed.id,)
    assert incident.name == "Problems with Feed"
    signal = incident.detection["signal"]
    assert signal["agreement"] == "place" and signal["sources"] == ["reports", "probes"]
    assert {e["source"] for e in signal["evidence"]} == {"reports", "probes"}
    assert probed.store.get_component(probed.feed.id).status is ComponentStatus.PARTIAL_OUTAGE


def test_the_incident_grows_when_more_is_affected(probed, clock):
    _probe(probed)
    probed.minute(40, country="DE")
    _probe(probed)
    probed.minute(60, country="DE")
    (incident,) = probed.incidents()
    assert incident.component_ids == ()
    _probe(probed, "sa-east", "eu-west", "us-east")
    probed.minute(60, country="DE")
    grown = probed.store.get_incident(incident.id)
    assert grown.component_ids == (probed.feed.id,)
    assert grown.updates[0].body.startswith("The problem now also affects Feed")
    assert probed.store.get_component(probed.feed.id).status is ComponentStatus.MAJOR_OUTAGE


def test_maintenance_suppresses_detection_for_its_components(probed, clock):
    probed.store.create_maintenance(
        probed.page.id, name="Upgrade", body="Upgrading", now=clock(),
        scheduled_for=clock() - timedelta(minutes=1),
        scheduled_until=clock() + timedelta(hours=1), component_ids=[probed.feed.id])
    for _ in range(3):
        _probe(probed, "sa-east", "eu-west", "us-east")
        probed.minute(50)
    assert probed.incidents() == []


def test_in_confirm_mode_the_incident_waits_internal_until_a_person_confirms(store, clock):
    world = World(store, clock, publish="confirm")
    world.history()
    world.engine.tick()
    world.report(1, category="login", at=clock() - timedelta(hours=2))
    world.store.put_detection_settings(world.page.id, settings(
        publish="confirm", categories={"login": "Login"}), now=clock())
    world.minute(40, category="login")
    world.minute(60, category="login")
    (incident,) = world.incidents()
    assert not incident.published and not incident.is_public
    assert incident.first_public_update_at is None
    assert incident.component_ids == (world.login.id,)
    assert world.store.list_incidents(world.page.id, public_only=True) == []
    # Held back: the public status of the component is untouched.
    assert world.store.get_component(world.login.id).status is ComponentStatus.OPERATIONAL
    confirmed = world.store.confirm_incident(incident.id, now=clock())
    assert confirmed.published and not confirmed.auto_detected
    assert confirmed.acknowledged_at == clock() == confirmed.first_public_update_at
    proposed = ComponentStatus(incident.detection["statuses"][world.login.id])
    assert proposed is ComponentStatus.MAJOR_OUTAGE  # every report of the page is about it
    assert world.store.get_component(world.login.id).status is proposed
    assert DetectionSettings.from_doc(store.detection_settings(world.page.id)).publish is (
        PublishMode.CONFIRM)


def test_a_dismissed_incident_is_never_reused(world, clock):
    world.minute(40)
    world.minute(60)
    (incident,) = world.incidents()
    dismissed = world.store.dismiss_incident(incident.id, now=clock(), reason="a test burst")
    assert dismissed.status is IncidentStatus.RESOLVED and not dismissed.is_public
    world.minute(60)  # the same episode goes on: muted
    assert len(world.incidents()) == 1
    for _ in range(16):
        world.minute(1)
    world.minute(50)
    world.minute(80)
    ids = [i.id for i in world.incidents()]
    assert len(ids) == 2 and incident.id in ids
    assert world.store.get_incident(incident.id).dismissed_at is not None
