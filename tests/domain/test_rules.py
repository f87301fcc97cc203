from datetime import UTC, datetime, timedelta

import pytest

from signalfire.domain.model import Component, Incident
from signalfire.domain.rules import (
    check_incident_transition,
    check_maintenance_transition,
    due_maintenance_status,
    impact_for_components,
    page_indicator,
)
from signalfire.domain.status import (
    ComponentStatus as C,
)
from signalfire.domain.status import (
    Impact,
    Indicator,
    worst_status,
)
from signalfire.domain.status import (
    IncidentStatus as I,
)
from signalfire.domain.status import (
    MaintenanceStatus as M,
)
from signalfire.errors import TransitionError

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def comp(status: C) -> Component:
    return Component(id="c", page_id="p", name="c", status=status)


def inc(status, impact=Impact.MINOR, **kw) -> Incident:
    return Incident(id="i", page_id="p", name="i", status=status, impact=impact,
                    created_at=T0, updated_at=T0, started_at=T0, **kw)


def test_severity_orders_statuses():
    assert worst_status([C.OPERATIONAL, C.MAJOR_OUTAGE, C.DEGRADED_PERFORMANCE]) is C.MAJOR_OUTAGE
    assert worst_status([]) is C.OPERATIONAL
    assert C.UNDER_MAINTENANCE.severity < C.DEGRADED_PERFORMANCE.severity


@pytest.mark.parametrize("components, incidents, expected", [
    ([], [], (Indicator.NONE, "All Systems Operational")),
    ([C.DEGRADED_PERFORMANCE], [], (Indicator.MINOR, "Minor Service Outage")),
    ([C.PARTIAL_OUTAGE], [], (Indicator.MAJOR, "Partial System Outage")),
    ([C.MAJOR_OUTAGE, C.DEGRADED_PERFORMANCE], [], (Indicator.CRITICAL, "Major Service Outage")),
    ([C.UNDER_MAINTENANCE], [], (Indicator.MAINTENANCE, "Service Under Maintenance")),
    ([], [inc(I.INVESTIGATING, Impact.MAJOR)], (Indicator.MAJOR, "Partial System Outage")),
    ([], [inc(I.RESOLVED, Impact.CRITICAL)], (Indicator.NONE, "All Systems Operational")),
    ([], [inc(I.INVESTIGATING, Impact.NONE)], (Indicator.NONE, "All Systems Operational")),
    ([], [inc(M.IN_PROGRESS, Impact.MAINTENANCE)], (Indicator.MAINTENANCE,
                                                    "Service Under Maintenance")),
    ([], [inc(M.SCHEDULED, Impact.MAINTENANCE)], (Indicator.NONE, "All Systems Operational")),
    ([C.DEGRADED_PERFORMANCE], [inc(M.IN_PROGRESS, Impact.MAINTENANCE)],
     (Indicator.MINOR, "Minor Service Outage")),
])
def test_page_indicator_is_the_worst_of_everything(components, incidents, expected):
    assert page_indicator([comp(c) for c in components], incidents) == expected


@pytest.mark.parametrize("old, new, allowed", [
    (I.INVESTIGATING, I.IDENTIFIED, True),
    (I.MONITORING, I.INVESTIGATING, True),
    (I.INVESTIGATING, I.RESOLVED, True),
    (I.INVESTIGATING, I.POSTMORTEM, False),
    (I.RESOLVED, I.POSTMORTEM, True),
    (I.RESOLVED, I.INVESTIGATING, True),
    (I.POSTMORTEM, I.INVESTIGATING, False),
    (I.POSTMORTEM, I.POSTMORTEM, True),
])
def test_incident_transitions(old, new, allowed):
    if allowed:
        check_incident_transition(old, new)
    else:
        with pytest.raises(TransitionError):
            check_incident_transition(old, new)


@pytest.mark.parametrize("old, new, allowed", [
    (M.SCHEDULED, M.IN_PROGRESS, True),
    (M.SCHEDULED, M.COMPLETED, True),
    (M.IN_PROGRESS, M.VERIFYING, True),
    (M.VERIFYING, M.IN_PROGRESS, False),
    (M.COMPLETED, M.IN_PROGRESS, False),
    (M.IN_PROGRESS, M.SCHEDULED, False),
])
def test_maintenance_transitions(old, new, allowed):
    if allowed:
        check_maintenance_transition(old, new)
    else:
        with pytest.raises(TransitionError):
            check_maintenance_transition(old, new)


def test_maintenance_is_due_at_its_times():
    m = inc(M.SCHEDULED, Impact.MAINTENANCE, scheduled_for=T0, scheduled_until=T0 + timedelta(hours=1))
    assert due_maintenance_status(m, T0 - timedelta(seconds=1)) is None
    assert due_maintenance_status(m, T0) is M.IN_PROGRESS
    assert due_maintenance_status(m, T0 + timedelta(hours=2)) is M.COMPLETED
    running = inc(M.VERIFYING, Impact.MAINTENANCE, scheduled_for=T0,
                  scheduled_until=T0 + timedelta(hours=1))
    assert due_maintenance_status(running, T0 + timedelta(minutes=30)) is None
    assert due_maintenance_status(running, T0 + timedelta(hours=1)) is M.COMPLETED
    assert due_maintenance_status(inc(I.INVESTIGATING), T0) is None


@pytest.mark.parametrize("statuses, impact", [
    ([], Impact.NONE),
    ([C.OPERATIONAL], Impact.NONE),
    ([C.DEGRADED_PERFORMANCE], Impact.MINOR),
    ([C.PARTIAL_OUTAGE, C.DEGRADED_PERFORMANCE], Impact.MAJOR),
    ([C.MAJOR_OUTAGE], Impact.CRITICAL),
])
def test_default_impact_follows_components(statuses, impact):
    assert impact_for_components(statuses) is impact
