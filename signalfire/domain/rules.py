"""The rules of incidents and maintenance: which status may follow which, and what
a page's indicator is given everything that is going on."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from signalfire.domain.model import Component, Incident
from signalfire.domain.status import (
    ComponentStatus,
    Impact,
    IncidentStatus,
    Indicator,
    MaintenanceStatus,
)
from signalfire.errors import TransitionError

_OPEN = {IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING}

# An open incident may move freely between its open states and to resolved; a
# resolved one may be reopened (the fix did not hold) or get its postmortem; a
# postmortem only takes further postmortem notes.
_INCIDENT_NEXT: dict[IncidentStatus, set[IncidentStatus]] = {
    **{s: _OPEN | {IncidentStatus.RESOLVED} for s in _OPEN},
    IncidentStatus.RESOLVED: _OPEN | {IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM},
    IncidentStatus.POSTMORTEM: {IncidentStatus.POSTMORTEM},
}

# Maintenance only moves forward; it may be completed (or cancelled) at any point.
_MAINTENANCE_ORDER = [
    MaintenanceStatus.SCHEDULED,
    MaintenanceStatus.IN_PROGRESS,
    MaintenanceStatus.VERIFYING,
    MaintenanceStatus.COMPLETED,
]


def check_incident_transition(old: IncidentStatus, new: IncidentStatus) -> None:
    if new not in _INCIDENT_NEXT[old]:
        raise TransitionError(
            f"an incident cannot go from {old.value!r} to {new.value!r}", field="status"
        )


def check_maintenance_transition(old: MaintenanceStatus, new: MaintenanceStatus) -> None:
    if _MAINTENANCE_ORDER.index(new) < _MAINTENANCE_ORDER.index(old) or (
        old is MaintenanceStatus.COMPLETED and new is not MaintenanceStatus.COMPLETED
    ):
        raise TransitionError(
            f"a maintenance cannot go from {old.value!r} back to {new.value!r}", field="status"
        )


def due_maintenance_status(m: Incident, now: datetime) -> MaintenanceStatus | None:
    """The status a maintenance window should move to by itself at ``now``, or None.

    It starts at ``scheduled_for`` and completes at ``scheduled_until``; an
    operator can still move it by hand earlier (verifying, or completing early).
    """
    if not isinstance(m.status, MaintenanceStatus):
        return None
    if m.status is MaintenanceStatus.SCHEDULED:
        if m.scheduled_until is not None and now >= m.scheduled_until:
            return MaintenanceStatus.COMPLETED
        if m.scheduled_for is not None and now >= m.scheduled_for:
            return MaintenanceStatus.IN_PROGRESS
    elif m.status.is_active and m.scheduled_until is not None and now >= m.scheduled_until:
        return MaintenanceStatus.COMPLETED
    return None


_INDICATOR_DESCRIPTION = {
    Indicator.NONE: "All Systems Operational",
    Indicator.MINOR: "Minor Service Outage",
    Indicator.MAJOR: "Partial System Outage",
    Indicator.CRITICAL: "Major Service Outage",
    Indicator.MAINTENANCE: "Service Under Maintenance",
}

_FROM_COMPONENT = {
    ComponentStatus.DEGRADED_PERFORMANCE: Indicator.MINOR,
    ComponentStatus.PARTIAL_OUTAGE: Indicator.MAJOR,
    ComponentStatus.MAJOR_OUTAGE: Indicator.CRITICAL,
}
_FROM_IMPACT = {Impact.MINOR: Indicator.MINOR, Impact.MAJOR: Indicator.MAJOR,
                Impact.CRITICAL: Indicator.CRITICAL}
_RANK = {Indicator.NONE: 0, Indicator.MAINTENANCE: 1, Indicator.MINOR: 2,
         Indicator.MAJOR: 3, Indicator.CRITICAL: 4}


def page_indicator(
    components: Iterable[Component], incidents: Iterable[Incident]
) -> tuple[Indicator, str]:
    """The page's indicator and its sentence, as Statuspage's ``status.json`` gives them.

    The worst of: each component's status, each open incident's impact, and any
    maintenance in progress. A page with nothing wrong but a window in progress
    says it is under maintenance.
    """
    worst = Indicator.NONE
    candidates: list[Indicator] = []
    for c in components:
        if c.status in _FROM_COMPONENT:
            candidates.append(_FROM_COMPONENT[c.status])
        elif c.status is ComponentStatus.UNDER_MAINTENANCE:
            candidates.append(Indicator.MAINTENANCE)
    for i in incidents:
        if isinstance(i.status, MaintenanceStatus):
            if i.status.is_active:
                candidates.append(Indicator.MAINTENANCE)
        elif i.status.is_open and i.impact in _FROM_IMPACT:
            candidates.append(_FROM_IMPACT[i.impact])
    for c in candidates:
        if _RANK[c] > _RANK[worst]:
            worst = c
    return worst, _INDICATOR_DESCRIPTION[worst]


def impact_for_components(statuses: Iterable[ComponentStatus]) -> Impact:
    """A sensible default impact for an incident from what it does to components."""
    worst = max((s.severity for s in statuses), default=0)
    if worst >= ComponentStatus.MAJOR_OUTAGE.severity:
        return Impact.CRITICAL
    if worst >= ComponentStatus.PARTIAL_OUTAGE.severity:
        return Impact.MAJOR
    if worst >= ComponentStatus.DEGRADED_PERFORMANCE.severity:
        return Impact.MINOR
    return Impact.NONE
