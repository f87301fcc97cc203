"""The automatic incident state machine: open, grow, resolve, reopen, dismiss, maintenance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from signalfire.domain.auto_incident import (
    DetectionSettings,
    Grow,
    KeepAlive,
    Mute,
    Open,
    PublishMode,
    Reopen,
    Resolve,
    Scope,
    Situation,
    Tracked,
    step,
)
from signalfire.domain.model import Incident
from signalfire.domain.signals import Evidence, Signal, Source
from signalfire.domain.status import ComponentStatus, Impact, IncidentStatus

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
MAJOR, PARTIAL = ComponentStatus.MAJOR_OUTAGE, ComponentStatus.PARTIAL_OUTAGE
SETTINGS = DetectionSettings(enabled=True, threshold=0.6, quiet_period_s=900,
                             reopen_window_s=3600)
NAMES = {"feed": "Feed", "login": "Login"}


def signal(*components: str, confidence: float = 0.9, countries: tuple[str, ...] = (),
           statuses: dict[str, ComponentStatus] | None = None) -> Signal:
    e = Evidence(Source.REPORTS, "total", NOW - timedelta(minutes=3), confidence, "reports total")
    by_country = tuple(Evidence(Source.REPORTS, f"country:{c}", NOW, confidence,
                                f"reports from {c}", country=c) for c in countries)
    return Signal(onset_at=NOW - timedelta(minutes=3), severity=confidence,
                  confidence=confidence, components=components, regions=(),
                  countries=countries, categories=(), sources=(Source.REPORTS,),
                  agreement="none", evidence=(e, *by_country),
                  statuses=statuses if statuses is not None
                  else dict.fromkeys(components, PARTIAL))


def tracked(*components: str, state: str = "open", last_active_min: float | None = 1,
            resolved_min: float | None = None) -> Tracked:
    return Tracked(
        incident_id="inc", open=state == "open", dismissed=state == "dismissed",
        resolved_at=None if resolved_min is None else NOW - timedelta(minutes=resolved_min),
        last_active_at=None if last_active_min is None
        else NOW - timedelta(minutes=last_active_min),
        scope=Scope(components=frozenset(components),
                    statuses=dict.fromkeys(components, PARTIAL)))


def situation(sig: Signal | None, **kw) -> Situation:
    return Situation(now=NOW, signal=sig, names=NAMES, **kw)


CASES = [
    # (what, tracked, situation, expected action type)
    ("nothing happens", None, situation(None), type(None)),
    ("a signal above the threshold opens", None, situation(signal("feed")), Open),
    ("a weak signal opens nothing", None, situation(signal("feed", confidence=0.5)),
     type(None)),
    ("an open incident goes on", tracked("feed"), situation(signal("feed")), KeepAlive),
    ("going on needs only half the threshold", tracked("feed"),
     situation(signal("feed", confidence=0.35)), KeepAlive),
    ("a new component grows it", tracked("feed"), situation(signal("feed", "login")), Grow),
    ("a new country is recorded, not announced", tracked("feed"),
     situation(signal("feed", countries=("BR",))), KeepAlive),
    ("a worse status grows it", tracked("feed"),
     situation(signal("feed", statuses={"feed": MAJOR})), Grow),
    ("quiet, but not long enough", tracked("feed", last_active_min=10), situation(None),
     type(None)),
    ("quiet for the quiet period resolves", tracked("feed", last_active_min=15),
     situation(None), Resolve),
    ("a re-trigger within the reopen window reopens",
     tracked("feed", state="resolved", last_active_min=20, resolved_min=5),
     situation(signal("feed")), Reopen),
    ("a re-trigger after the postmortem opens a new one",
     Tracked("inc", open=False, dismissed=False, resolved_at=NOW - timedelta(minutes=5),
             last_active_at=NOW - timedelta(minutes=20), scope=Scope(), reopenable=False),
     situation(signal("feed")), Open),
    ("a re-trigger after the reopen window opens a new one",
     tracked("feed", state="resolved", last_active_min=90, resolved_min=75),
     situation(signal("feed")), Open),
    ("a signal that never stopped after a person resolved it reopens nothing",
     tracked("feed", state="resolved", last_active_min=1, resolved_min=1),
     situation(signal("feed")), KeepAlive),
    ("a dismissed episode that goes on is muted",
     tracked("feed", state="dismissed", last_active_min=1, resolved_min=3),
     situation(signal("feed")), Mute),
    ("a new episode after a dismissal opens a new incident",
     tracked("feed", state="dismissed", last_active_min=20, resolved_min=30),
     situation(signal("feed")), Open),
    ("maintenance suppresses its components", None,
     situation(signal("feed"), maintenance_components=frozenset({"feed"})), type(None)),
    ("maintenance leaves other components alone", None,
     situation(signal("feed", "login"), maintenance_components=frozenset({"feed"})), Open),
    ("reports naming no component are explained by maintenance", None,
     situation(signal(), known_trouble=True), type(None)),
    ("a component under a person's incident is no news", None,
     situation(signal("feed"), known_components=frozenset({"feed"})), type(None)),
    ("reports naming no component open one when nothing is going on", None,
     situation(signal()), Open),
]


@pytest.mark.parametrize(("what", "before", "now", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_step(what, before, now, expected):
    assert type(step(SETTINGS, before, now)) is expected


def test_opening_carries_scope_evidence_and_publish_mode():
    action = step(SETTINGS, None, situation(signal("feed", countries=("BR",))))
    assert isinstance(action, Open) and action.publish
    assert action.name == "Problems with Feed"
    assert "Feed" in action.body and "BR" in action.body and "reports total" in action.body
    assert action.scope.statuses == {"feed": PARTIAL}
    confirm = DetectionSettings(enabled=True, publish=PublishMode.CONFIRM)
    held = step(confirm, None, situation(signal("feed")))
    assert isinstance(held, Open) and not held.publish


def test_growing_names_what_is_new_and_keeps_the_old_scope():
    action = step(SETTINGS, tracked("feed"), situation(signal("feed", "login")))
    assert isinstance(action, Grow)
    assert action.added.components == {"login"} and action.scope.components == {"feed", "login"}
    assert action.body == "The problem now also affects Login."
    worse = step(SETTINGS, tracked("feed"), situation(signal("feed", statuses={"feed": MAJOR})))
    assert isinstance(worse, Grow) and worse.added.statuses == {"feed": MAJOR}
    assert "Feed now has a major outage" in worse.body


def test_maintenance_takes_its_components_out_of_a_new_incident():
    action = step(SETTINGS, None, situation(signal("feed", "login"),
                                            maintenance_components=frozenset({"feed"})))
    assert isinstance(action, Open) and action.scope.components == {"login"}


def test_tracked_reads_back_what_the_engine_stored():
    inc = Incident(id="i", page_id="p", name="x", status=IncidentStatus.RESOLVED,
                   impact=Impact.MAJOR, created_at=NOW, updated_at=NOW, started_at=NOW,
                   resolved_at=NOW, detected_at=NOW,
                   detection={"last_active_at": NOW.isoformat(), "components": ["feed"],
                              "statuses": {"feed": "major_outage"}})
    t = Tracked.from_incident(inc)
    assert not t.open and not t.dismissed and t.last_active_at == NOW
    assert t.scope.statuses == {"feed": MAJOR}


def test_settings_round_trip():
    s = DetectionSettings(enabled=True, detector="counts", threshold=0.7,
                          publish=PublishMode.CONFIRM, regions={"sa-east": ("BR",)},
                          categories={"login": "Login"})
    assert DetectionSettings.from_doc(s.to_doc()) == s
    assert DetectionSettings.from_doc(None) == DetectionSettings()


def test_what_people_know_about_explains_evidence_and_does_not_date_the_onset():
    from signalfire.domain.signals import fuse, probe_evidence

    known_since = NOW - timedelta(hours=1)
    evidence = [
        probe_evidence("upload", "Upload", PARTIAL, ["sa-east"], onset_at=known_since),
        Evidence(Source.REPORTS, "country:BR", known_since, 0.9, "reports from BR", country="BR"),
        Evidence(Source.REPORTS, "total", known_since, 0.9, "reports overall"),
        probe_evidence("feed", "Feed", MAJOR, ["eu-west", "sa-east"],
                       onset_at=NOW - timedelta(minutes=2)),
        Evidence(Source.REPORTS, "country:DE", NOW - timedelta(minutes=1), 0.9,
                 "reports from DE", country="DE"),
    ]
    sig = fuse(evidence, region_countries={"sa-east": ["BR"], "eu-west": ["DE"]})
    known = situation(sig, known_components=frozenset({"upload"}), known_trouble=True)
    action = step(SETTINGS, None, known)
    assert isinstance(action, Open)
    assert action.onset_at == NOW - timedelta(minutes=2)  # Feed's first failure, not the hour
    assert action.scope.components == {"feed"}
    assert action.scope.countries == {"DE"}  # Brazil's reports are about the known trouble


def test_new_categories_are_announced_by_their_labels():
    before = tracked("feed")
    from dataclasses import replace

    sig = signal("feed")
    login = Evidence(Source.REPORTS, "category:login", NOW, 0.9, "r", category="login")
    sig = replace(sig, evidence=(*sig.evidence, login))
    action = step(SETTINGS, before, Situation(now=NOW, signal=sig,
                                              names={**NAMES, "category:login": "Login"}))
    assert isinstance(action, Grow) and action.added.categories == {"login"}
    assert action.body == "Users report it too: Login."
