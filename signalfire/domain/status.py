"""Status enums, their order of severity, and how a page's indicator follows from them.

The values are Atlassian Statuspage's, so that its clients read a Signalfire page
unchanged.
"""

from __future__ import annotations

from enum import StrEnum


class ComponentStatus(StrEnum):
    OPERATIONAL = "operational"
    UNDER_MAINTENANCE = "under_maintenance"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"

    @property
    def severity(self) -> int:
        return _COMPONENT_SEVERITY[self]

    @property
    def label(self) -> str:
        return _COMPONENT_LABEL[self]

    @property
    def is_up(self) -> bool:
        """Counts as available for uptime: maintenance is announced, so it is not downtime."""
        return self in (ComponentStatus.OPERATIONAL, ComponentStatus.UNDER_MAINTENANCE,
                        ComponentStatus.DEGRADED_PERFORMANCE)


_COMPONENT_SEVERITY = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.UNDER_MAINTENANCE: 1,
    ComponentStatus.DEGRADED_PERFORMANCE: 2,
    ComponentStatus.PARTIAL_OUTAGE: 3,
    ComponentStatus.MAJOR_OUTAGE: 4,
}

_COMPONENT_LABEL = {
    ComponentStatus.OPERATIONAL: "Operational",
    ComponentStatus.UNDER_MAINTENANCE: "Under maintenance",
    ComponentStatus.DEGRADED_PERFORMANCE: "Degraded performance",
    ComponentStatus.PARTIAL_OUTAGE: "Partial outage",
    ComponentStatus.MAJOR_OUTAGE: "Major outage",
}


def worst_status(statuses: list[ComponentStatus] | tuple[ComponentStatus, ...]) -> ComponentStatus:
    """The most severe of ``statuses``; operational when there are none."""
    return max(statuses, key=lambda s: s.severity, default=ComponentStatus.OPERATIONAL)


class IncidentStatus(StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    POSTMORTEM = "postmortem"

    @property
    def is_open(self) -> bool:
        return self not in (IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM)

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Impact(StrEnum):
    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"
    # Only scheduled maintenance carries this one, as on Statuspage.
    MAINTENANCE = "maintenance"

    @property
    def severity(self) -> int:
        return {"none": 0, "maintenance": 0, "minor": 1, "major": 2, "critical": 3}[self.value]


INCIDENT_IMPACTS = (Impact.NONE, Impact.MINOR, Impact.MAJOR, Impact.CRITICAL)


class MaintenanceStatus(StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    VERIFYING = "verifying"
    COMPLETED = "completed"

    @property
    def is_active(self) -> bool:
        return self in (MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING)

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Indicator(StrEnum):
    """The page-wide indicator of Statuspage's ``status.json``."""

    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"
    MAINTENANCE = "maintenance"
