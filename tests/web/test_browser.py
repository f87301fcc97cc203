"""The public pages in a real browser, as a visitor sees them on a bad day.

Each test opens the demo page (an incident on "Video upload" going on now, a
maintenance window tomorrow, 90 days of history) in Debian's Chromium. The
screenshots land in ``artifacts/screenshots/`` for a person to look at; the
assertions are what must hold whatever the page looks like.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from signalfire.domain.status import IncidentStatus

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
INCIDENT = "Video uploads failing in some countries"
LATEST_UPDATE = "A storage region serving Latin America rejects new objects."
FIRST_UPDATE = "Uploads fail with Something went wrong for users in Brazil"

# Group (None: components outside any group) -> its components, in page order.
COMPONENTS = [
    ("Watching", ["Feed", "Live"]),
    ("Creating", ["Video upload"]),
    ("Account and social", ["Login", "Messaging"]),
    (None, ["App", "API"]),
]

# WCAG 2.x contrast of every visible piece of text against what is behind it.
CONTRAST_FAILURES_JS = """() => {
  const rgba = (css) => {
    const m = css.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, below) => [0, 1, 2].map(i => top[i] * top[3] + below[i] * (1 - top[3]));
  const background = (el) => {
    const chain = [];
    for (let e = el; e; e = e.parentElement) chain.unshift(e);
    let color = [255, 255, 255];
    for (const e of chain) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) color = over(c, color);
    }
    return color;
  };
  const luminance = (rgb) => {
    const [r, g, b] = rgb.map(v => {
      v /= 255;
      return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const failures = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    const el = walker.currentNode.parentElement;
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!text || box.width === 0 || box.right < 0 || style.visibility === 'hidden') continue;
    if (el.closest('.visually-hidden')) continue;
    const bg = background(el);
    const fg = over(rgba(style.color), bg);
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (parseInt(style.fontWeight) >= 700 && size >= 18.66);
    const needed = large ? 3 : 4.5;
    if (ratio < needed) failures.push(`${text.slice(0, 40)}: ${ratio.toFixed(2)} < ${needed}`);
  }
  return failures;
}"""


@pytest.fixture
def visit(browser: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """Open a path of the live server in a fresh browser context (options as Playwright's)."""
    contexts = []

    def open_page(path: str = "/", **options: Any) -> Any:
        context = browser.new_context(**{"viewport": {"width": 1280, "height": 900},
                                         **options})
        contexts.append(context)
        page = context.new_page()
        response = page.goto(live_server.url + path)
        assert response is not None and response.ok, f"GET {path} failed"
        return page

    yield open_page
    for context in contexts:
        context.close()


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def heading_levels(page: Any) -> list[int]:
    return page.eval_on_selector_all(
        "h1, h2, h3, h4, h5, h6", "els => els.map(e => Number(e.tagName[1]))")


def assert_headings_in_order(page: Any) -> None:
    levels = heading_levels(page)
    assert levels[0] == 1 and levels.count(1) == 1, levels
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, f"heading level jumps from h{before} to h{after}: {levels}"


def test_a_visitor_sees_the_incident_components_and_maintenance(visit: Any) -> None:
    page = visit("/")

    banner = page.get_by_role("heading", level=1)
    assert banner.inner_text() == "Partial System Outage"

    incident = page.get_by_role("region", name=INCIDENT)
    assert incident.get_by_role("link", name=INCIDENT).is_visible()
    updates = incident.locator(".update")
    assert updates.count() == 2
    assert LATEST_UPDATE in updates.first.inner_text()
    assert updates.first.locator(".update-status").inner_text() == "Identified"

    components = page.get_by_role("region", name=re.compile("^Components"))
    groups = components.locator(".group")
    assert groups.count() == len(COMPONENTS)
    for n, (group_name, names) in enumerate(COMPONENTS):
        group = groups.nth(n)
        if group_name is not None:
            assert group.locator(".group-name").inner_text().startswith(group_name)
        rows = group.locator(".component")
        assert rows.locator(".component-name").all_inner_texts() == names
        for row, name in zip(rows.all(), names, strict=True):
            expected = "Partial outage" if name == "Video upload" else "Operational"
            assert row.locator(".component-head .status").inner_text() == expected
            assert row.locator(".bar").count() == 90
            bars = row.get_by_role("img", name=re.compile(rf"^{name}: \d+\.\d\d% uptime"))
            assert bars.count() == 1

    creating = groups.nth(1).locator(".group-name .status")
    assert creating.inner_text() == "Partial outage"

    upcoming = page.get_by_role("region", name="Scheduled maintenance")
    assert upcoming.get_by_role("link", name="Login service upgrade").is_visible()
    assert "Users who are signed in stay signed in." in upcoming.inner_text()

    screenshot(page, "status-light.png")


def test_the_incident_page_shows_the_timeline_newest_first(visit: Any) -> None:
    page = visit("/")
    page.get_by_role("link", name=INCIDENT).click()
    page.wait_for_load_state()

    assert re.search(r"/incidents/[a-z0-9]{12}$", page.url)
    assert page.get_by_role("heading", level=1).inner_text().startswith(INCIDENT)
    updates = page.locator(".timeline .update")
    assert updates.count() == 2
    assert updates.locator(".update-status").all_inner_texts() == ["Identified", "Investigating"]
    assert LATEST_UPDATE in updates.nth(0).inner_text()
    assert FIRST_UPDATE in updates.nth(1).inner_text()
    times = updates.locator("time").evaluate_all("els => els.map(e => e.dateTime)")
    assert times == sorted(times, reverse=True)

    affected = page.locator(".facts").get_by_text("Video upload", exact=True)
    assert affected.is_visible()
    assert_headings_in_order(page)

    screenshot(page, "incident.png")


def test_history_lists_past_incidents_page_by_page(visit: Any, live_server: Any) -> None:
    # The demo has 12 incidents; 15 more make the history two pages of 20.
    now = datetime.now(UTC)
    for n in range(15):
        at = now - timedelta(days=100 + n)
        incident = live_server.store.create_incident(
            live_server.page_id, name=f"Old incident {n}", status=IncidentStatus.INVESTIGATING,
            body="Something **old** broke.", now=at)
        live_server.store.add_update(incident.id, status=IncidentStatus.RESOLVED,
                                     body="Fixed.", now=at + timedelta(minutes=30))

    page = visit("/")
    page.get_by_role("link", name="History", exact=True).click()
    page.wait_for_load_state()

    assert page.url.endswith("/history")
    assert page.get_by_role("heading", level=1).inner_text() == "Incident history"
    pager = page.get_by_role("navigation", name="History pages")
    assert "Page 1 of 2" in pager.inner_text()
    titles = page.locator(".past-incident h3").all_inner_texts()
    assert len(titles) == 20
    assert titles[0] == INCIDENT  # newest first, the open one included
    assert "Live streams dropping" in titles
    newest = live_server.store.list_incidents(live_server.page_id, limit=1)[0]
    months = page.get_by_role("heading", level=2).all_inner_texts()
    assert months[0] == f"{newest.started_at:%B %Y}"  # grouped by month, newest first
    assert len(months) == len(set(months)) >= 3
    assert_headings_in_order(page)
    screenshot(page, "history.png")

    pager.get_by_role("link", name=re.compile("Older")).click()
    page.wait_for_load_state()
    assert page.url.endswith("/history?page=2")
    assert "Page 2 of 2" in pager.inner_text()
    older = page.locator(".past-incident h3").all_inner_texts()
    assert len(older) == 7
    assert older[-1] == "Old incident 14"
    assert pager.get_by_role("link", name=re.compile("Newer")).is_visible()
    assert pager.get_by_role("link", name=re.compile("Older")).count() == 0


def test_a_phone_never_scrolls_sideways(visit: Any, live_server: Any) -> None:
    page = visit("/", viewport={"width": 390, "height": 844}, is_mobile=True,
                 device_scale_factor=2, has_touch=True)
    incident = page.get_by_role("link", name=INCIDENT).get_attribute("href")
    for url in (live_server.url + "/history", incident, live_server.url + "/"):
        page.goto(url)
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow == 0, f"{url} scrolls {overflow}px sideways at 390px"
    # Phones show the last 30 days, and the legend says so.
    row = page.locator(".component").first
    assert row.locator(".bar:visible").count() == 30
    assert row.locator(".bars-legend").inner_text().startswith("30 days ago")
    screenshot(page, "status-mobile.png")


def test_dark_mode_has_a_dark_background_and_readable_text(visit: Any) -> None:
    page = visit("/", color_scheme="dark")
    bg = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    red, green, blue = (int(x) for x in re.findall(r"\d+", bg)[:3])
    assert max(red, green, blue) < 60, f"dark mode background is {bg}"
    assert page.evaluate(CONTRAST_FAILURES_JS) == []
    screenshot(page, "status-dark.png")


@pytest.mark.parametrize("path", ["/", "/history"])
def test_light_mode_text_is_readable(visit: Any, path: str) -> None:
    page = visit(path, color_scheme="light")
    assert page.evaluate(CONTRAST_FAILURES_JS) == []


# One of each status text and each banner, appended to the page: the demo shows
# only some of them, and a colour nobody sees today is the one that fails on the bad day.
ALL_STATUS_COLOURS_JS = """() => {
  const main = document.querySelector('main');
  const card = document.createElement('div');
  card.className = 'group';
  for (const s of ['operational', 'degraded_performance', 'partial_outage', 'major_outage',
                   'under_maintenance']) {
    card.insertAdjacentHTML('beforeend', `<p><span class="status s-${s}">${s}</span></p>`);
  }
  main.appendChild(card);
  for (const i of ['none', 'minor', 'major', 'critical', 'maintenance']) {
    main.insertAdjacentHTML('beforeend',
      `<section class="banner i-${i}"><h2>${i}</h2><p>Last change</p></section>`);
  }
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_status_colour_is_readable(visit: Any, scheme: str) -> None:
    page = visit("/", color_scheme=scheme)
    page.evaluate(ALL_STATUS_COLOURS_JS)
    assert page.evaluate(CONTRAST_FAILURES_JS) == []


def test_the_incident_page_is_readable_in_both_schemes(visit: Any) -> None:
    href = visit("/").get_by_role("link", name=INCIDENT).get_attribute("href")
    for scheme in ("light", "dark"):
        incident = visit(urlsplit(href).path, color_scheme=scheme)
        assert incident.evaluate(CONTRAST_FAILURES_JS) == [], scheme


def test_the_page_is_complete_without_javascript(visit: Any) -> None:
    page = visit("/", java_script_enabled=False)
    assert page.locator("script").count() == 0
    assert page.get_by_role("heading", level=1).inner_text() == "Partial System Outage"
    assert page.get_by_text(LATEST_UPDATE).is_visible()
    assert page.locator(".component").count() == 7
    assert page.get_by_role("link", name="Login service upgrade").is_visible()
    page.get_by_role("link", name=INCIDENT).click()
    page.wait_for_load_state()
    assert page.locator(".timeline .update").count() == 2


def test_the_page_has_landmarks_headings_and_text_for_every_colour(visit: Any) -> None:
    page = visit("/")
    assert page.locator("html").get_attribute("lang") == "en"
    for role in ("banner", "main", "contentinfo"):
        assert page.get_by_role(role).count() == 1, role
    assert page.get_by_role("navigation").count() >= 1
    assert_headings_in_order(page)

    # Colour is never the only carrier: every coloured status has its words, and
    # every bar chart has a name and a description a screen reader reads out.
    for status in page.locator(".status").all():
        assert status.inner_text().strip()
    charts = page.get_by_role("img")
    assert charts.count() == 7
    for chart in charts.all():
        expect(chart).to_have_accessible_name(
            re.compile(r"^[\w ]+: \d+\.\d\d% uptime over the past 90 days$"))
        expect(chart).to_have_accessible_description(
            re.compile(r"^(Operational on all of the past 90 days|Not fully operational on \d+ "
                       r"of 90 days: .+)\.$"))
    video = page.get_by_role("img", name=re.compile("^Video upload"))
    expect(video).to_have_accessible_description(re.compile(r"\w{3} \d+: partial outage, "
                                                            r"\d+\.\d\d% uptime\.$"))


def test_keyboard_focus_is_visible(visit: Any) -> None:
    page = visit("/")
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.inner_text() == "Skip to content"
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, "the skip link stays off screen"
    for _ in range(3):
        page.keyboard.press("Tab")
        outline = page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }")
        assert outline[0] != "none" and outline[1] >= 2, outline
