"""Signals: what each series and each probed component says, and their fusion
into one verdict per page.

A *report series* (all reports of a page, or those of one category, country or
component) is watched by a ``SeriesWatch``: it feeds a streaming detector one
minute at a time and remembers where the anomalous run began, so the onset of
an outage is the first unusual minute and not the minute the detector was sure.

*Probe evidence* comes from the quorum: a component that is down in some
regions is evidence from another, independent source.

``fuse`` puts the evidence of one minute together. Independent sources that
agree (reports rising in Brazil while the probes in sa-east fail) raise the
confidence; one source alone gets less, because a lone source can be wrong on
its own (a probe's network, a bot flooding the report button). The signal
says which source saw what, so the incident can show its evidence.

Pure: time comes with the data.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from signalfire.domain.status import ComponentStatus


class Source(StrEnum):
    REPORTS = "reports"
    PROBES = "probes"


# A detector's alarm is its decision that a minute is anomalous; its score at
# that minute may still be modest, so an alarm counts at least this much.
ALARM_CONFIDENCE = 0.75
# One source alone can be wrong by itself; agreement is what makes us sure.
LONE_SOURCE_FACTOR = 0.8
# Two sources at the same time but about different places (or one that cannot
# be placed) agree less than two that point at the same place.
TIME_ONLY_FACTOR = 0.9
EVIDENCE_KEPT = 25
PROBE_CONFIDENCE = {
    ComponentStatus.MAJOR_OUTAGE: 0.9,
    ComponentStatus.PARTIAL_OUTAGE: 0.6,
    ComponentStatus.DEGRADED_PERFORMANCE: 0.35,
}
PROBE_SEVERITY = {
    ComponentStatus.MAJOR_OUTAGE: 1.0,
    ComponentStatus.PARTIAL_OUTAGE: 0.6,
    ComponentStatus.DEGRADED_PERFORMANCE: 0.3,
}


@dataclass(frozen=True, slots=True)
class SeriesKey:
    """One report series of a page: ``dimension`` is total, category, country or
    component; ``value`` the category slug, country code or component id."""

    dimension: str
    value: str = ""

    @property
    def name(self) -> str:
        return "total" if self.dimension == "total" else f"{self.dimension}:{self.value}"


TOTAL = SeriesKey("total")


@dataclass(frozen=True, slots=True)
class Verdict:
    score: float
    alarm: bool


@dataclass(frozen=True, slots=True)
class Evidence:
    """What one source saw about one key."""

    source: Source
    key: str  # "total", "country:BR", "category:login", "component:<id>"
    onset_at: datetime
    score: float  # [0, 1]: how sure this piece of evidence is on its own
    summary: str  # one sentence a person reads
    component_id: str | None = None
    country: str | None = None
    category: str | None = None
    regions: tuple[str, ...] = ()  # probes: the regions where the component is down
    status: ComponentStatus | None = None  # probes: what the quorum says
    count: int | None = None  # reports: this minute's count
    usual: float | None = None  # reports: the usual count per minute before the run

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"source": self.source.value, "key": self.key,
                               "onset_at": self.onset_at.isoformat(),
                               "score": round(self.score, 3), "summary": self.summary}
        for name in ("component_id", "country", "category", "count", "usual"):
            value = getattr(self, name)
            if value is not None:
                doc[name] = round(value, 2) if isinstance(value, float) else value
        if self.regions:
            doc["regions"] = list(self.regions)
        if self.status is not None:
            doc["status"] = self.status.value
        return doc


class SeriesWatch:
    """A detector over one report series, with the run it is in.

    ``update`` takes the minutes in order (zero when nobody reported). A run
    starts at the first minute the detector scores at least ``onset_score`` or
    alarms, and lasts while it keeps doing so or alarmed less than
    ``hold_minutes`` ago; the signal is *firing* while the last alarm is that
    recent and the run's peak count reached the page's floor.
    """

    def __init__(self, detector: Any, *, onset_score: float = 0.5, hold_minutes: int = 3,
                 usual_minutes: int = 60) -> None:
        self.detector = detector
        self.onset_score = onset_score
        self.hold = timedelta(minutes=hold_minutes)
        self.run_start: datetime | None = None
        self.last_alarm_at: datetime | None = None
        self.last_at: datetime | None = None
        self.last_value = 0.0
        self.peak_score = 0.0
        self.peak_value = 0.0
        self._quiet: deque[float] = deque(maxlen=usual_minutes)
        self._recent: deque[float] = deque(maxlen=3)

    def update(self, at: datetime, value: float) -> Verdict:
        raw = self.detector.update(at.timestamp(), value)
        verdict = Verdict(float(raw.score), bool(raw.alarm))
        self.last_at, self.last_value = at, value
        self._recent.append(value)
        if verdict.alarm:
            self.last_alarm_at = at
        held = self.last_alarm_at is not None and at - self.last_alarm_at < self.hold
        if verdict.alarm or verdict.score >= self.onset_score or (
                self.run_start is not None and held):
            if self.run_start is None:
                self.run_start = at
                self.peak_score = self.peak_value = 0.0
            self.peak_score = max(self.peak_score, verdict.score)
            self.peak_value = max(self.peak_value, value)
        else:
            self.run_start = None
            self._quiet.append(value)
        return verdict

    @property
    def usual(self) -> float:
        """The mean count per minute of the recent minutes outside any run."""
        return sum(self._quiet) / len(self._quiet) if self._quiet else 0.0

    def firing(self, *, min_count: float = 0) -> bool:
        """In a run, alarmed lately, its peak at the floor or above, and still
        clearly above the usual level: some detectors keep their alarm up for a
        long window after the counts are back to normal, and an incident
        should resolve when users stop reporting, not an hour later."""
        return (self.run_start is not None and self.last_alarm_at is not None
                and self.last_at is not None and self.last_at - self.last_alarm_at < self.hold
                and self.peak_value >= min_count and self.elevated)

    @property
    def elevated(self) -> bool:
        recent = list(self._recent)
        return bool(recent) and sum(recent) / len(recent) >= 2 * self.usual + 1

    def evidence(self, key: SeriesKey, *, describe: Callable[[SeriesKey], str] = lambda k: k.name,
                 ) -> Evidence:
        assert self.run_start is not None
        usual = self.usual
        return Evidence(
            source=Source.REPORTS, key=key.name, onset_at=self.run_start,
            score=max(self.peak_score, ALARM_CONFIDENCE),
            summary=(f"reports {describe(key)}: {self.last_value:g} in the last minute "
                     f"(usually {usual:.1f})"),
            component_id=key.value if key.dimension == "component" else None,
            country=key.value if key.dimension == "country" else None,
            category=key.value if key.dimension == "category" else None,
            count=int(self.last_value), usual=usual)


def probe_evidence(component_id: str, name: str, status: ComponentStatus | None,
                   down_regions: Sequence[str], *, onset_at: datetime,
                   slow_regions: Sequence[str] = ()) -> Evidence | None:
    """Evidence from the quorum about one component, or None if it is healthy."""
    if status not in PROBE_CONFIDENCE:
        return None
    assert status is not None
    regions = tuple(down_regions) or tuple(slow_regions)
    where = f" in {', '.join(regions)}" if regions else ""
    verb = "slow" if status is ComponentStatus.DEGRADED_PERFORMANCE else "failing"
    return Evidence(source=Source.PROBES, key=f"component:{component_id}", onset_at=onset_at,
                    score=PROBE_CONFIDENCE[status],
                    summary=f"probes {verb} for {name}{where} ({status.label.lower()})",
                    component_id=component_id, regions=regions, status=status)


@dataclass(frozen=True, slots=True)
class Signal:
    """The fused verdict of one minute on one page."""

    onset_at: datetime
    severity: float
    confidence: float
    components: tuple[str, ...]
    regions: tuple[str, ...]
    countries: tuple[str, ...]
    categories: tuple[str, ...]
    sources: tuple[Source, ...]
    agreement: str  # "place", "time" or "none" (one source, or two about different places)
    evidence: tuple[Evidence, ...]
    statuses: Mapping[str, ComponentStatus] = field(default_factory=dict)

    def to_doc(self) -> dict[str, Any]:
        return {"onset_at": self.onset_at.isoformat(), "severity": round(self.severity, 3),
                "confidence": round(self.confidence, 3), "components": list(self.components),
                "regions": list(self.regions), "countries": list(self.countries),
                "categories": list(self.categories),
                "sources": [s.value for s in self.sources], "agreement": self.agreement,
                # The strongest first, within each source; a world-wide outage
                # brings a piece per country and the record need not hold them all.
                "evidence": [e.to_doc() for e in self.evidence[:EVIDENCE_KEPT]],
                "evidence_total": len(self.evidence)}


def fuse(evidence: Iterable[Evidence], *,
         region_countries: Mapping[str, Sequence[str]] | None = None,
         category_components: Mapping[str, str] | None = None) -> Signal | None:
    """One signal from all of a minute's evidence; None when there is none.

    ``region_countries`` maps a probe region to the countries whose users it
    stands for; ``category_components`` maps a report category to the
    component it is about.
    """
    items = sorted(evidence, key=lambda e: (e.source.value, -e.score, e.key))
    if not items:
        return None
    region_countries = region_countries or {}
    category_components = category_components or {}
    region_of = {c: r for r, countries in region_countries.items() for c in countries}
    # A country's reports are placed in the region whose probes stand for it.
    items = [replace(e, regions=(region_of[e.country],))
             if e.source is Source.REPORTS and e.country in region_of else e for e in items]
    reports = [e for e in items if e.source is Source.REPORTS]
    probes = [e for e in items if e.source is Source.PROBES]

    components: dict[str, None] = {}
    for e in probes + reports:
        cid = e.component_id or category_components.get(e.category or "")
        if cid:
            components[cid] = None
    countries = sorted({e.country for e in reports if e.country})
    categories = sorted({e.category for e in reports if e.category})
    probe_regions = {r for e in probes for r in e.regions}
    report_regions = {region_of[c] for c in countries if c in region_of}
    regions = sorted(probe_regions | report_regions)

    c_reports = max((e.score for e in reports), default=0.0)
    c_probes = max((e.score for e in probes), default=0.0)
    if reports and probes:
        report_components = {e.component_id or category_components.get(e.category or "")
                             for e in reports} - {"", None}
        probe_components = {e.component_id for e in probes}
        placed = bool(report_regions or report_components)
        if (report_regions & probe_regions) or (report_components & probe_components):
            agreement = "place"
            confidence = 1 - (1 - c_reports) * (1 - c_probes)
        elif not placed:
            # Reports we cannot place (all of them, or countries without a
            # region) rising while probes fail: together in time only.
            agreement = "time"
            confidence = 1 - (1 - TIME_ONLY_FACTOR * c_reports) * (1 - TIME_ONLY_FACTOR * c_probes)
        else:
            agreement = "none"
            confidence = LONE_SOURCE_FACTOR * max(c_reports, c_probes)
    else:
        agreement = "none"
        confidence = LONE_SOURCE_FACTOR * max(c_reports, c_probes)

    severity = max([e.score for e in reports]
                   + [PROBE_SEVERITY[e.status] for e in probes if e.status in PROBE_SEVERITY])
    statuses = _statuses(list(components), probes, reports, category_components,
                         severity=severity)
    sources = tuple(s for s in Source if any(e.source is s for e in items))
    return Signal(onset_at=min(e.onset_at for e in items), severity=severity,
                  confidence=min(1.0, confidence), components=tuple(components),
                  regions=tuple(regions), countries=tuple(countries),
                  categories=tuple(categories), sources=sources, agreement=agreement,
                  evidence=tuple(items), statuses=statuses)


def _statuses(components: Sequence[str], probes: Sequence[Evidence], reports: Sequence[Evidence],
              category_components: Mapping[str, str], *, severity: float,
              ) -> dict[str, ComponentStatus]:
    """What each component's status should say: the quorum's when probes see
    it; from reports alone a partial outage, or a major one when reports surge
    across the whole page (the total series firing near certainty)."""
    by_probe = {e.component_id: e.status for e in probes if e.component_id and e.status}
    page_wide = any(e.key == TOTAL.name and e.score >= 0.95 for e in reports)
    out: dict[str, ComponentStatus] = {}
    for cid in components:
        probed = by_probe.get(cid)
        if probed is not None:
            out[cid] = probed
        else:
            out[cid] = (ComponentStatus.MAJOR_OUTAGE if page_wide and severity >= 0.95
                        else ComponentStatus.PARTIAL_OUTAGE)
    return out


class RatioDetector:
    """A plain stand-in detector for count series, used when the page names a
    detector this installation does not have: the count against a slow moving
    average of the quiet minutes. Alarms at four times the usual level; the
    page's floor on absolute counts is applied on top (``SeriesWatch.firing``).
    """

    def __init__(self, *, alpha: float = 1 / 120, ratio: float = 4.0) -> None:
        self.alpha, self.ratio = alpha, ratio
        self.level: float | None = None

    def update(self, at_s: float, value: float) -> Verdict:
        if self.level is None:
            self.level = value
        ratio = (value + 1) / (self.level + 1)
        alarm = ratio >= self.ratio
        if not alarm:
            # Only quiet minutes teach the level, so an outage does not become normal.
            self.level += self.alpha * (value - self.level)
        return Verdict(min(1.0, max(0.0, (ratio - 1) / (self.ratio + 1))), alarm)
