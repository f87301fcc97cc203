"""Importing a Statuspage page's history feed: GitHub's real feed, and the edge cases."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from pathlib import Path

import httpx
import pytest

from signalfire.domain.status import Impact, IncidentStatus
from signalfire.errors import ImportFailure, NotFound
from signalfire.importers.statuspage_feed import (
    import_feed,
    infer_update_time,
    parse_statuspage_feed,
)
from signalfire.publish.feeds import incidents_atom

GITHUB_FEED = Path(__file__).parent.parent / "data" / "github-status" / "github-status-history.atom"
GITHUB_ENTRIES = 25
WEBHOOKS = "https://www.githubstatus.com/incidents/k8vbzwqjkxzn"  # "Incident with Webhooks"
RUNNERS = "https://www.githubstatus.com/incidents/bmpybhnrky3x"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def entry(link: str, title: str, published: str,
          updates: list[tuple[str, str, str]]) -> str:
    """One Atom entry shaped like Statuspage's; ``updates`` are (when, label, body html)."""
    paragraphs = []
    for when, label, body in updates:
        month_day, time_zone = when.split(", ")
        month, day = month_day.split()
        hh_mm, zone = time_zone.split()
        paragraphs.append(
            f"<p> <small>{month} <var data-var='date'>{day}</var>, "
            f"<var data-var='time'>{hh_mm}</var> {zone}</small><br> "
            f"<strong>{label}</strong> - {body} </p>")
    html = " ".join(paragraphs)
    return (f"<entry><id>{link}</id>"
            f"<published>{published}</published><updated>{published}</updated>"
            f'<link rel="alternate" type="text/html" href="{link}"/>'
            f"<title>{escape(title)}</title>"
            f'<content type="html">{escape(html)}</content></entry>')


def atom(*entries: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<feed xml:lang="en-US" xmlns="http://www.w3.org/2005/Atom">'
            "<id>tag:status.example.com,2005:/history</id>"
            '<link rel="alternate" type="text/html" href="https://status.example.com"/>'
            "<title>Example Status - Incident History</title>"
            "<updated>2026-08-22T03:43:56Z</updated>"
            + "".join(entries) + "</feed>").encode()


SIMPLE = entry("https://status.example.com/incidents/simple1", "Login is slow",
               "2026-03-09T15:10:00Z", [
                   ("Mar 9, 15:10 UTC", "Resolved", "Fixed."),
                   ("Mar 9, 14:05 UTC", "Investigating", "Looking into it."),
               ])


@pytest.fixture
def page(store, clock):
    return store.put_page("github", now=clock(), name="GitHub")


# -- GitHub's real feed ---------------------------------------------------------------------


def test_every_entry_of_githubs_feed_is_read():
    incidents = parse_statuspage_feed(GITHUB_FEED.read_bytes())
    assert len(incidents) == GITHUB_ENTRIES
    assert [i.error for i in incidents] == [None] * GITHUB_ENTRIES
    assert incidents[0].name == "Intermittent failures creating agent tasks"
    assert incidents[0].source_url == "https://www.githubstatus.com/incidents/bhbcjn4n3jzp"
    assert all(i.impact is Impact.MINOR and not i.is_maintenance for i in incidents)


def test_a_known_incident_comes_out_with_its_whole_timeline():
    [webhooks] = [i for i in parse_statuspage_feed(GITHUB_FEED.read_bytes())
                  if i.source_url == WEBHOOKS]
    assert webhooks.name == "Incident with Webhooks"
    assert [(u.at, u.label, u.status) for u in webhooks.updates] == [
        (utc(2026, 8, 13, 14, 45), "Investigating", IncidentStatus.INVESTIGATING),
        (utc(2026, 8, 13, 14, 46), "Update", IncidentStatus.INVESTIGATING),
        (utc(2026, 8, 13, 14, 46), "Update", IncidentStatus.INVESTIGATING),
        (utc(2026, 8, 13, 14, 46), "Update", IncidentStatus.INVESTIGATING),
        (utc(2026, 8, 13, 14, 56), "Update", IncidentStatus.INVESTIGATING),
        (utc(2026, 8, 13, 14, 58), "Update", IncidentStatus.INVESTIGATING),
        (utc(2026, 8, 13, 15, 33), "Monitoring", IncidentStatus.MONITORING),
        # Same minute, printed above "Monitoring": it came after, and keeps its status.
        (utc(2026, 8, 13, 15, 33), "Update", IncidentStatus.MONITORING),
        (utc(2026, 8, 13, 15, 36), "Resolved", IncidentStatus.RESOLVED),
    ]
    assert webhooks.updates[0].body == (
        "We are investigating reports of degraded performance for Webhooks")
    assert webhooks.updates[-1].body.startswith("This incident has been resolved. Thank you")


