"""Statuspage public API v2 documents, in its exact field names, enums and nesting.

Pure: takes records, returns plain dicts. Existing Statuspage clients (exporters,
chat integrations, dashboards) read these unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from signalfire.domain.model import Component, ComponentGroup, Incident, IncidentUpdate, Page
from signalfire.domain.rules import page_indicator
from signalfire.domain.status import MaintenanceStatus


def ts(value: datetime | None) -> str | None:
    """Statuspage writes times as ISO 8601 with milliseconds."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def page_doc(page: Page, *, base_url: str, updated_at: datetime | None) -> dict[str, Any]:
    return {
        "id": page.id,
        "name": page.name,
        "url": page.url or base_url,
        "time_zone": page.time_zone,
        "updated_at": ts(updated_at or page.updated_at),
    }


def component_doc(c: Component) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "status": c.status.value,
        "created_at": ts(c.created_at),
        "updated_at": ts(c.updated_at),
        "position": c.position,
        "description": c.description or None,
        "showcase": c.showcase,
        "start_date": c.start_date.date().isoformat() if c.start_date else None,
        "group_id": c.group_id,
        "page_id": c.page_id,
        "group": False,
        "only_show_if_degraded": c.only_show_if_degraded,
    }


def group_doc(g: ComponentGroup, members: Sequence[Component]) -> dict[str, Any]:
    """A group is listed as a component with ``group: true`` and its members' ids."""
    from signalfire.domain.status import worst_status

    return {
        "id": g.id,
        "name": g.name,
        "status": worst_status([m.status for m in members]).value,
        "created_at": ts(g.created_at),
        "updated_at": ts(g.updated_at),
        "position": g.position,
        "description": g.description or None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": g.page_id,
        "group": True,
        "only_show_if_degraded": False,
        "components": [m.id for m in members],
    }


def components_docs(groups: Sequence[ComponentGroup],
                    components: Sequence[Component]) -> list[dict[str, Any]]:
    """Components and groups in display order: each group, then its members."""
    by_group: dict[str | None, list[Component]] = {}
    for c in components:
        by_group.setdefault(c.group_id, []).append(c)
    docs: list[tuple[int, int, dict[str, Any]]] = []
    for g in groups:
        members = by_group.get(g.id, [])
        docs.append((g.position, 0, group_doc(g, members)))
        docs.extend((g.position, 1 + m.position, component_doc(m)) for m in members)
    docs.extend((c.position, 0, component_doc(c)) for c in by_group.get(None, []))
    return [d for _, _, d in sorted(docs, key=lambda x: (x[0], x[1]))]


def update_doc(u: IncidentUpdate) -> dict[str, Any]:
    return {
        "id": u.id,
        "status": u.status.value,
        "body": u.body,
        "incident_id": u.incident_id,
        "created_at": ts(u.created_at),
        "updated_at": ts(u.created_at),
        "display_at": ts(u.display_at),
        "affected_components": [
            {"code": a.component_id, "name": a.name, "old_status": a.old_status.value,
             "new_status": a.new_status.value}
            for a in u.affected_components
        ] or None,
        "deliver_notifications": True,
        "custom_tweet": None,
        "tweet_id": None,
    }


def incident_doc(i: Incident, components: dict[str, Component], *,
                 base_url: str) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": i.id,
        "name": i.name,
        "status": i.status.value,
        "created_at": ts(i.created_at),
        "updated_at": ts(i.updated_at),
        "monitoring_at": ts(i.monitoring_at),
        "resolved_at": ts(i.resolved_at),
        "impact": i.impact.value,
        "shortlink": f"{base_url}/incidents/{i.id}",
        "started_at": ts(i.started_at),
        "page_id": i.page_id,
        "incident_updates": [update_doc(u) for u in i.updates],
        "components": [component_doc(components[c]) for c in i.component_ids if c in components],
    }
    if i.is_maintenance:
        doc["scheduled_for"] = ts(i.scheduled_for)
        doc["scheduled_until"] = ts(i.scheduled_until)
    return doc


def status_doc(components: Sequence[Component], incidents: Sequence[Incident]) -> dict[str, str]:
    indicator, description = page_indicator(components, incidents)
    return {"indicator": indicator.value, "description": description}


def is_upcoming(m: Incident) -> bool:
    return m.status is MaintenanceStatus.SCHEDULED


def is_active(m: Incident) -> bool:
    return isinstance(m.status, MaintenanceStatus) and m.status.is_active
