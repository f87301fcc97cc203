"""One page as the public sees it at one moment: the data behind the HTML and the JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any

from signalfire.domain.model import Component, ComponentGroup, Incident, Page
from signalfire.domain.rules import page_indicator
from signalfire.domain.status import ComponentStatus, Indicator, MaintenanceStatus
from signalfire.domain.uptime import (
    DayUptime,
    daily_uptime,
    window_uptime_pct,
    with_probe_checks,
)
from signalfire.publish import statuspage as sp
from signalfire.store import Store

UPTIME_DAYS = 90
RECENT_DAYS = 7


@dataclass(frozen=True, slots=True)
class ComponentRow:
    component: Component
    days: list[DayUptime]
    uptime_pct: float | None


@dataclass(frozen=True, slots=True)
class GroupRow:
    group: ComponentGroup | None
    rows: list[ComponentRow]

    @property
    def status(self) -> ComponentStatus:
        from signalfire.domain.status import worst_status

        return worst_status([r.component.status for r in self.rows])


@dataclass
class PageView:
    store: Store
    page: Page
    now: datetime
    base_url: str
    groups: list[ComponentGroup]
    components: list[Component]
    open_incidents: list[Incident]
    maintenance: list[Incident]
    _by_id: dict[str, Component] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_id = {c.id: c for c in self.components}

    @property
    def updated_at(self) -> datetime | None:
        stamps = [c.updated_at for c in self.components if c.updated_at]
        stamps += [i.updated_at for i in self.open_incidents + self.maintenance]
        if self.page.updated_at:
            stamps.append(self.page.updated_at)
        return max(stamps, default=None)

    @cached_property
    def page_doc(self) -> dict[str, Any]:
        return sp.page_doc(self.page, base_url=self.base_url, updated_at=self.updated_at)

    @cached_property
    def components_docs(self) -> list[dict[str, Any]]:
        return sp.components_docs(self.groups, self.components)

    @cached_property
    def indicator(self) -> tuple[Indicator, str]:
        return page_indicator(self.components, self.open_incidents + self.maintenance)

    @property
    def status_doc(self) -> dict[str, str]:
        indicator, description = self.indicator
        return {"indicator": indicator.value, "description": description}

    def incident_doc(self, incident: Incident) -> dict[str, Any]:
        return sp.incident_doc(incident, self._by_id, base_url=self.base_url)

    def component(self, component_id: str) -> Component | None:
        return self._by_id.get(component_id)

    @property
    def active_maintenance(self) -> list[Incident]:
        return [m for m in self.maintenance if isinstance(m.status, MaintenanceStatus)
                and m.status.is_active]

    @property
    def upcoming_maintenance(self) -> list[Incident]:
        return sorted((m for m in self.maintenance if m.status is MaintenanceStatus.SCHEDULED),
                      key=lambda m: m.scheduled_for or m.started_at)

    def group_rows(self, *, days: int = UPTIME_DAYS) -> list[GroupRow]:
        """Groups in order with their visible components and per-day uptime."""
        visible = [c for c in self.components
                   if not c.only_show_if_degraded or c.status is not ComponentStatus.OPERATIONAL]
        since = self.now - timedelta(days=days)
        history = self.store.status_history([c.id for c in visible], since)
        probe_days = self._probe_checks_by_day(since)

        def row(c: Component) -> ComponentRow:
            d = daily_uptime(history[c.id], days=days, now=self.now)
            if c.id in probe_days:
                d = with_probe_checks(d, probe_days[c.id])
            return ComponentRow(c, d, window_uptime_pct(d))

        result = []
        for g in self.groups:
            rows = [row(c) for c in visible if c.group_id == g.id]
            if rows:
                result.append(GroupRow(g, rows))
        loose = [row(c) for c in visible if c.group_id is None]
        if loose:
            result.append(GroupRow(None, loose))
        return result

    def _probe_checks_by_day(self, since: datetime) -> dict[str, dict[date, tuple[int, int]]]:
        """(checks, failures) per component and day, from the monitors' day rollups."""
        monitors = [m for m in self.store.list_monitors(page_id=self.page.id) if m.component_id]
        if not monitors:
            return {}
        component_of = {m.id: m.component_id for m in monitors}
        out: dict[str, dict[date, tuple[int, int]]] = {}
        for b in self.store.buckets(component_of, width_s=86400, since=since):
            per_day = out.setdefault(component_of[b.monitor_id], {})
            checks, failures = per_day.get(b.start.date(), (0, 0))
            per_day[b.start.date()] = (checks + b.checks, failures + b.failures)
        return out

    def recent_incidents(self, *, days: int = RECENT_DAYS) -> list[Incident]:
        since = self.now - timedelta(days=days)
        return [i for i in self.store.list_incidents(self.page.id, kind="incident", limit=50,
                                                            public_only=True)
                if not i.is_open and (i.resolved_at or i.started_at) >= since]


def load_view(store: Store, page: Page, *, now: datetime, base_url: str) -> PageView:
    open_items = store.list_incidents(page.id, kind=None, open_only=True, public_only=True)
    return PageView(
        store=store, page=page, now=now, base_url=base_url,
        groups=store.list_groups(page.id), components=store.list_components(page.id),
        open_incidents=[i for i in open_items if not i.is_maintenance],
        maintenance=[i for i in open_items if i.is_maintenance],
    )
