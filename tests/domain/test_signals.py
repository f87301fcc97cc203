"""Signals and their fusion: agreement raises confidence, evidence says who saw what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from signalfire.domain.signals import (
    LONE_SOURCE_FACTOR,
    TOTAL,
    Evidence,
    SeriesKey,
    SeriesWatch,
    Source,
    Verdict,
    fuse,
    probe_evidence,
)
from signalfire.domain.status import ComponentStatus

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
MAJOR, PARTIAL = ComponentStatus.MAJOR_OUTAGE, ComponentStatus.PARTIAL_OUTAGE
REGIONS = {"sa-east": ["BR", "MX"], "eu-west": ["DE", "FR"]}


def reports(key: str, *, score: float = 0.9, at: datetime = T0) -> Evidence:
    dim, _, value = key.partition(":")
    return Evidence(Source.REPORTS, key, at, score, f"reports {key}",
                    country=value if dim == "country" else None,
                    category=value if dim == "category" else None,
                    component_id=value if dim == "component" else None)


def probes(component: str, status: ComponentStatus, *regions: str,
           at: datetime = T0) -> Evidence:
    e = probe_evidence(component, component.title(), status, regions, onset_at=at)
    assert e is not None
    return e


@pytest.mark.parametrize(("evidence", "agreement"), [
    ([reports("country:BR"), probes("feed", PARTIAL, "sa-east")], "place"),
    ([reports("component:feed"), probes("feed", PARTIAL, "eu-west")], "place"),
    ([reports("total"), probes("feed", PARTIAL, "eu-west")], "time"),
    ([reports("country:US"), probes("feed", PARTIAL, "eu-west")], "time"),
    ([reports("country:DE"), probes("feed", PARTIAL, "sa-east")], "none"),
])
def test_agreement_between_sources_raises_confidence_over_each_alone(evidence, agreement):
    both = fuse(evidence, region_countries=REGIONS)
    alone = [fuse([e], region_countries=REGIONS) for e in evidence]
    assert both is not None and both.agreement == agreement
    best_alone = max(s.confidence for s in alone if s is not None)
    if agreement == "none":
        assert both.confidence == pytest.approx(best_alone)
    else:
        assert both.confidence > best_alone
    assert both.sources == (Source.REPORTS, Source.PROBES)


def test_agreeing_on_the_place_beats_agreeing_only_in_time():
    place = fuse([reports("country:BR"), probes("feed", PARTIAL, "sa-east")],
                 region_countries=REGIONS)
    time = fuse([reports("total"), probes("feed", PARTIAL, "sa-east")], region_countries=REGIONS)
    assert place is not None and time is not None
    assert place.confidence > time.confidence


@pytest.mark.parametrize(("evidence", "confidence"), [
    ([reports("total", score=1.0)], LONE_SOURCE_FACTOR * 1.0),
    ([probes("feed", MAJOR, "a", "b")], LONE_SOURCE_FACTOR * 0.9),
    ([probes("feed", PARTIAL, "a")], LONE_SOURCE_FACTOR * 0.6),
    ([reports("total", score=0.8), reports("country:BR", score=0.95)], LONE_SOURCE_FACTOR * 0.95),
])
def test_one_source_alone_is_discounted(evidence, confidence):
    s = fuse(evidence)
    assert s is not None and s.agreement == "none"
    assert s.confidence == pytest.approx(confidence)


def test_no_evidence_no_signal():
    assert fuse([]) is None


def test_the_signal_says_which_source_saw_what_and_its_scope():
    s = fuse([reports("country:BR", at=T0 + timedelta(minutes=2)), reports("category:login"),
              probes("feed", MAJOR, "sa-east", "eu-west", at=T0 - timedelta(minutes=1))],
             region_countries=REGIONS, category_components={"login": "login-id"})
    assert s is not None
    assert s.onset_at == T0 - timedelta(minutes=1)  # the earliest piece of evidence
    assert s.components == ("feed", "login-id")
    assert s.countries == ("BR",) and s.categories == ("login",)
    assert s.regions == ("eu-west", "sa-east")
    assert {(e.source, e.key) for e in s.evidence} == {
        (Source.REPORTS, "country:BR"), (Source.REPORTS, "category:login"),
        (Source.PROBES, "component:feed")}
    doc = s.to_doc()
    assert doc["sources"] == ["reports", "probes"]
    assert {e["source"] for e in doc["evidence"]} == {"probes", "reports"}
    # The quorum's word for a probed component; reports alone say partial.
    assert s.statuses == {"feed": MAJOR, "login-id": PARTIAL}


@pytest.mark.parametrize(("status", "expected"), [
    (ComponentStatus.OPERATIONAL, None), (None, None), (ComponentStatus.UNDER_MAINTENANCE, None),
    (ComponentStatus.DEGRADED_PERFORMANCE, 0.35), (PARTIAL, 0.6), (MAJOR, 0.9),
])
def test_probe_evidence_follows_the_quorum(status, expected):
    e = probe_evidence("c", "Feed", status, ["eu-west"], onset_at=T0)
    assert (e.score if e else None) == expected


def test_reports_surging_across_the_page_make_a_major_outage():
    s = fuse([reports("total", score=1.0), reports("component:feed", score=1.0)])
    assert s is not None and s.statuses == {"feed": MAJOR}


class Scripted:
    """A detector that answers from a script: (score, alarm) per minute."""

    def __init__(self, script):
        self.script = list(script)

    def update(self, at_s, value):
        score, alarm = self.script.pop(0)
        return Verdict(score, alarm)


def feed(watch, values):
    for n, v in enumerate(values):
        watch.update(T0 + timedelta(minutes=n), v)


def test_the_onset_is_the_first_unusual_minute_not_the_alarm():
    watch = SeriesWatch(Scripted([(0, False)] * 5 + [(0.6, False), (0.8, False), (0.99, True)]))
    feed(watch, [1, 1, 1, 1, 1, 4, 9, 30])
    assert watch.firing(min_count=5)
    assert watch.run_start == T0 + timedelta(minutes=5)
    e = watch.evidence(SeriesKey("country", "BR"))
    assert e.country == "BR" and e.onset_at == T0 + timedelta(minutes=5)
    assert e.count == 30 and e.usual == pytest.approx(1.0)
    assert e.score == pytest.approx(0.99)


@pytest.mark.parametrize(("script", "values", "floor", "firing"), [
    ([(0.9, True)], [30], 5, True),
    ([(0.9, True)], [3], 5, False),  # under the floor: three reports page nobody
    ([(0.9, True), (0.1, False), (0.1, False)], [30, 1, 1], 5, True),  # held for a while
    ([(0.9, True)] + [(0.1, False)] * 3, [30, 1, 1, 1], 5, False),  # hold ran out
    ([(0.7, False)], [30], 5, False),  # unusual, but no alarm yet
])
def test_when_a_series_fires(script, values, floor, firing):
    watch = SeriesWatch(Scripted(script), hold_minutes=3)
    feed(watch, values)
    assert watch.firing(min_count=floor) is firing


def test_a_run_ends_and_the_next_one_has_its_own_onset():
    watch = SeriesWatch(Scripted([(0.9, True)] + [(0, False)] * 4 + [(0.9, True)]),
                        hold_minutes=2)
    feed(watch, [20, 0, 0, 0, 0, 20])
    assert watch.run_start == T0 + timedelta(minutes=5)
    assert TOTAL.name == "total"


def test_the_stand_in_detector_alarms_on_a_jump_and_does_not_learn_it():
    from signalfire.domain.signals import RatioDetector

    d = RatioDetector()
    quiet = [d.update(n * 60.0, 1.0) for n in range(100)]
    assert not any(v.alarm for v in quiet)
    jump = [d.update((100 + n) * 60.0, 30.0) for n in range(30)]
    assert all(v.alarm for v in jump) and jump[0].score == pytest.approx(1.0)
    assert d.level == pytest.approx(1.0)


def test_a_series_back_to_usual_stops_firing_though_its_detector_still_alarms():
    watch = SeriesWatch(Scripted([(0, False)] * 30 + [(1.0, True)] * 6))
    feed(watch, [1] * 30 + [30, 30, 30])
    assert watch.firing(min_count=5)
    feed_more = [1, 1, 1]
    for n, v in enumerate(feed_more):
        watch.update(T0 + timedelta(minutes=33 + n), v)
    assert watch.last_alarm_at == T0 + timedelta(minutes=35)
    assert not watch.firing(min_count=5)
