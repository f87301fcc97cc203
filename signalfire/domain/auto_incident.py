"""Automatic incidents: when a signal opens one, grows it, resolves it, reopens it.

One automatic incident per page at a time; ``step`` decides, from the page's
latest automatic incident (``Tracked``, read back from the store every minute)
and this minute's situation (``Situation``), the one thing to do:

- nothing is open and a signal above the page's threshold is not explained by
  anything people already know about → **Open** (published at once, or held
  back until a person confirms it, by the page's setting);
- it is open and the signal goes on → **Grow** when its scope widened or a
  component got worse, else **KeepAlive** (the quiet clock restarts);
- it is open and nothing was seen for the quiet period → **Resolve**;
- it was resolved less than the reopen window ago and the signal comes back
  after a quiet spell → **Reopen** the same incident (no flapping);
- it was dismissed as a false alarm → **Mute** while that episode lasts; only
  a new episode (after a quiet period) opens a new incident.

What people already know about explains a signal: components under an open
incident of their own or under maintenance are taken out of its scope, and a
signal left with none of its components is not news. Reports that name no
component are explained by any open public incident or maintenance on the page.

Keeping an incident alive needs half the threshold it took to open it, so a
signal hovering at the threshold does not resolve and reopen minute by minute.

Pure: the time is ``Situation.now``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from signalfire.domain.model import Incident
from signalfire.domain.signals import Evidence, Signal, Source
from signalfire.domain.status import ComponentStatus, IncidentStatus

# A signal seen again after at least this long without it is a new trigger.
RETRIGGER_GAP = timedelta(seconds=150)


class PublishMode(StrEnum):
    AUTO = "auto"  # public at once
    CONFIRM = "confirm"  # internal until a person confirms it


@dataclass(frozen=True, slots=True)
class DetectionSettings:
    enabled: bool = False
    detector: str = "counts"
    threshold: float = 0.6
    publish: PublishMode = PublishMode.AUTO
    quiet_period_s: float = 15 * 60
    reopen_window_s: float = 60 * 60
    min_count: int = 5
    history_days: int = 7
    regions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # region → countries
    categories: Mapping[str, str] = field(default_factory=dict)  # category slug → component name

    def to_doc(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "detector": self.detector, "threshold": self.threshold,
                "publish": self.publish.value, "quiet_period_s": self.quiet_period_s,
                "reopen_window_s": self.reopen_window_s, "min_count": self.min_count,
                "history_days": self.history_days,
                "regions": {r: list(c) for r, c in self.regions.items()},
                "categories": dict(self.categories)}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> DetectionSettings:
        if not doc:
            return cls()
        d = cls()
        return cls(
            enabled=bool(doc.get("enabled", d.enabled)),
            detector=str(doc.get("detector", d.detector)),
            threshold=float(doc.get("threshold", d.threshold)),
            publish=PublishMode(doc.get("publish", d.publish.value)),
            quiet_period_s=float(doc.get("quiet_period_s", d.quiet_period_s)),
            reopen_window_s=float(doc.get("reopen_window_s", d.reopen_window_s)),
            min_count=int(doc.get("min_count", d.min_count)),
            history_days=int(doc.get("history_days", d.history_days)),
            regions={str(r): tuple(str(c) for c in cs)
                     for r, cs in (doc.get("regions") or {}).items()},
            categories={str(k): str(v) for k, v in (doc.get("categories") or {}).items()})


@dataclass(frozen=True, slots=True)
class Scope:
    """What an automatic incident is about."""

    components: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    statuses: Mapping[str, ComponentStatus] = field(default_factory=dict)

    def covers(self, other: Scope) -> bool:
        """Whether ``other`` adds nothing worth an update. Countries come and go by
        the dozen in a large outage; they are recorded, not announced one by one."""
        return (other.components <= self.components and other.regions <= self.regions
                and other.categories <= self.categories
                and all(self.statuses.get(c) is not None
                        and self.statuses[c].severity >= s.severity
                        for c, s in other.statuses.items()))

    def union(self, other: Scope) -> Scope:
        statuses = dict(self.statuses)
        for c, s in other.statuses.items():
            if c not in statuses or s.severity > statuses[c].severity:
                statuses[c] = s
        return Scope(self.components | other.components, self.regions | other.regions,
                     self.countries | other.countries, self.categories | other.categories,
                     statuses)

    def to_doc(self) -> dict[str, Any]:
        return {"components": sorted(self.components), "regions": sorted(self.regions),
                "countries": sorted(self.countries), "categories": sorted(self.categories),
                "statuses": {c: s.value for c, s in sorted(self.statuses.items())}}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Scope:
        return cls(frozenset(doc.get("components", ())), frozenset(doc.get("regions", ())),
                   frozenset(doc.get("countries", ())), frozenset(doc.get("categories", ())),
                   {c: ComponentStatus(s) for c, s in (doc.get("statuses") or {}).items()})


@dataclass(frozen=True, slots=True)
class Tracked:
    """The page's latest automatic incident, as far as detection cares."""

    incident_id: str
    open: bool
    dismissed: bool
    resolved_at: datetime | None
    last_active_at: datetime | None
    scope: Scope
    reopenable: bool = True  # False once it has its postmortem

    @classmethod
    def from_incident(cls, incident: Incident) -> Tracked:
        doc = incident.detection or {}
        last = doc.get("last_active_at")
        return cls(incident_id=incident.id, open=incident.is_open,
                   dismissed=incident.dismissed_at is not None,
                   resolved_at=incident.resolved_at,
                   last_active_at=datetime.fromisoformat(last) if last else None,
                   scope=Scope.from_doc(doc),
                   reopenable=incident.status is not IncidentStatus.POSTMORTEM)


