"""Server-rendered HTML of the public pages (Jinja2). Complete without JavaScript."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from signalfire import __version__
from signalfire.domain.model import Incident
from signalfire.domain.uptime import DayUptime
from signalfire.publish.view import PageView


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    v = value.astimezone(UTC)
    return f"{v:%b} {v.day}, {v:%Y} · {v:%H:%M} UTC"


def _day(value: date) -> str:
    v = value.astimezone(UTC) if isinstance(value, datetime) else value
    return f"{v:%B} {v.day}, {v:%Y}"


def _month(value: datetime) -> str:
    return f"{value.astimezone(UTC):%B %Y}"


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value else ""


def _duration(start: datetime, end: datetime | None) -> str:
    if end is None:
        return ""
    minutes = int((end - start).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days {hours % 24} h"


def _pct(value: float) -> str:
    # Rounded down: 99.996% shown as "100.00%" would deny an outage the bars show.
    # (The epsilon keeps 99.94, stored as 99.93999…, from becoming 99.93.)
    return f"{math.floor(value * 100 + 1e-6) / 100:.2f}%"


def _short_day(value: date) -> str:
    return f"{value:%b} {value.day}"


def _uptime_description(days: list[DayUptime]) -> str:
    """The bar chart in words, for screen readers: which days had trouble and how bad."""
    bad = [d for d in days if d.has_data and d.worst.severity > 0]
    missing = sum(1 for d in days if not d.has_data)
    parts = [f"{_short_day(d.day)}: {d.worst.label.lower()}, {_pct(d.uptime_pct)} uptime"
             for d in bad]
    if bad:
        text = f"Not fully operational on {len(bad)} of {len(days)} days: {'; '.join(parts)}."
    else:
        text = f"Operational on all of the past {len(days)} days."
    if missing:
        text += f" No data for {missing} {'day' if missing == 1 else 'days'}."
    return text


def _component_names(component_ids: tuple[str, ...], view: PageView) -> list[str]:
    """Names of the components an incident affects, skipping any deleted since."""
    return [c.name for c in map(view.component, component_ids) if c is not None]


def _markdown(text: str) -> Markup:
    from signalfire.publish.markdown import render_markdown

    return Markup(render_markdown(text))  # safe: render_markdown sanitises with an allowlist


class HtmlRenderer:
    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("signalfire.publish", "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True, lstrip_blocks=True,
        )
        self.env.filters.update(when=_when, day=_day, iso=_iso, markdown=_markdown, pct=_pct, month=_month,
                                component_names=_component_names)
        self.env.globals.update(duration=_duration, version=__version__,
                                uptime_description=_uptime_description)

    def _render(self, template: str, **context: Any) -> bytes:
        return self.env.get_template(template).render(**context).encode()

    def status_page(self, view: PageView, *, subscribe: bool = True) -> bytes:
        indicator, description = view.indicator
        return self._render(
            "status.html", v=view, page=view.page, indicator=indicator.value,
            description=description, groups=view.group_rows(),
            recent=view.recent_incidents(), base=view.base_url, subscribe=subscribe)

    def incident_page(self, view: PageView, incident: Incident) -> bytes:
        return self._render("incident.html", v=view, page=view.page, incident=incident,
                            base=view.base_url)

    def is_it_down_page(self, view: PageView, crowd: Any, *, window_min: int = 30) -> bytes:
        return self._render("is_it_down.html", v=view, page=view.page, crowd=crowd,
                            chart=crowd.chart, base=view.base_url, window_min=window_min)

    def subscription_page(self, page: Any, *, base: str, state: str, **context: Any) -> bytes:
        """The pages a subscriber's links lead to: pending, confirmed, manage, unsubscribe."""
        return self._render("subscription.html", page=page, base=base, state=state, **context)

    def history_page(self, view: PageView, incidents: list[Incident], *, number: int,
                     pages: int) -> bytes:
        return self._render("history.html", v=view, page=view.page, incidents=incidents,
                            number=number, pages=pages, base=view.base_url)
