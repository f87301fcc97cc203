"""The records Signalfire keeps, as plain frozen dataclasses. All datetimes are aware UTC."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from signalfire.domain.status import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus


@dataclass(frozen=True, slots=True)
class Page:
    id: str
    slug: str
    name: str
    url: str = ""
    time_zone: str = "Etc/UTC"
    description: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ComponentGroup:
    id: str
    page_id: str
    name: str
    description: str = ""
    position: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Component:
    id: str
    page_id: str
    name: str
    status: ComponentStatus = ComponentStatus.OPERATIONAL
    description: str = ""
    group_id: str | None = None
    position: int = 0
    only_show_if_degraded: bool = False
    showcase: bool = True
    start_date: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AffectedComponent:
    """One component's status as one update of an incident left it."""

    component_id: str
    name: str
    old_status: ComponentStatus
    new_status: ComponentStatus


@dataclass(frozen=True, slots=True)
class IncidentUpdate:
    id: str
    incident_id: str
    status: IncidentStatus | MaintenanceStatus
    body: str
    created_at: datetime
    display_at: datetime
    affected_components: tuple[AffectedComponent, ...] = ()


@dataclass(frozen=True, slots=True)
class Incident:
    """An incident, or (``is_maintenance``) a scheduled maintenance window."""

    id: str
    page_id: str
    name: str
    status: IncidentStatus | MaintenanceStatus
    impact: Impact
    created_at: datetime
    updated_at: datetime
    started_at: datetime
    resolved_at: datetime | None = None
    monitoring_at: datetime | None = None
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None
    auto_detected: bool = False
    component_ids: tuple[str, ...] = ()
    updates: tuple[IncidentUpdate, ...] = field(default=())
    imported_from: str | None = None
    # When the trouble began, was detected, acknowledged by a person and first
    # shown to the public: the timeline a postmortem is written from.
    onset_at: datetime | None = None
    detected_at: datetime | None = None
    acknowledged_at: datetime | None = None
    first_public_update_at: datetime | None = None
    published: bool = True
    dismissed_at: datetime | None = None
    # Scope and evidence of an incident the engine opened (``detected_at`` set).
    detection: Mapping[str, Any] | None = None

    @property
    def is_public(self) -> bool:
        """Shown on the status page and the public API: not held back for a
        person's confirmation and not dismissed as a false alarm."""
        return self.published and self.dismissed_at is None

    @property
    def is_maintenance(self) -> bool:
        return isinstance(self.status, MaintenanceStatus)

    @property
    def is_open(self) -> bool:
        if isinstance(self.status, MaintenanceStatus):
            return self.status is not MaintenanceStatus.COMPLETED
        return self.status.is_open


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A component entered ``status`` at ``at``: the history that uptime is computed from."""

    component_id: str
    status: ComponentStatus
    at: datetime
