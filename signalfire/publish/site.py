"""The public site of each page: which documents exist, how each is rendered, and
which writes make it stale.

Every public document is rendered once into bytes and served from the cache
until a write touches one of its *topics* (``components``, ``incidents``,
``maintenance``, ``incident:<id>``, ``page``) or it grows older than its
``max_age_s`` (for the parts that move with the clock: "today" in uptime bars).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from signalfire.domain.model import Page
from signalfire.errors import NotFound
from signalfire.publish import statuspage as sp
from signalfire.publish.view import PageView, load_view
from signalfire.store import Store

JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    content_type: str
    topics: frozenset[str]
    max_age_s: int = 60
    status: int = 200
    etag: str = field(default="")

    @staticmethod
    def make(body: bytes, content_type: str, topics: set[str], *, max_age_s: int = 60,
             status: int = 200) -> Rendered:
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        return Rendered(body, content_type, frozenset(topics), max_age_s, status, etag)


def topics_for(page_id: str, *names: str) -> set[str]:
    return {f"{page_id}:{n}" for n in names} | {f"{page_id}:page"}


def _json(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


_INCIDENT_PATH = re.compile(r"^/incidents/([a-z0-9]{1,32})$")
_BADGE_PATH = re.compile(r"^/badges/([a-z0-9]{1,32})/(uptime|response-time)\.svg$")
HISTORY_PAGE_SIZE = 20


class Publisher:
    """Renders a page's public documents from the Store."""

    def __init__(self, store: Store, *, base_url: str, clock: Callable[[], datetime],
                 html: Any | None = None, report_window_min: int = 30,
                 email_subscriptions: bool = True) -> None:
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.html = html
        self.report_window_min = report_window_min  # told to people on the report form
        # The subscribe form shows only where email can be sent (an SMTP server is set).
        self.email_subscriptions = email_subscriptions
        self._routes: dict[str, Callable[[Page, Mapping[str, str]], Rendered]] = {
            "/api/v2/summary.json": self.summary,
            "/api/v2/status.json": self.status,
            "/api/v2/components.json": self.components,
            "/api/v2/incidents.json": self.incidents,
            "/api/v2/incidents/unresolved.json": self.unresolved,
            "/api/v2/scheduled-maintenances.json": self.maintenances,
            "/api/v2/scheduled-maintenances/upcoming.json": self.upcoming,
            "/api/v2/scheduled-maintenances/active.json": self.active,
            "/history.rss": self.rss,
            "/history.atom": self.atom,
            "/badge.svg": self.badge,
            "/": self.status_page,
            "/history": self.history_page,
            "/is-it-down": self.is_it_down_page,
            "/is-it-down.json": self.is_it_down_json,
        }

    def page_url(self, page: Page, default_page_id: str | None) -> str:
        return self.base_url if page.id == default_page_id else f"{self.base_url}/p/{page.slug}"

    def is_public_path(self, path: str) -> bool:
        return (path in self._routes or bool(_INCIDENT_PATH.match(path))
                or bool(_BADGE_PATH.match(path)))

    def render(self, page: Page, path: str, query: Mapping[str, str], *,
               page_url: str) -> Rendered:
        handler = self._routes.get(path)
        if handler is not None:
            return handler(page, query, page_url)  # type: ignore[call-arg]
        match = _INCIDENT_PATH.match(path)
        if match:
            return self.incident_page(page, match.group(1), page_url)
        match = _BADGE_PATH.match(path)
        if match:
            return self.component_badge(page, match.group(1), match.group(2))
        raise NotFound(f"no public document at {path!r}")

    # -- Statuspage v2 JSON -------------------------------------------------------

    def _view(self, page: Page, page_url: str) -> PageView:
        return load_view(self.store, page, now=self.clock(), base_url=page_url)

    def summary(self, page: Page, query: Mapping[str, str], page_url: str) -> Rendered:
        v = self._view(page, page_url)
        doc = {
            "page": v.page_doc,
            "components": v.components_docs,
            "incidents": [v.incident_doc(i) for i in v.open_incidents],
            "scheduled_maintenances": [v.incident_doc(m) for m in v.active_maintenance
                                       + v.upcoming_maintenance],
            "status": v.status_doc,
        }
        return Rendered.make(_json(doc), JSON,
                             topics_for(page.id, "components", "incidents", "maintenance"))

    def status(self, page: Page, query: Mapping[str, str], page_url: str) -> Rendered:
        v = self._view(page, page_url)
        return Rendered.make(_json({"page": v.page_doc, "status": v.status_doc}), JSON,
                             topics_for(page.id, "components", "incidents", "maintenance"))

    def components(self, page: Page, query: Mapping[str, str], page_url: str) -> Rendered:
        v = self._view(page, page_url)
        return Rendered.make(_json({"page": v.page_doc, "components": v.components_docs}), JSON,
                             topics_for(page.id, "components"))

    def _incident_list(self, page: Page, page_url: str, *, kind: str, key: str,
                       select: Callable[[Any], bool] | None = None,
                       open_only: bool = False) -> Rendered:
        v = self._view(page, page_url)
        items = self.store.list_incidents(page.id, kind=kind, open_only=open_only, limit=50,
                                         public_only=True)
        if select is not None:
            items = [i for i in items if select(i)]
        doc = {"page": v.page_doc, key: [v.incident_doc(i) for i in items]}
        topic = "incidents" if kind == "incident" else "maintenance"
        return Rendered.make(_json(doc), JSON, topics_for(page.id, topic, "components"))

    def incidents(self, page: Page, query: Mapping[str, str], page_url: str) -> Rendered:
        return self._incident_list(page, page_url, kind="incident", key="incidents")

    def unresolved(self, page: Page, query: Mapping[str, str], page_url: str) -> Rendered:
        return self._incident_list(page, page_url, kind="incident", key="incidents",
                                   open_only=True)

    def maintenances(self, page: Page, query: Mapping[str, str], page_url: str) -> Rendered:
        return self._incident_list(page, page_url, kind="maintenance",
                                   key="scheduled_maintenances")

    def upcoming(self, page: Page, query: Mapping[str, str], page_url: str) -> Rendered:
        return self._incident_list(page, page_url, kind="maintenance",
                                   key="scheduled_maintenances", select=sp.is_upcoming,
                                   open_only=True)

    def active(self, page: Page, query: Mapping[str, str], page_url: str) -> Rendered:
        return self._incident_list(page, page_url, kind="maintenance",
                                   key="scheduled_maintenances", select=sp.is_active,
                                   open_only=True)

    # -- feeds and badge ------------------------------------------------------------

    def rss(self, page: Page, query: Mapping[str, str], page_url: str) -> Rendered:
        from signalfire.publish.feeds import incidents_rss

        items = self.store.list_incidents(page.id, kind=None, limit=50, public_only=True)
        return Rendered.make(incidents_rss(page, items, base_url=page_url),
                             "application/rss+xml; charset=utf-8",
                             topics_for(page.id, "incidents", "maintenance"))

    def atom(self, page: Page, query: Mapping[str, str], page_url: str) -> Rendered:
        from signalfire.publish.feeds import incidents_atom

        items = self.store.list_incidents(page.id, kind=None, limit=50, public_only=True)
        return Rendered.make(incidents_atom(page, items, base_url=page_url),
                             "application/atom+xml; charset=utf-8",
                             topics_for(page.id, "incidents", "maintenance"))

    def badge(self, page: Page, query: Mapping[str, str], page_url: str) -> Rendered:
        from signalfire.domain.status import Indicator
        from signalfire.publish.badge import status_badge

        v = self._view(page, page_url)
        svg = status_badge(page.name, Indicator(v.status_doc["indicator"]),
                           v.status_doc["description"])
        return Rendered.make(svg, "image/svg+xml; charset=utf-8",
                             topics_for(page.id, "components", "incidents", "maintenance"))

    def component_badge(self, page: Page, component_id: str, kind: str) -> Rendered:
        """A component's 30-day uptime or 24-hour p95 response time, from its probes."""
        from signalfire.domain.rollup import pooled_percentile, uptime_pct
        from signalfire.domain.uptime import daily_uptime, window_uptime_pct
        from signalfire.publish.badge import response_time_badge, uptime_badge

        component = self.store.get_component(component_id)
        if component.page_id != page.id:
            raise NotFound(f"no component {component_id!r} on this page", field="component_id")
        now = self.clock()
        monitors = [m.id for m in self.store.list_monitors(page_id=page.id)
                    if m.component_id == component_id]
        if kind == "uptime":
            since = now - timedelta(days=30)
            value = uptime_pct(self.store.buckets(monitors, width_s=86400, since=since))
            if value is None:  # no probes: from the status history, as the page's bars
                history = self.store.status_history([component_id], since)[component_id]
                value = window_uptime_pct(daily_uptime(history, days=30, now=now))
            svg = uptime_badge(f"{component.name} uptime", value)
        else:
            hours = self.store.buckets(monitors, width_s=3600, since=now - timedelta(hours=24))
            svg = response_time_badge(f"{component.name} p95", pooled_percentile(hours, 95))
        return Rendered.make(svg, "image/svg+xml; charset=utf-8",
                             topics_for(page.id, "components"), max_age_s=300)

    # -- HTML -------------------------------------------------------------------------

    def status_page(self, page: Page, query: Mapping[str, str], page_url: str) -> Rendered:
        v = self._view(page, page_url)
        body = (self.html.status_page(v, subscribe=self.email_subscriptions)
                if self.html else b"")
        return Rendered.make(body, HTML,
                             topics_for(page.id, "components", "incidents", "maintenance"))

    def history_page(self, page: Page, query: Mapping[str, str], page_url: str) -> Rendered:
        v = self._view(page, page_url)
        try:
            number = max(1, int(query.get("page", "1")))
        except ValueError:
            number = 1
        total = self.store.count_incidents(page.id, public_only=True)
        items = self.store.list_incidents(page.id, kind="incident", limit=HISTORY_PAGE_SIZE,
                                          offset=(number - 1) * HISTORY_PAGE_SIZE,
                                          public_only=True)
        pages = max(1, -(-total // HISTORY_PAGE_SIZE))
        if number > pages:
            raise NotFound(f"the history has {pages} page{'s' if pages != 1 else ''}",
                           field="page")
        body = self.html.history_page(v, items, number=number, pages=pages) if self.html else b""
        return Rendered.make(body, HTML, topics_for(page.id, "incidents"), max_age_s=300)

    # Crowd reports never invalidate a document (one per report would defeat the
    # cache in an outage, when both are busiest): these pages just expire quickly.

    def is_it_down_page(self, page: Page, query: Mapping[str, str], page_url: str) -> Rendered:
        from signalfire.publish.crowd_view import crowd_view

        v = self._view(page, page_url)
        crowd = crowd_view(self.store, page, now=self.clock())
        body = (self.html.is_it_down_page(v, crowd, window_min=self.report_window_min)
                if self.html else b"")
        return Rendered.make(body, HTML, topics_for(page.id, "reports"), max_age_s=10)

    def is_it_down_json(self, page: Page, query: Mapping[str, str], page_url: str) -> Rendered:
        from signalfire.publish.crowd_view import crowd_view

        crowd = crowd_view(self.store, page, now=self.clock())
        return Rendered.make(_json(crowd.to_doc()), JSON, topics_for(page.id, "reports"),
                             max_age_s=10)

    def incident_page(self, page: Page, incident_id: str, page_url: str) -> Rendered:
        incident = self.store.get_incident(incident_id)
        if incident.page_id != page.id or not incident.is_public:
            raise NotFound(f"no incident {incident_id!r} on this page", field="incident_id")
        v = self._view(page, page_url)
        body = self.html.incident_page(v, incident) if self.html else b""
        return Rendered.make(body, HTML, topics_for(page.id, f"incident:{incident_id}"),
                             max_age_s=300)