def test_paragraphs_inside_an_update_are_kept():
    [runners] = [i for i in parse_statuspage_feed(GITHUB_FEED.read_bytes())
                 if i.source_url == RUNNERS]
    body = runners.updates[-1].body
    assert body.startswith("On February 18, 2026, between 05:02 UTC and 11:30 UTC, customers "
                           "were unable to view or manage Actions Runners")
    assert "through the GitHub UI and API.\n\nThe issue was caused by failures" in body
    assert "<br" not in body and "&lt;" not in body


def test_githubs_feed_imports_once_and_then_skips_everything(any_store, clock):
    page = any_store.put_page("github", now=clock(), name="GitHub")
    report = import_feed(any_store, page.id, str(GITHUB_FEED))
    assert (report.imported, report.skipped, report.failed) == (GITHUB_ENTRIES, 0, [])
    assert any_store.count_incidents(page.id) == GITHUB_ENTRIES

    [webhooks] = [i for i in any_store.list_incidents(page.id) if i.imported_from == WEBHOOKS]
    assert webhooks.name == "Incident with Webhooks"
    assert webhooks.status is IncidentStatus.RESOLVED
    assert webhooks.impact is Impact.MINOR
    assert webhooks.component_ids == ()
    assert len(webhooks.updates) == 9
    oldest, newest = webhooks.updates[-1], webhooks.updates[0]  # the store gives newest first
    assert (oldest.display_at, oldest.status) == (utc(2026, 8, 13, 14, 45),
                                                  IncidentStatus.INVESTIGATING)
    assert (newest.display_at, newest.status) == (utc(2026, 8, 13, 15, 36),
                                                  IncidentStatus.RESOLVED)
    assert webhooks.started_at == utc(2026, 8, 13, 14, 45)
    assert webhooks.resolved_at == utc(2026, 8, 13, 15, 36)

    again = import_feed(any_store, "github", str(GITHUB_FEED))  # by slug this time
    assert (again.imported, again.skipped, again.failed) == (0, GITHUB_ENTRIES, [])
    assert any_store.count_incidents(page.id) == GITHUB_ENTRIES


def test_the_newest_entry_is_listed_first_after_import(store, page):
    import_feed(store, page.id, str(GITHUB_FEED))
    newest = store.list_incidents(page.id, limit=1)[0]
    assert newest.name == "Intermittent failures creating agent tasks"
    assert newest.started_at == utc(2026, 8, 20, 14, 43)
    assert newest.resolved_at == utc(2026, 8, 21, 0, 37)


# -- the year Statuspage does not print -------------------------------------------------------


@pytest.mark.parametrize(("text", "published", "expected"), [
    ("Aug 21, 00:37 UTC", utc(2026, 8, 21, 0, 37, 20), utc(2026, 8, 21, 0, 37)),
    ("Dec 31, 23:50 UTC", utc(2027, 1, 1, 0, 10), utc(2026, 12, 31, 23, 50)),
    ("Jan 1, 00:10 UTC", utc(2026, 12, 31, 23, 50), utc(2027, 1, 1, 0, 10)),
    ("Nov 30, 08:00 UTC", utc(2027, 1, 5), utc(2026, 11, 30, 8, 0)),
    ("Feb 29, 10:00 UTC", utc(2024, 3, 1), utc(2024, 2, 29, 10, 0)),
    ("Aug 21, 2024, 00:37 UTC", utc(2026, 8, 21), utc(2024, 8, 21, 0, 37)),
    ("Sept 3, 9:05 GMT", utc(2025, 9, 3, 10), utc(2025, 9, 3, 9, 5)),
])
def test_an_update_gets_the_year_nearest_its_entry(text, published, expected):
    assert infer_update_time(text, published) == expected


@pytest.mark.parametrize("text", ["Aug 21, 00:37 PDT", "Foo 21, 00:37 UTC", "Feb 30, 10:00 UTC",
                                  "yesterday"])
def test_times_that_cannot_be_placed_are_refused(text):
    with pytest.raises(ValueError):
        infer_update_time(text, utc(2026, 8, 21))


# -- statuses, bodies and bad entries -----------------------------------------------------------


def test_a_leading_update_counts_as_investigating():
    [incident] = parse_statuspage_feed(atom(entry(
        "https://status.example.com/incidents/u1", "Errors", "2026-03-09T15:00:00Z", [
            ("Mar 9, 15:00 UTC", "Identified", "Found it."),
            ("Mar 9, 14:00 UTC", "Update", "Something is off."),
        ])))
    assert [u.status for u in incident.updates] == [IncidentStatus.INVESTIGATING,
                                                    IncidentStatus.IDENTIFIED]


