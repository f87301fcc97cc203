"""Server-rendered HTML of the public pages (Jinja2). Complete without JavaScript."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from signalfire import __version__
from signalfire.domain.model import Incident
from signalfire.publish.view import PageView


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    v = value.astimezone(timezone.utc)
    return f"{v:%b} {v.day}, {v:%Y} · {v:%H:%M} UTC"


def _day(value: datetime) -> str:
    v = value.astimezone(timezone.utc)
    return f"{v:%B} {v.day}, {v:%Y}"


def _iso(value: datetime | None) -> str:
    return value.astimezone(timezone.utc).isoformat() if value else ""


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


def _markdown(text: str) -> Markup:
    from signalfire.publish.markdown import render_markdown

    return Markup(render_markdown(text))  # noqa: S704 - sanitised by render_markdown


class HtmlRenderer:
    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("signalfire.publish", "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True, lstrip_blocks=True,
        )
        self.env.filters.update(when=_when, day=_day, iso=_iso, markdown=_markdown)
        self.env.globals.update(duration=_duration, version=__version__)

    def _render(self, template: str, **context: Any) -> bytes:
        return self.env.get_template(template).render(**context).encode()

    def status_page(self, view: PageView) -> bytes:
        indicator, description = view.indicator
        return self._render(
            "status.html", v=view, page=view.page, indicator=indicator.value,
            description=description, groups=view.group_rows(),
            recent=view.recent_incidents(), base=view.base_url)

    def incident_page(self, view: PageView, incident: Incident) -> bytes:
        return self._render("incident.html", v=view, page=view.page, incident=incident,
                            base=view.base_url)

    def history_page(self, view: PageView, incidents: list[Incident], *, number: int,
                     pages: int) -> bytes:
        return self._render("history.html", v=view, page=view.page, incidents=incidents,
                            number=number, pages=pages, base=view.base_url)
