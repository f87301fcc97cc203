"""The public HTML pages, rendered by HtmlRenderer and fetched through the app."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from html.parser import HTMLParser

import httpx
import pytest

from signalfire.domain.status import ComponentStatus, IncidentStatus
from signalfire.domain.uptime import DayUptime
from signalfire.publish.html import _pct, _uptime_description
from signalfire.sim.demo import seed_demo
from signalfire.web.app import create_app

BASE = "http://status.test"


class _Elements(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def fetch(app: object, *paths: str) -> list[httpx.Response]:
    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            return [await client.get(p) for p in paths]

    # A thread of its own: in a run that also drives the browser, Playwright's sync
    # API keeps an event loop running on the main thread, where asyncio.run refuses.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()


@pytest.fixture
def demo(store, clock):
    page_id = seed_demo(store, now=clock.now)
    return page_id, create_app(store, base_url=BASE, clock=clock, background=False)


def test_markdown_in_an_update_is_rendered_and_script_is_not(store, clock, demo) -> None:
    page_id, app = demo
    login = next(c for c in store.list_components(page_id) if c.name == "Login")
    incident = store.create_incident(
        page_id, name="Login errors", status=IncidentStatus.INVESTIGATING, now=clock.now,
        components={login.id: ComponentStatus.DEGRADED_PERFORMANCE},
        body="Logins **fail** for _some_ users.\n\n- web\n- apps\n\n"
             "<script>alert('pwned')</script>[details](javascript:alert(1))")

    status, incident_page = fetch(app, "/", f"/incidents/{incident.id}")

    for response in (status, incident_page):
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert "Logins <strong>fail</strong> for <em>some</em> users." in response.text
        assert "<li>web</li>" in response.text
        tags = _Elements(response.text).tags
        assert "script" not in {tag for tag, _ in tags}
        assert not any((attrs.get("href") or "").startswith("javascript:") for _, attrs in tags)
        assert not any(name.startswith("on") for _, attrs in tags for name in attrs)


def test_every_public_page_renders_as_html(store, clock, demo) -> None:
    page_id, app = demo
    items = store.list_incidents(page_id, kind=None)
    maintenance = next(i for i in items if i.is_maintenance)
    resolved = next(i for i in items if not i.is_open)
    paths = ["/", "/history", "/history?page=1", "/history?page=nope",
             f"/incidents/{maintenance.id}", f"/incidents/{resolved.id}"]

    for path, response in zip(paths, fetch(app, *paths), strict=True):
        assert response.status_code == 200, path
        assert response.text.startswith("<!doctype html>\n<html lang=\"en\">"), path
        assert response.text.count("<h1") == 1, path
        assert "<script" not in response.text, path


def test_an_uptime_chart_has_words_for_each_bad_day(store, clock, demo) -> None:
    page_id, app = demo
    (status,) = fetch(app, "/")
    charts = [a for tag, a in _Elements(status.text).tags if a.get("role") == "img"]
    assert len(charts) == len(store.list_components(page_id))
    described = {a["id"]: a for _, a in _Elements(status.text).tags if a.get("id")}
    for chart in charts:
        assert "uptime over the past 90 days" in (chart["aria-label"] or "")
        assert chart["aria-describedby"] in described


@pytest.mark.parametrize(("value", "shown"), [
    (100.0, "100.00%"),
    (99.996, "99.99%"),   # never rounded up to a perfect score
    (99.94, "99.94%"),    # 99.9399999… in binary, still 99.94
    (97.335, "97.33%"),
    (0.0, "0.00%"),
])
def test_uptime_is_shown_rounded_down(value: float, shown: str) -> None:
    assert _pct(value) == shown


def _day(n: int, status: ComponentStatus = ComponentStatus.OPERATIONAL, pct: float = 100.0,
         *, has_data: bool = True) -> DayUptime:
    return DayUptime(date(2026, 5, 1) + timedelta(days=n), has_data, pct, status, {})


@pytest.mark.parametrize(("days", "text"), [
    ([_day(0), _day(1)], "Operational on all of the past 2 days."),
    ([_day(0, has_data=False), _day(1)],
     "Operational on all of the past 2 days. No data for 1 day."),
    ([_day(0, ComponentStatus.MAJOR_OUTAGE, 91.114), _day(1),
      _day(2, ComponentStatus.DEGRADED_PERFORMANCE)],
     "Not fully operational on 2 of 3 days: May 1: major outage, 91.11% uptime; "
     "May 3: degraded performance, 100.00% uptime."),
])
def test_an_uptime_chart_is_described_in_words(days: list[DayUptime], text: str) -> None:
    assert _uptime_description(days) == text