def test_a_postmortem_is_kept_as_one():
    [incident] = parse_statuspage_feed(atom(entry(
        "https://status.example.com/incidents/pm1", "Outage", "2026-03-09T15:00:00Z", [
            ("Mar 12, 09:00 UTC", "Postmortem", "What happened."),
            ("Mar 9, 15:00 UTC", "Resolved", "Fixed."),
            ("Mar 9, 14:00 UTC", "Investigating", "Looking."),
        ])))
    assert [u.status for u in incident.updates] == [
        IncidentStatus.INVESTIGATING, IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM]
    assert incident.updates[-1].at == utc(2026, 3, 12, 9, 0)


def test_completed_maintenance_comes_in_as_a_resolved_maintenance_incident():
    [incident] = parse_statuspage_feed(atom(entry(
        "https://status.example.com/incidents/m1", "Database upgrade", "2026-03-09T16:00:00Z", [
            ("Mar 9, 16:00 UTC", "Completed", "Done."),
            ("Mar 9, 15:30 UTC", "Verifying", "Checking."),
            ("Mar 9, 15:00 UTC", "In progress", "Started."),
            ("Mar 9, 14:00 UTC", "Update", "Still on for 15:00."),
            ("Mar 1, 10:00 UTC", "Scheduled", "We will upgrade the database."),
        ])))
    assert incident.error is None
    assert incident.is_maintenance
    assert incident.impact is Impact.MAINTENANCE
    assert [u.status for u in incident.updates] == [
        IncidentStatus.IDENTIFIED, IncidentStatus.IDENTIFIED, IncidentStatus.IDENTIFIED,
        IncidentStatus.MONITORING, IncidentStatus.RESOLVED]


def test_maintenance_not_yet_completed_is_refused():
    [incident] = parse_statuspage_feed(atom(entry(
        "https://status.example.com/incidents/m2", "Network work", "2026-03-09T16:00:00Z", [
            ("Mar 20, 02:00 UTC", "Scheduled", "We will replace a switch."),
        ])))
    assert incident.updates == ()
    assert "maintenance not completed" in (incident.error or "")


def test_markup_in_a_body_becomes_markdown():
    [incident] = parse_statuspage_feed(atom(entry(
        "https://status.example.com/incidents/b1", "Errors", "2026-03-09T15:00:00Z", [
            ("Mar 9, 15:00 UTC", "Resolved",
             ('See <a href="https://example.com/rca">the <em>report</em></a>.<br />'
              "<strong>Cause:</strong> a bad &amp; late deploy<ul><li>one</li><li>two</li></ul>"
              "<script>alert(1)</script>")),
        ])))
    assert incident.updates[0].body == (
        "See [the *report*](https://example.com/rca).\n**Cause:** a bad & late deploy\n\n"
        "- one\n- two")


@pytest.mark.parametrize(("updates", "reason"), [
    ([("Mar 9, 15:00 UTC", "Fixed-ish", "?")], "unknown update status 'Fixed-ish'"),
    ([("Mar 9, 15:00 PDT", "Resolved", "?")], "not in UTC"),
])
def test_an_entry_that_cannot_be_read_says_why(updates, reason):
    [incident] = parse_statuspage_feed(atom(entry(
        "https://status.example.com/incidents/x1", "Odd", "2026-03-09T15:00:00Z", updates)))
    assert reason in (incident.error or "")


def test_an_entry_without_timestamps_says_what_was_expected():
    feed = atom(SIMPLE.replace("<small>", "<span>").replace("</small>", "</span>")
                .replace("&lt;small&gt;", "&lt;span&gt;").replace("&lt;/small&gt;", "&lt;/span&gt;"))
    [incident] = parse_statuspage_feed(feed)
    assert "no updates found" in (incident.error or "")


def test_one_bad_entry_does_not_stop_the_others(store, page, tmp_path):
    bad = entry("https://status.example.com/incidents/bad1", "Odd", "2026-03-09T15:00:00Z",
                [("Mar 9, 15:00 UTC", "Sort of fine", "?")])
    path = tmp_path / "history.atom"
    path.write_bytes(atom(bad, SIMPLE))
    report = import_feed(store, page.id, str(path))
    assert report.imported == 1
    assert report.failed == [
        "https://status.example.com/incidents/bad1: unknown update status 'Sort of fine'"]
    assert [i.name for i in store.list_incidents(page.id)] == ["Login is slow"]


def test_rss_feeds_are_read_too():
    html = ("<p><small>Mar <var data-var='date'>9</var>, <var data-var='time'>14:05</var> UTC"
            "</small><br><strong>Investigating</strong> - Looking into it.</p>")
    rss = ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
           "<title>Example</title><link>https://status.example.com</link>"
           "<description>Example</description><item><title>Login is slow</title>"
           f"<description>{escape(html)}</description>"
           "<pubDate>Mon, 09 Mar 2026 14:05:00 +0000</pubDate>"
           "<link>https://status.example.com/incidents/rss1</link>"
           "<guid>tag:status.example.com,2005:Incident/1</guid></item></channel></rss>")
    [incident] = parse_statuspage_feed(rss.encode())
    assert incident.source_url == "https://status.example.com/incidents/rss1"
    assert [(u.at, u.status, u.body) for u in incident.updates] == [
        (utc(2026, 3, 9, 14, 5), IncidentStatus.INVESTIGATING, "Looking into it.")]