@dataclass(frozen=True, slots=True)
class Situation:
    now: datetime
    signal: Signal | None
    # Components under another open incident (people know) or under maintenance.
    known_components: frozenset[str] = frozenset()
    maintenance_components: frozenset[str] = frozenset()
    # Another open public incident, or maintenance in progress, on the page.
    known_trouble: bool = False
    # component id → name, and "category:<slug>" → the category's label
    names: Mapping[str, str] = field(default_factory=dict)


# -- actions -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Open:
    name: str
    body: str
    scope: Scope
    signal: Signal
    publish: bool
    onset_at: datetime


@dataclass(frozen=True, slots=True)
class Grow:
    incident_id: str
    body: str
    scope: Scope  # the whole scope now
    added: Scope  # what is new (its statuses are the ones to set)
    signal: Signal


@dataclass(frozen=True, slots=True)
class KeepAlive:
    incident_id: str
    signal: Signal
    scope: Scope | None = None  # the scope to record, when it widened quietly


@dataclass(frozen=True, slots=True)
class Resolve:
    incident_id: str
    body: str


@dataclass(frozen=True, slots=True)
class Reopen:
    incident_id: str
    body: str
    scope: Scope
    signal: Signal


@dataclass(frozen=True, slots=True)
class Mute:
    """The dismissed incident's episode goes on: remember it was seen, do nothing."""

    incident_id: str
    signal: Signal


Action = Open | Grow | KeepAlive | Resolve | Reopen | Mute


def attributable(signal: Signal | None, situation: Situation,
                 ) -> tuple[Scope, datetime, tuple[Evidence, ...]] | None:
    """The part of ``signal`` nobody knows about yet, with its onset and its
    evidence; None if it is all explained.

    Probe evidence about a known component is explained, and so are reports
    from countries whose region's probes see a known component down (users in
    Brazil report because uploads fail in sa-east, which people are on). The
    onset is the earliest unexplained evidence; while something known is going
    on, page-wide series (all reports, a category) are left out of it, since
    they may have been rising since the known trouble began.
    """
    if signal is None:
        return None
    taken = situation.known_components | situation.maintenance_components
    components = frozenset(signal.components) - taken
    if signal.components and not components:
        return None
    if not signal.components and situation.known_trouble:
        return None
    explained_regions = {r for e in signal.evidence
                         if e.source is Source.PROBES and e.component_id in taken
                         for r in e.regions}
    unexplained = [e for e in signal.evidence if not (
        (e.source is Source.PROBES and e.component_id in taken)
        or (e.source is Source.REPORTS and e.regions
            and set(e.regions) <= explained_regions))]
    placed = [e for e in unexplained if e.source is Source.PROBES or e.country
              or e.component_id]
    timed = placed if situation.known_trouble and placed else unexplained
    onset = min((e.onset_at for e in timed), default=signal.onset_at)
    scope = Scope(components=components,
                  regions=frozenset(r for e in unexplained for r in e.regions),
                  countries=frozenset(e.country for e in unexplained if e.country),
                  categories=frozenset(e.category for e in unexplained if e.category),
                  statuses={c: s for c, s in signal.statuses.items() if c in components})
    return scope, onset, tuple(unexplained)


