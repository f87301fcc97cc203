"""What subscribers and operators hear about, and who hears what.

An *event* is written in the same transaction as the change it tells of
(an incident opened, a component's status changed…), so a change is never
committed without its notifications, nor the other way round. Deliveries to
each subscriber are made from events later (the fan-out); these rules decide
which events reach whom. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class EventKind(StrEnum):
    INCIDENT_CREATED = "incident.created"
    INCIDENT_UPDATED = "incident.updated"
    INCIDENT_RESOLVED = "incident.resolved"
    INCIDENT_AUTO_DETECTED = "incident.auto_detected"  # operators first
    COMPONENT_STATUS = "component.status_changed"
    MAINTENANCE_SCHEDULED = "maintenance.scheduled"
    MAINTENANCE_STARTED = "maintenance.started"
    MAINTENANCE_COMPLETED = "maintenance.completed"
    POSTMORTEM_PUBLISHED = "postmortem.published"
    SUBSCRIPTION_CONFIRM = "subscription.confirm"  # the double opt-in message


class Audience(StrEnum):
    PUBLIC = "public"  # subscribers and operator channels
    OPERATORS = "operators"  # operator channels only (an unconfirmed automatic incident)
    DIRECT = "direct"  # the one subscriber the event is about (a confirmation)


INCIDENT_KINDS = frozenset({EventKind.INCIDENT_CREATED, EventKind.INCIDENT_UPDATED,
                            EventKind.INCIDENT_RESOLVED, EventKind.INCIDENT_AUTO_DETECTED,
                            EventKind.POSTMORTEM_PUBLISHED})
MAINTENANCE_KINDS = frozenset({EventKind.MAINTENANCE_SCHEDULED, EventKind.MAINTENANCE_STARTED,
                               EventKind.MAINTENANCE_COMPLETED})


@dataclass(frozen=True, slots=True)
class Interest:
    """What one subscriber or channel asked for."""

    all_components: bool = True
    component_ids: frozenset[str] = frozenset()
    kinds: frozenset[EventKind] | None = None  # None: every kind (channels may narrow it)
    operators: bool = False  # an operator channel hears operator-only events too


def hears(interest: Interest, kind: EventKind, audience: Audience,
          component_ids: Iterable[str]) -> bool:
    """Whether an event reaches someone with ``interest``.

    An event that names no component concerns the whole page and reaches
    every subscriber of it; one that names components reaches those who
    follow any of them."""
    if audience is Audience.DIRECT:
        return False  # only its own subscriber hears it, through the fan-out
    if audience is Audience.OPERATORS and not interest.operators:
        return False
    if interest.kinds is not None and kind not in interest.kinds:
        return False
    if interest.all_components:
        return True
    named = frozenset(component_ids)
    return not named or bool(named & interest.component_ids)


def coalesce_key(kind: EventKind, subject_id: str) -> str:
    """Messages with the same key to the same subscriber may be merged into one
    when they come faster than the page's interval: the subscriber gets the
    latest state, once, rather than a burst of intermediate ones."""
    if kind in INCIDENT_KINDS or kind in MAINTENANCE_KINDS:
        return f"incident:{subject_id}"
    return f"component:{subject_id}"


def holds(kind: EventKind) -> bool:
    """Whether a message waits out the coalescing interval before it is sent.

    The first word about something goes at once; follow-ups wait a little so
    that a quick run of them reaches people as one message."""
    return kind in (EventKind.INCIDENT_UPDATED, EventKind.COMPONENT_STATUS)
