"""The detection pipeline: every minute, for every page with detection enabled,
report counts → detectors → signals → fusion with the probes → automatic incidents.

Per page it keeps one ``SeriesWatch`` per report series (all reports, each
category, each country, each component that has had reports) in memory. At
start, or when a page's detector changes, they are warmed up on the stored
minute counts of the last ``history_days`` days, so a restart neither forgets
what is usual nor alerts again about what it already knew (the incident
itself lives in the store). Then each completed minute is fed once: one query
per split, and one detector update per known series.

A minute is complete ``lag_s`` seconds after it ends, which leaves reports
that were being committed at the turn of the minute time to land.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio
import anyio.to_thread

from signalfire.detect.detector import Detector
from signalfire.domain.auto_incident import (
    Action,
    DetectionSettings,
    Grow,
    KeepAlive,
    Mute,
    Open,
    Reopen,
    Resolve,
    Situation,
    Tracked,
    step,
)
from signalfire.domain.crowd import minute_of
from signalfire.domain.model import Incident
from signalfire.domain.quorum import RegionState, component_status
from signalfire.domain.rules import impact_for_components
from signalfire.domain.signals import (
    TOTAL,
    Evidence,
    RatioDetector,
    SeriesKey,
    SeriesWatch,
    Signal,
    fuse,
    probe_evidence,
)
from signalfire.domain.status import ComponentStatus, IncidentStatus, MaintenanceStatus
from signalfire.errors import SignalfireError
from signalfire.store import Store

log = logging.getLogger("signalfire.detection")

MINUTE = timedelta(minutes=1)
SPLITS = {"category": "category", "country": "country", "component": "component"}
# A series first seen now had no reports before: it starts from this many quiet minutes.
NEW_SERIES_ZEROS = 24 * 60


def default_detector_factory(name: str) -> Detector:
    """The registered detector of that name, or a plain stand-in when there is none."""
    from signalfire.detect.registry import make_detector

    try:
        return make_detector(name)
    except KeyError:
        return RatioDetector()


@dataclass
class PageWatch:
    settings: DetectionSettings
    next_minute: datetime
    watches: dict[SeriesKey, SeriesWatch] = field(default_factory=dict)
    last_signal: Signal | None = None


class DetectionEngine:
    def __init__(self, store: Store, *, clock: Callable[[], datetime],
                 detector_factory: Callable[[str], Detector] = default_detector_factory,
                 on_incident: Callable[[Incident], None] | None = None,
                 lag_s: float = 5.0) -> None:
        self.store = store
        self.clock = clock
        self.detector_factory = detector_factory
        self.on_incident = on_incident
        self.lag = timedelta(seconds=lag_s)
        self.pages: dict[str, PageWatch] = {}

    # -- the loop ---------------------------------------------------------------------

    async def run(self, every_s: float = 15.0) -> None:
        """Until cancelled: tick, then sleep; one bad round does not stop detection."""
        while True:
            try:
                await anyio.to_thread.run_sync(self.tick)
            except Exception:
                log.exception("event=detection_tick_failed")
            await anyio.sleep(every_s)

    def tick(self) -> dict[str, Action | None]:
        """Feed every completed minute not fed yet, and act on each page's signal."""
        done: dict[str, Action | None] = {}
        if not self.store.hold_duty("detection"):
            # Another node detects; forget our warm state so that taking over
            # later starts from the stored counts, not from a stale memory.
            self.pages.clear()
            return done
        now = self.clock()
        until = minute_of(now - self.lag)  # the minutes before this one are complete
        wanted = {pid: DetectionSettings.from_doc(doc)
                  for pid, doc in self.store.all_detection_settings().items()}
        for page_id in list(self.pages):
            if page_id not in wanted or not wanted[page_id].enabled:
                del self.pages[page_id]
        for page_id, settings in wanted.items():
            if not settings.enabled:
                continue
            try:
                done[page_id] = self.tick_page(page_id, settings, now=now, until=until)
            except Exception:
                log.exception("event=detection_page_failed page=%s", page_id)
        return done

    def tick_page(self, page_id: str, settings: DetectionSettings, *, now: datetime,
                  until: datetime) -> Action | None:
        pw = self.pages.get(page_id)
        if pw is None or (pw.settings.detector, pw.settings.history_days) != (
                settings.detector, settings.history_days):
            pw = self._warm_up(page_id, settings, until)
        pw.settings = settings
        if pw.next_minute < until:
            since = max(pw.next_minute, until - timedelta(days=settings.history_days))
            self._feed(page_id, pw, since, until)
        names = {c.id: c.name for c in self.store.list_components(page_id)}
        labels = {f"category:{slug}": label
                  for slug, label in self.store.report_categories(page_id)}
        evidence = (self._report_evidence(pw, names, labels)
                    + self._probe_evidence(page_id, names, now))
        ids_by_name = {n: i for i, n in names.items()}
        signal = fuse(evidence, region_countries=settings.regions,
                      category_components={slug: ids_by_name[name]
                                           for slug, name in settings.categories.items()
                                           if name in ids_by_name})
        pw.last_signal = signal
        latest = self.store.latest_detected_incident(page_id)
        situation = self._situation(page_id, now, signal, latest, {**names, **labels})
        action = step(settings, Tracked.from_incident(latest) if latest else None, situation)
        if action is not None:
            try:
                self._apply(page_id, action, latest, now)
            except SignalfireError as exc:
                # A person changed the incident meanwhile; next minute sees their change.
                log.warning("event=detection_action_refused page=%s action=%s reason=%s",
                            page_id, type(action).__name__, exc.message)
        return action

    # -- series -----------------------------------------------------------------------

    def _warm_up(self, page_id: str, settings: DetectionSettings, until: datetime) -> PageWatch:
        since = until - timedelta(days=settings.history_days)
        pw = PageWatch(settings=settings, next_minute=since)
        self.pages[page_id] = pw
        self._feed(page_id, pw, since, until, warming=True)
        log.info("event=detection_warmed page=%s series=%d minutes=%d", page_id,
                 len(pw.watches), int((until - since) / MINUTE))
        return pw

    def _series(self, page_id: str, since: datetime, until: datetime,
                ) -> dict[SeriesKey, dict[datetime, int]]:
        out = {TOTAL: self.store.report_minutes(page_id, since=since, until=until)
               .get("", {})}
        for dimension, by in SPLITS.items():
            for value, counts in self.store.report_minutes(
                    page_id, since=since, until=until, by=by).items():
                if value:  # no component given, or no country known: only in the total
                    out[SeriesKey(dimension, value)] = counts
        return out

    def _feed(self, page_id: str, pw: PageWatch, since: datetime, until: datetime, *,
              warming: bool = False) -> None:
        series = self._series(page_id, since, until)
        series.setdefault(TOTAL, {})
        for key in series:
            if key not in pw.watches:
                pw.watches[key] = self._new_watch(pw.settings, since, warming=warming)
        minute = since
        while minute < until:
            for key, watch in pw.watches.items():
                watch.update(minute, float(series.get(key, {}).get(minute, 0)))
            minute += MINUTE
        pw.next_minute = until

    def _new_watch(self, settings: DetectionSettings, first: datetime, *,
                   warming: bool) -> SeriesWatch:
        watch = SeriesWatch(self.detector_factory(settings.detector))
        if not warming:
            # Nobody reported in this series before: it has been quiet, and saying
            # so keeps its first few reports from looking like an outage.
            minute = first - NEW_SERIES_ZEROS * MINUTE
            while minute < first:
                watch.update(minute, 0.0)
                minute += MINUTE
        return watch

    def _report_evidence(self, pw: PageWatch, names: dict[str, str],
                         labels: dict[str, str]) -> list[Evidence]:
        def describe(key: SeriesKey) -> str:
            if key.dimension == "total":
                return "overall"
            if key.dimension == "component":
                return f"about {names.get(key.value, key.value)}"
            if key.dimension == "category":
                return f"of {labels.get(key.name, key.value)!r}"
            return f"from {key.value}"

        return [w.evidence(key, describe=describe) for key, w in pw.watches.items()
                if w.firing(min_count=pw.settings.min_count)
                and (key.dimension != "component" or key.value in names)]

    def _probe_evidence(self, page_id: str, names: dict[str, str],
                        now: datetime) -> list[Evidence]:
        by_component: dict[str, list[Any]] = {}
        for m, states in self.store.page_monitor_states(page_id):
            if m.component_id:
                by_component.setdefault(m.component_id, []).append((m, states))
        out = []
        for cid, pairs in by_component.items():
            verdict = component_status(pairs, now=now)
            if cid not in names or verdict.status is None:
                continue
            onset = _probe_onset(pairs, verdict.down_regions or verdict.slow_regions, now)
            e = probe_evidence(cid, names[cid], verdict.status, verdict.down_regions,
                               onset_at=onset, slow_regions=verdict.slow_regions)
            if e is not None:
                out.append(e)
        return out

    # -- incidents --------------------------------------------------------------------

    def _situation(self, page_id: str, now: datetime, signal: Signal | None,
                   latest: Incident | None, names: dict[str, str]) -> Situation:
        known: set[str] = set()
        maintenance: set[str] = set()
        trouble = False
        for i in self.store.list_incidents(page_id, kind=None, open_only=True):
            if latest is not None and i.id == latest.id:
                continue
            if i.is_maintenance:
                if isinstance(i.status, MaintenanceStatus) and i.status.is_active:
                    maintenance.update(i.component_ids)
                    trouble = True
            elif i.dismissed_at is None:
                known.update(i.component_ids)
                trouble = trouble or i.is_public
        for c in self.store.list_components(page_id):
            if c.status is ComponentStatus.UNDER_MAINTENANCE:
                maintenance.add(c.id)
        return Situation(now=now, signal=signal, known_components=frozenset(known),
                         maintenance_components=frozenset(maintenance), known_trouble=trouble,
                         names=names)

    def _statuses(self, page_id: str, wanted: dict[str, ComponentStatus],
                  ) -> dict[str, ComponentStatus]:
        """Never lower what a component says already (the probes may know worse)."""
        current = {c.id: c.status for c in self.store.list_components(page_id)}
        return {cid: max(s, current.get(cid, s), key=lambda x: x.severity)
                for cid, s in wanted.items()}

    def _apply(self, page_id: str, action: Action, latest: Incident | None,
               now: datetime) -> None:
        stamp = now.isoformat()
        if isinstance(action, Open):
            statuses = self._statuses(page_id, dict(action.scope.statuses))
            detection = {**action.scope.to_doc(), "signal": action.signal.to_doc(),
                         "statuses": {c: s.value for c, s in statuses.items()},
                         "last_active_at": stamp}
            incident = self.store.create_incident(
                page_id, name=action.name, status=IncidentStatus.INVESTIGATING,
                body=action.body, now=now, components=statuses,
                impact=impact_for_components(statuses.values()), auto_detected=True,
                started_at=action.onset_at, published=action.publish,
                onset_at=action.onset_at, detected_at=now, detection=detection)
            log.info("event=incident_detected page=%s id=%s published=%s confidence=%.2f "
                     "onset=%s", page_id, incident.id, action.publish,
                     action.signal.confidence, action.onset_at.isoformat())
            self._changed(incident)
            return
        assert latest is not None
        base = dict(latest.detection or {})
        if isinstance(action, KeepAlive | Mute):
            scope = action.scope.to_doc() if isinstance(action, KeepAlive) and action.scope else {}
            scope.pop("statuses", None)  # statuses change only with an update
            self.store.set_detection(latest.id, {**base, **scope,
                                                 "signal": action.signal.to_doc(),
                                                 "last_active_at": stamp})
            return
        if isinstance(action, Resolve):
            incident = self.store.detection_update(
                latest.id, status=IncidentStatus.RESOLVED, body=action.body, now=now,
                statuses={}, detection=base)
            log.info("event=incident_auto_resolved page=%s id=%s", page_id, latest.id)
            self._changed(incident)
            return
        if isinstance(action, Grow):
            new = self._statuses(page_id, dict(action.added.statuses))
            status = latest.status if isinstance(latest.status, IncidentStatus) else (
                IncidentStatus.INVESTIGATING)
        else:
            assert isinstance(action, Reopen)
            new = self._statuses(page_id, dict(action.scope.statuses))
            status = IncidentStatus.INVESTIGATING
        statuses = {**base.get("statuses", {}), **{c: s.value for c, s in new.items()}}
        detection = {**base, **action.scope.to_doc(), "signal": action.signal.to_doc(),
                     "statuses": statuses, "last_active_at": stamp}
        incident = self.store.detection_update(latest.id, status=status, body=action.body,
                                               now=now, statuses=new, detection=detection)
        log.info("event=incident_%s page=%s id=%s", "grown" if isinstance(action, Grow)
                 else "reopened", page_id, latest.id)
        self._changed(incident)

    def _changed(self, incident: Incident) -> None:
        if self.on_incident is not None:
            self.on_incident(incident)


def _probe_onset(pairs: Iterable[tuple[Any, list[RegionState]]], regions: Iterable[str],
                 now: datetime) -> datetime:
    """When the first failing run in a failing region happened: it flipped at
    ``changed_at`` after ``failure_threshold`` failures in a row."""
    wanted = set(regions)
    onsets = []
    for monitor, states in pairs:
        for s in states:
            if s.region in wanted and s.changed_at is not None:
                back = timedelta(seconds=monitor.interval_s * max(0, monitor.failure_threshold - 1))
                onsets.append(s.changed_at - back)
    return min(onsets, default=now)