def test_our_own_feed_imports_back_unchanged(store, clock):
    source = store.put_page("old", now=clock(), name="Old")
    opened = store.create_incident(source.id, name="API errors",
                                   status=IncidentStatus.INVESTIGATING,
                                   body="Seeing **5xx** on\nthe API.", now=clock())
    store.add_update(opened.id, status=IncidentStatus.MONITORING, body="Fix deployed.",
                     now=clock.advance(minutes=30))
    store.add_update(opened.id, status=IncidentStatus.RESOLVED, body="- DNS\n- CDN",
                     now=clock.advance(minutes=30))
    feed = incidents_atom(source, store.list_incidents(source.id),
                          base_url="https://status.example.com")
    [incident] = parse_statuspage_feed(feed)
    assert incident.source_url == f"https://status.example.com/incidents/{opened.id}"
    assert [(u.at, u.status, u.body) for u in incident.updates] == [
        (utc(2026, 6, 1, 12, 0), IncidentStatus.INVESTIGATING, "Seeing **5xx** on\nthe API."),
        (utc(2026, 6, 1, 12, 30), IncidentStatus.MONITORING, "Fix deployed."),
        (utc(2026, 6, 1, 13, 0), IncidentStatus.RESOLVED, "- DNS\n- CDN"),
    ]


# -- reading the source -----------------------------------------------------------------------


def client_answering(status: int, body: bytes, seen: list[httpx.Request]) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, content=body,
                              headers={"content-type": "application/atom+xml"})
    return httpx.Client(transport=httpx.MockTransport(handle))


def test_a_url_is_fetched_through_the_given_client(store, page):
    seen: list[httpx.Request] = []
    with client_answering(200, GITHUB_FEED.read_bytes(), seen) as client:
        report = import_feed(store, page.id, "https://www.githubstatus.com/history.atom",
                             http_client=client)
    assert report.imported == GITHUB_ENTRIES
    assert [str(r.url) for r in seen] == ["https://www.githubstatus.com/history.atom"]
    assert "application/atom+xml" in seen[0].headers["accept"]


def test_redirects_are_followed(store, page):
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/history.atom":
            return httpx.Response(301, headers={"location": "https://new.example.com/h.atom"})
        return httpx.Response(200, content=atom(SIMPLE))

    with httpx.Client(transport=httpx.MockTransport(handle)) as client:
        report = import_feed(store, page.id, "https://status.example.com/history.atom",
                             http_client=client)
    assert report.imported == 1


def test_an_http_error_status_is_an_import_failure(store, page):
    with (client_answering(404, b"<html>Not found</html>", []) as client,
          pytest.raises(ImportFailure, match=r"answered HTTP 404 Not Found")):
        import_feed(store, page.id, "https://status.example.com/history.atom",
                    http_client=client)
    assert store.count_incidents(page.id) == 0


def test_an_unreachable_host_is_an_import_failure(store, page):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with (httpx.Client(transport=httpx.MockTransport(refuse)) as client,
          pytest.raises(ImportFailure, match=r"could not fetch .*connection refused")):
        import_feed(store, page.id, "https://status.example.com/history.atom",
                    http_client=client)


@pytest.mark.parametrize("data", [
    b"<!doctype html><html><head><title>Status</title></head><body>hi</body></html>",
    b'{"page": {"id": "x"}}',
    b"\x89PNG\r\n\x1a\n",
])
def test_what_is_not_a_feed_is_refused(data):
    with pytest.raises(ImportFailure, match="not an Atom or RSS feed"):
        parse_statuspage_feed(data)


def test_an_empty_answer_is_refused(store, page):
    with (client_answering(200, b"", []) as client,
          pytest.raises(ImportFailure, match="the feed is empty")):
        import_feed(store, page.id, "https://status.example.com/history.atom",
                    http_client=client)


def test_a_missing_file_is_named(store, page, tmp_path):
    missing = tmp_path / "nope.atom"
    with pytest.raises(ImportFailure, match=f"no such file: {missing}"):
        import_feed(store, page.id, str(missing))
    with pytest.raises(ImportFailure, match="is a directory"):
        import_feed(store, page.id, str(tmp_path))


def test_an_unknown_page_is_not_found_before_anything_is_read(store):
    with pytest.raises(NotFound):
        import_feed(store, "no-such-page", "/does/not/matter.atom")