def step(settings: DetectionSettings, tracked: Tracked | None,
         situation: Situation) -> Action | None:
    """The one thing to do about the page's automatic incident this minute."""
    now, signal = situation.now, situation.signal
    found = attributable(signal, situation)
    scope, onset, evidence = found if found is not None else (None, now, ())
    opening = scope is not None and signal is not None and signal.confidence >= settings.threshold
    going_on = scope is not None and signal is not None and (
        signal.confidence >= settings.threshold / 2)
    quiet = timedelta(seconds=settings.quiet_period_s)

    def open_new() -> Open | None:
        if not opening:
            return None
        assert scope is not None and signal is not None
        return Open(name=incident_name(scope, situation.names),
                    body=opening_body(scope, evidence, situation.names), scope=scope,
                    signal=signal, publish=settings.publish is PublishMode.AUTO,
                    onset_at=onset)

    if tracked is None:
        return open_new()
    assert signal is not None or not going_on
    if tracked.dismissed:
        last = tracked.last_active_at
        if going_on and last is not None and now - last < quiet:
            return Mute(tracked.incident_id, signal)  # type: ignore[arg-type]
        return open_new()
    if tracked.open:
        if going_on:
            assert scope is not None and signal is not None
            if tracked.scope.covers(scope):
                return KeepAlive(tracked.incident_id, signal, tracked.scope.union(scope))
            added = _added(tracked.scope, scope)
            return Grow(tracked.incident_id, growth_body(added, situation.names),
                        tracked.scope.union(scope), added, signal)
        last = tracked.last_active_at
        if last is None or now - last >= quiet:
            minutes = round(settings.quiet_period_s / 60)
            return Resolve(tracked.incident_id,
                           f"No sign of the problem for {minutes} minutes: it is resolved.")
        return None
    # Resolved (by the engine or by a person).
    if not going_on:
        return None
    assert signal is not None and scope is not None
    fresh = tracked.last_active_at is None or now - tracked.last_active_at >= RETRIGGER_GAP
    if not opening or not fresh:
        # Still the episode that was resolved (a person resolved it while the
        # signal went on): remember it was seen, reopen nothing.
        return KeepAlive(tracked.incident_id, signal)
    window = timedelta(seconds=settings.reopen_window_s)
    if (tracked.reopenable and tracked.resolved_at is not None
            and now - tracked.resolved_at <= window):
        return Reopen(tracked.incident_id,
                      "The problem is back: " + evidence_sentence(evidence) + ". "
                      "We are investigating again.", tracked.scope.union(scope), signal)
    return open_new()


def _added(old: Scope, new: Scope) -> Scope:
    statuses = {c: s for c, s in new.statuses.items()
                if c not in old.statuses or s.severity > old.statuses[c].severity}
    return Scope(new.components - old.components, new.regions - old.regions,
                 new.countries - old.countries, new.categories - old.categories, statuses)


# -- words ---------------------------------------------------------------------------------

def _names(ids: frozenset[str], names: Mapping[str, str]) -> list[str]:
    return sorted(names.get(i, i) for i in ids)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def incident_name(scope: Scope, names: Mapping[str, str]) -> str:
    components = _names(scope.components, names)
    if not components:
        return "Users report problems"
    return f"Problems with {_join(components)}"


def where(scope: Scope, names: Mapping[str, str]) -> str:
    parts = []
    if scope.components:
        parts.append(f"with {_join(_names(scope.components, names))}")
    if scope.countries:
        parts.append(f"for users in {_join(sorted(scope.countries))}")
    if scope.regions:
        parts.append(f"seen from {_join(sorted(scope.regions))}")
    return " ".join(parts)


def evidence_sentence(evidence: Sequence[Evidence], *, limit: int = 4) -> str:
    return "; ".join(e.summary for e in evidence[:limit])


def opening_body(scope: Scope, evidence: Sequence[Evidence], names: Mapping[str, str]) -> str:
    place = where(scope, names)
    return (f"We detected a problem{' ' + place if place else ''} and are investigating. "
            f"Evidence: {evidence_sentence(evidence)}.")


def growth_body(added: Scope, names: Mapping[str, str]) -> str:
    parts = []
    if added.components:
        parts.append(_join(_names(added.components, names)))
    if added.countries:
        parts.append("users in " + _join(sorted(added.countries)))
    if added.regions:
        parts.append("the " + _join(sorted(added.regions)) + " region"
                     + ("s" if len(added.regions) > 1 else ""))
    worse = [f"{names.get(c, c)} now has a {s.label.lower()}"
             for c, s in sorted(added.statuses.items()) if c not in added.components]
    if parts:
        text = f"The problem now also affects {_join(parts)}."
    elif added.categories:
        text = ""
    else:
        text = "The problem got worse."
    if added.categories:
        labels = sorted(names.get(f"category:{c}", c) for c in added.categories)
        text += f" Users report it too: {_join(labels)}."
    if worse:
        text += f" {_join(worse)}."
    return text.strip()
