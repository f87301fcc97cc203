"""The demo tells the whole story by itself: break the simulated app, and the
crowd's reports and the probes open an automatic incident within minutes; mend
it, and the incident resolves itself after the quiet period. Driven minute by
minute with an injected clock, the demo's own page, crowd and faults, and the
detector the demo uses."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from signalfire.config.pagefile import apply_pagefile, parse_pagefile
from signalfire.domain.probe import Observation
from signalfire.domain.status import ComponentStatus, IncidentStatus
from signalfire.engine.detection import DetectionEngine
from signalfire.sim.crowd import backfill, crowd_minute
from signalfire.sim.demo import DEMO_COMPONENTS, DEMO_REGIONS, demo_pagefile, seed_demo
from signalfire.sim.target import Faults, slug

START = datetime(2026, 6, 1, 18, 0, 30, tzinfo=UTC)


class Demo:
    def __init__(self, store):
        self.store, self.now = store, START
        seed_demo(store, now=self.now)
        apply_pagefile(store, parse_pagefile(demo_pagefile("http://demo.test"), source="demo"),
                       self.now)
        self.page = store.get_page("clipstream")
        backfill(store, self.page.id, now=self.now)
        self.faults = Faults(tuple(slug(c) for c in DEMO_COMPONENTS), DEMO_REGIONS)
        self.faults.set("video-upload", "down", frozenset({"sa-east"}))  # as the demo starts
        self.monitors = store.list_monitors(page_id=self.page.id)
        self.categories = [s for s, _ in store.report_categories(self.page.id)]
        self.rng = random.Random(5)
        self.engine = DetectionEngine(store, clock=lambda: self.now)
        self.manual = {i.id for i in store.list_incidents(self.page.id)}

    def minute(self):
        """One minute of the demo: the crowd reports, the probes check twice from
        every region, and detection ticks just after the minute is over."""
        minute = self.now.replace(second=0, microsecond=0)
        self.store.add_reports(crowd_minute(minute, self.categories, self.rng,
                                            broken=self.faults.badness, page_id=self.page.id))
        for offset in (20, 50):
            at = minute + timedelta(seconds=offset)
            self.store.ingest([
                self.check(m, region, at) for m in self.monitors for region in m.regions],
                received_at=at)
        self.now = minute + timedelta(minutes=1, seconds=10)
        self.engine.tick()

    def check(self, monitor, region, at):
        mode = self.faults.mode_for(monitor.name.removesuffix("-http"), region)
        return Observation(id=uuid.uuid4().hex, monitor_id=monitor.id, region=region, at=at,
                           ok=mode in ("ok", "slow"),
                           duration_ms=1500.0 if mode == "slow" else 20.0)

    def automatic(self):
        return [i for i in self.store.list_incidents(self.page.id) if i.id not in self.manual]


def test_breaking_the_demo_opens_an_incident_that_resolves_itself_after_repair(store):
    demo = Demo(store)
    for _ in range(10):
        demo.minute()
    # Uploads failing in Latin America are already an incident people are on.
    assert demo.automatic() == []

    broken_at = demo.now
    demo.faults.set("feed", "down")
    minutes = 0
    while not demo.automatic() and minutes < 5:
        demo.minute()
        minutes += 1
    (incident,) = demo.automatic()
    assert minutes <= 3, f"opened after {minutes} minutes"
    assert incident.auto_detected and incident.is_public
    assert incident.status is IncidentStatus.INVESTIGATING
    feed = next(c for c in store.list_components(demo.page.id) if c.name == "Feed")
    upload = next(c for c in store.list_components(demo.page.id) if c.name == "Video upload")
    assert feed.id in incident.component_ids and upload.id not in incident.component_ids
    assert broken_at - timedelta(minutes=1) <= incident.onset_at <= incident.detected_at
    assert store.get_component(feed.id).status is ComponentStatus.MAJOR_OUTAGE
    for _ in range(5):
        demo.minute()
    sources = store.get_incident(incident.id).detection["signal"]["sources"]
    assert sources == ["reports", "probes"]

    demo.faults.set("feed", "ok")
    minutes = 0
    while store.get_incident(incident.id).is_open and minutes < 15:
        demo.minute()
        minutes += 1
    resolved = store.get_incident(incident.id)
    assert resolved.status is IncidentStatus.RESOLVED, resolved.detection
    assert 5 <= minutes <= 9, f"resolved {minutes} minutes after the repair"
    assert store.get_component(feed.id).status is ComponentStatus.OPERATIONAL
    assert len(demo.automatic()) == 1


def test_breaking_a_component_in_one_region_opens_a_regional_incident(store):
    demo = Demo(store)
    for _ in range(5):
        demo.minute()
    demo.faults.set("login", "down", frozenset({"eu-west"}))
    for _ in range(3):
        demo.minute()
    (incident,) = demo.automatic()
    login = next(c for c in store.list_components(demo.page.id) if c.name == "Login")
    assert incident.component_ids == (login.id,)
    assert store.get_component(login.id).status is ComponentStatus.PARTIAL_OUTAGE
    assert incident.detection["regions"] == ["eu-west"]
    assert set(incident.detection["countries"]) <= {"GB", "DE", "FR", "ES"}
    signal = incident.detection["signal"]
    assert signal["agreement"] == "place" and signal["confidence"] > 0.9
