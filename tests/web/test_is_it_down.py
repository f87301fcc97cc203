"""The "is it down?" page in a real browser: a visitor reports a problem with and
without JavaScript, and the same person counts once per 30 minutes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CATEGORIES = [("login", "Login"), ("video", "Video playback"), ("upload", "Uploading")]


@pytest.fixture
def crowd_server(live_server: Any) -> Any:
    """The demo page, with problem categories (set here should the demo have none)."""
    if not live_server.store.report_categories(live_server.page_id):
        live_server.store.set_report_categories(live_server.page_id, CATEGORIES)
    return live_server


def categories(server: Any) -> list[tuple[str, str]]:
    return server.store.report_categories(server.page_id)


@pytest.fixture
def contexts(browser: Any) -> Iterator[list[Any]]:
    opened: list[Any] = []
    yield opened
    for context in opened:
        context.close()


def counted(server: Any, category: str) -> int:
    now = datetime.now(UTC)
    totals = dict(server.store.report_totals(server.page_id, since=now - timedelta(hours=1),
                                             until=now + timedelta(hours=1), by="category"))
    return totals.get(category, 0)


def open_page(browser: Any, contexts: list[Any], url: str, **options: Any) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    contexts.append(context)
    page = context.new_page()
    response = page.goto(url)
    assert response is not None and response.ok
    return page


def test_a_visitor_reports_a_problem_once_with_and_without_javascript(
        browser: Any, crowd_server: Any, contexts: list[Any]) -> None:
    url = crowd_server.url + "/is-it-down"
    page = open_page(browser, contexts, url)
    name = crowd_server.store.get_page(crowd_server.page_id).name
    assert page.get_by_role("heading", level=1).inner_text() == f"Is {name} down?"
    assert page.locator("svg.chart rect").count() == 96
    assert page.locator("svg.chart polyline").count() == 1
    honeypot = page.locator("input[name=website]").bounding_box()
    assert honeypot is not None and honeypot["x"] + honeypot["width"] < 0  # off-screen

    slug, label = categories(crowd_server)[1]
    form = page.locator("form.report-form")
    form.get_by_label("What is wrong?").select_option(label=label)
    form.get_by_role("button", name="Report a problem").click()
    expect(form.locator(".form-result")).to_have_text("Thanks, your report was counted.")
    assert page.url == url  # answered inline, no navigation
    assert counted(crowd_server, slug) == 1

    # Same machine, same browser: the same reporter within 30 minutes.
    plain = open_page(browser, contexts, url, java_script_enabled=False)
    form = plain.locator("form.report-form")
    form.get_by_label("What is wrong?").select_option(label=label)
    with plain.expect_navigation():
        form.get_by_role("button", name="Report a problem").click()
    assert plain.url == url + "?reported=1"
    assert plain.get_by_role("heading", level=1).inner_text() == f"Is {name} down?"

    assert crowd_server.store.count_raw_reports(crowd_server.page_id) == 2  # both arrived
    assert counted(crowd_server, slug) == 1  # the second did not count


def test_the_page_shows_the_chart_shares_and_countries(
        browser: Any, crowd_server: Any, contexts: list[Any]) -> None:
    from signalfire.domain.crowd import Report

    now = datetime.now(UTC)
    store, page_id = crowd_server.store, crowd_server.page_id
    (top, top_label), (other, _) = categories(crowd_server)[:2]
    reports = []
    for n in range(60):  # a burst now, against a trickle on the days before
        reports.append(Report(page_id=page_id, category=other if n % 3 == 0 else top,
                              at=now - timedelta(minutes=n % 12), reporter=f"now{n}",
                              country=["BR", "BR", "AR", "US", "MX"][n % 5]))
    for day in range(1, 8):
        for hour in range(0, 24, 2):
            reports.append(Report(page_id=page_id, category=other,
                                  at=now - timedelta(days=day, hours=hour), reporter=f"d{day}h{hour}",
                                  country="DE"))
    store.add_reports(reports)

    page = open_page(browser, contexts, crowd_server.url + "/is-it-down")
    name = store.get_page(page_id).name
    assert page.locator(".verdict-text").inner_text() == f"Users report problems with {name}"
    shares = page.locator(".shares li .share-label").all_inner_texts()
    assert shares[0] == top_label
    countries = page.locator("table.countries tbody td:first-child").all_inner_texts()
    assert countries[0] == "Brazil"

    # The thanks note is for those who come back from the form.
    assert not page.locator("#thanks").is_visible()
    page.goto(crowd_server.url + "/is-it-down?reported=1")
    expect(page.locator("#thanks")).to_be_visible()

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "is-it-down.png"), full_page=True)

    # On a phone at night: nothing wider than the screen, and the form at hand.
    phone = open_page(browser, contexts, crowd_server.url + "/is-it-down",
                      color_scheme="dark")
    phone.set_viewport_size({"width": 390, "height": 844})
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    background = phone.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")  # dark theme applied
    expect(phone.locator("form.report-form").get_by_role(
        "button", name="Report a problem")).to_be_visible()
    phone.screenshot(path=str(SCREENSHOTS / "is-it-down-phone-dark.png"), full_page=True)


def test_the_status_page_links_to_is_it_down(browser: Any, crowd_server: Any,
                                             contexts: list[Any]) -> None:
    page = open_page(browser, contexts, crowd_server.url + "/")
    name = crowd_server.store.get_page(crowd_server.page_id).name
    page.get_by_role("link", name=f"Is {name} down?").click()
    page.wait_for_load_state()
    assert page.url.endswith("/is-it-down")
