"""The incident history feeds, read back with feedparser as feed readers would."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta, timezone

import feedparser
import pytest

from signalfire.domain.model import Incident, IncidentUpdate, Page
from signalfire.domain.status import Impact, IncidentStatus, MaintenanceStatus
from signalfire.publish.feeds import format_utc, incidents_atom, incidents_rss, timeline_html

BASE = "https://status.example.com"
T0 = datetime(2026, 3, 9, 14, 5, tzinfo=UTC)
PAGE = Page(id="p1", slug="acme", name="Acme", created_at=T0 - timedelta(days=30),
            updated_at=T0 - timedelta(days=2))


def make_incident(incident_id: str, name: str, steps: list[tuple[object, str, datetime]],
                  **fields: object) -> Incident:
    updates = tuple(
        IncidentUpdate(id=f"{incident_id}-u{n}", incident_id=incident_id, status=status,
                       body=body, created_at=at, display_at=at)
        for n, (status, body, at) in enumerate(reversed(steps)))  # stored newest first
    return Incident(id=incident_id, page_id=PAGE.id, name=name, status=steps[-1][0],
                    impact=Impact.MAJOR, created_at=steps[0][2], updated_at=steps[-1][2],
                    started_at=steps[0][2], updates=updates, **fields)


LOGIN = make_incident("login1", "Login failures & timeouts", [
    (IncidentStatus.INVESTIGATING, "Users cannot **log in**.", T0),
    (IncidentStatus.IDENTIFIED, "A bad certificate was deployed.", T0 + timedelta(minutes=20)),
    (IncidentStatus.RESOLVED, "Fixed; logins work again.", T0 + timedelta(hours=1, minutes=2)),
])
UPLOAD = make_incident("upload1", "Slow video uploads", [
    (IncidentStatus.INVESTIGATING, "Uploads are slow.", T0 - timedelta(days=3)),
    (IncidentStatus.RESOLVED, "Back to normal.", T0 - timedelta(days=3, hours=-2)),
])
MAINTENANCE = make_incident("db1", "Database upgrade", [
    (MaintenanceStatus.SCHEDULED, "We will upgrade the database.", T0 - timedelta(days=9)),
    (MaintenanceStatus.IN_PROGRESS, "Upgrading.", T0 - timedelta(days=8)),
    (MaintenanceStatus.COMPLETED, "Done.", T0 - timedelta(days=8, hours=-1)),
])
EVIL = make_incident("evil1", "<script>alert('title')</script>", [
    (IncidentStatus.INVESTIGATING,
     "<script>alert(1)</script> <img src=x onerror=alert(2)> [click](javascript:alert(3))", T0),
])

FEEDS = [pytest.param(incidents_atom, "atom10", id="atom"),
         pytest.param(incidents_rss, "rss20", id="rss")]


def utc(parsed: object) -> datetime:
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)  # type: ignore[arg-type]


def content_of(entry: feedparser.FeedParserDict) -> str:
    if "content" in entry:
        return entry["content"][0]["value"]
    return entry["summary"]


@pytest.mark.parametrize(("render", "version"), FEEDS)
def test_each_incident_is_an_entry_in_the_order_given(render, version):
    feed = feedparser.parse(render(PAGE, [LOGIN, UPLOAD, MAINTENANCE], base_url=BASE))
    assert not feed.bozo
    assert feed.version == version
    assert feed.feed.title == "Acme - Incident History"
    assert feed.feed.link == f"{BASE}/"
    assert [e.title for e in feed.entries] == [
        "Login failures & timeouts", "Slow video uploads", "Database upgrade"]
    assert [e.link for e in feed.entries] == [
        f"{BASE}/incidents/login1", f"{BASE}/incidents/upload1", f"{BASE}/incidents/db1"]
    assert [e.id for e in feed.entries] == [e.link for e in feed.entries]


def test_atom_entries_carry_published_and_updated():
    feed = feedparser.parse(incidents_atom(PAGE, [LOGIN, UPLOAD], base_url=BASE))
    entry = feed.entries[0]
    assert utc(entry.published_parsed) == T0
    assert utc(entry.updated_parsed) == T0 + timedelta(hours=1, minutes=2)
    assert utc(feed.feed.updated_parsed) == LOGIN.updated_at


def test_rss_items_carry_the_publication_date():
    feed = feedparser.parse(incidents_rss(PAGE, [LOGIN, UPLOAD], base_url=BASE))
    assert utc(feed.entries[0].published_parsed) == T0
    assert utc(feed.entries[1].published_parsed) == UPLOAD.created_at
    assert feed.feed.updated == "Mon, 09 Mar 2026 15:07:00 +0000"


@pytest.mark.parametrize(("render", "version"), FEEDS)
def test_content_is_the_timeline_newest_first(render, version):
    html = content_of(feedparser.parse(render(PAGE, [LOGIN], base_url=BASE)).entries[0])
    texts = ["Fixed; logins work again.", "A bad certificate was deployed.",
             "<strong>log in</strong>"]
    positions = [html.index(t) for t in texts]
    assert positions == sorted(positions)
    for label in ("Resolved", "Identified", "Investigating"):
        assert f"<strong>{label}</strong>" in html
    assert "Mar 9, 2026, 14:05 UTC" in html
    assert "Mar 9, 2026, 15:07 UTC" in html


def test_maintenance_updates_use_their_own_labels():
    html = timeline_html(MAINTENANCE)
    assert "<strong>Completed</strong>" in html
    assert "<strong>In progress</strong>" in html
    assert "<strong>Scheduled</strong>" in html


@pytest.mark.parametrize(("render", "version"), FEEDS)
def test_a_malicious_body_is_sanitised_in_the_feed(render, version):
    raw = render(PAGE, [EVIL], base_url=BASE)
    # The raw XML escapes the HTML once; nothing in it may be live markup.
    entry = feedparser.parse(raw, sanitize_html=False).entries[0]
    html = content_of(entry)
    assert "<script" not in html
    assert "<img" not in html
    assert "javascript:" not in html.replace("[click](javascript:alert(3))", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert entry.title == "<script>alert('title')</script>"


def test_the_timeline_escapes_nothing_twice():
    html = timeline_html(EVIL)
    assert "&amp;lt;" not in html


def test_an_empty_history_is_still_a_valid_feed_with_a_fixed_date():
    for render in (incidents_atom, incidents_rss):
        first = render(PAGE, [], base_url=BASE + "/")
        assert first == render(PAGE, [], base_url=BASE + "/")
        feed = feedparser.parse(first)
        assert not feed.bozo
        assert feed.entries == []
        assert feed.feed.link == f"{BASE}/"


def test_the_same_history_gives_the_same_bytes():
    assert incidents_atom(PAGE, [LOGIN], base_url=BASE) == incidents_atom(PAGE, [LOGIN],
                                                                          base_url=BASE)


def test_the_self_link_names_the_feed():
    atom = feedparser.parse(incidents_atom(PAGE, [LOGIN], base_url=BASE))
    rss = feedparser.parse(incidents_rss(PAGE, [LOGIN], base_url=BASE,
                                         self_url=f"{BASE}/feeds/rss"))
    assert {link.rel: link.href for link in atom.feed.links}["self"] == f"{BASE}/history.atom"
    assert {link.rel: link.href for link in rss.feed.links}["self"] == f"{BASE}/feeds/rss"


@pytest.mark.parametrize(("at", "text"), [
    (datetime(2026, 1, 2, 3, 4, tzinfo=UTC), "Jan 2, 2026, 03:04 UTC"),
    (datetime(2026, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5))),
     "Jan 1, 2027, 04:59 UTC"),
])
def test_times_are_printed_in_utc(at, text):
    assert format_utc(at) == text


def test_it_renders_incidents_as_the_store_returns_them(store, clock):
    page = store.put_page("acme", now=clock(), name="Acme")
    opened = store.create_incident(page.id, name="API errors", status=IncidentStatus.INVESTIGATING,
                                   body="Looking into 5xx on the API.", now=clock())
    store.add_update(opened.id, status=IncidentStatus.RESOLVED, body="Fixed.",
                     now=clock.advance(minutes=42))
    feed = feedparser.parse(incidents_atom(page, store.list_incidents(page.id, limit=20),
                                           base_url=BASE))
    [entry] = feed.entries
    assert entry.link == f"{BASE}/incidents/{opened.id}"
    assert utc(entry.published_parsed) == datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert utc(entry.updated_parsed) == datetime(2026, 6, 1, 12, 42, tzinfo=UTC)
    html = content_of(entry)
    assert html.index("Fixed.") < html.index("Looking into 5xx on the API.")
