"""A visitor subscribes on the status page, confirms from the email, hears of an
incident, and unsubscribes in one click: a real browser, a real SMTP server."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from web_live import LiveServer, serve_demo

from signalfire.domain.status import IncidentStatus
from signalfire.notify.transports import SmtpConfig
from signalfire.sim.mailbox import Mailbox

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox().start()
    yield box
    box.stop()


@pytest.fixture
def site(tmp_path: Path, mailbox: Mailbox) -> Iterator[LiveServer]:
    with serve_demo(tmp_path, notify=True, notify_hold_s=0,
                    smtp=SmtpConfig(host="127.0.0.1", port=mailbox.port,
                                    sender="status@clipstream.example")) as server:
        yield server


def wait_for_mail(box: Mailbox, count: int, timeout_s: float = 15.0) -> list[Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if len(box.messages) >= count:
            return [m for _, m in reversed(box.messages)]  # oldest first
        time.sleep(0.1)
    pytest.fail(f"expected {count} emails, got {len(box.messages)}")


def test_a_visitor_subscribes_confirms_hears_and_leaves(browser: Any, site: LiveServer,
                                                        mailbox: Mailbox) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(site.url + "/")
        page.get_by_role("link", name="Get updates by email").click()
        form = page.locator("form.sub-form")
        form.get_by_label("Email address").fill("visitor@example.com")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("#subscribe").screenshot(path=str(SCREENSHOTS / "subscribe-form.png"))
        form.get_by_role("button", name="Subscribe").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")

        (confirm,) = wait_for_mail(mailbox, 1)
        assert confirm["To"] == "visitor@example.com"
        link = re.search(r"(http://\S+/subscriptions/confirm\?token=\S+)",
                         confirm.get_body(("plain",)).get_content())
        assert link is not None
        page.goto(link.group(1))
        expect(page.get_by_role("heading", level=1)).to_have_text("You are subscribed")
        page.screenshot(path=str(SCREENSHOTS / "subscribed.png"), full_page=True)
        page.get_by_role("link", name="Choose components or unsubscribe").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your subscription")
        page.get_by_label("Only these components:").check()
        page.locator(".sub-components label").first.locator("input").check()
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_have_text("Saved.")
        page.screenshot(path=str(SCREENSHOTS / "manage-subscription.png"), full_page=True)
        (subscriber,) = site.store.list_subscribers(site.page_id)
        assert subscriber.component_ids is not None and len(subscriber.component_ids) == 1
        site.store.subscribe(site.page_id, kind="email", address=subscriber.address,
                             now=datetime.now(UTC), confirmed=True)  # back to everything

        site.store.create_incident(site.page_id, name="Uploads are failing",
                                   status=IncidentStatus.INVESTIGATING,
                                   body="We are on it.", now=datetime.now(UTC))
        news = wait_for_mail(mailbox, 2)[1]
        assert "Uploads are failing" in news["Subject"]
        unsubscribe = news["List-Unsubscribe"].strip("<>")
        page.goto(unsubscribe)
        page.get_by_role("button", name="Unsubscribe").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Unsubscribed")
        page.screenshot(path=str(SCREENSHOTS / "unsubscribed.png"), full_page=True)
        assert site.store.list_subscribers(site.page_id) == []
    finally:
        context.close()
