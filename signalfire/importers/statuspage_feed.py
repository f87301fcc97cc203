"""Bring a Statuspage page's incident history into Signalfire from its Atom or RSS feed.

A Statuspage page publishes ``/history.atom`` and ``/history.rss``: one entry per
incident, its updates as HTML paragraphs, newest first::

    <p><small>Aug <var data-var='date'>21</var>, <var data-var='time'>00:37</var> UTC</small>
    <br><strong>Resolved</strong> - This incident has been resolved.</p>

What the feed does not carry cannot be imported, and we do not invent it:

- the year of each update is not printed: it is the one that puts the update
  nearest the entry's published date (a "Dec 31" update in an entry published
  on Jan 1 belongs to the year before);
- "Update" is Statuspage's word for an update that kept the status: it keeps the
  status before it (investigating when it comes first);
- impact is not in the feed: incidents get ``minor`` (the lowest that still says
  users were affected; an operator can raise it), maintenance gets ``maintenance``;
- maintenance is imported as a past incident (scheduled and in progress ->
  identified, verifying -> monitoring, completed -> resolved); a window not yet
  completed is refused, since it belongs in the schedule, not the history;
- components are not in the feed: imported incidents affect none, and component
  statuses are left alone.

``parse_statuspage_feed`` is pure; ``import_feed`` reads a file or fetches a URL
(through an injectable ``httpx.Client``) and writes through ``Store.import_incident``,
which skips what an earlier import already brought in.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import feedparser
import httpx

from signalfire.domain.status import Impact, IncidentStatus
from signalfire.errors import ImportFailure, InputError

if TYPE_CHECKING:
    from signalfire.store import Store

log = logging.getLogger(__name__)

FETCH_TIMEOUT_S = 30.0

_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}

# "Aug 21, 00:37 UTC"; our own feeds add the year: "Aug 21, 2026, 00:37 UTC".
_WHEN = re.compile(
    r"^\s*(?P<month>[A-Za-z]{3})[a-z]*\.?\s+(?P<day>\d{1,2})(?:,\s*(?P<year>\d{4}))?,?\s+"
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})\s*(?P<zone>[A-Za-z]{2,5})\s*$")

_INCIDENT_LABELS = {
    "investigating": IncidentStatus.INVESTIGATING,
    "identified": IncidentStatus.IDENTIFIED,
    "monitoring": IncidentStatus.MONITORING,
    "resolved": IncidentStatus.RESOLVED,
    "postmortem": IncidentStatus.POSTMORTEM,
}
# The store keeps imported history as incidents, so maintenance maps onto their statuses.
_MAINTENANCE_LABELS = {
    "scheduled": IncidentStatus.IDENTIFIED,
    "in progress": IncidentStatus.IDENTIFIED,
    "verifying": IncidentStatus.MONITORING,
    "completed": IncidentStatus.RESOLVED,
}
_KEEP_STATUS = "update"

DEFAULT_IMPACT = Impact.MINOR


@dataclass(frozen=True, slots=True)
class ImportedUpdate:
    status: IncidentStatus
    label: str  # as the source printed it: "Update", "In progress"
    body: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ImportedIncident:
    """One feed entry. An entry that cannot be read carries ``error`` and no updates."""

    source_url: str  # the entry's permalink: the stable key of re-imports
    name: str
    impact: Impact
    updates: tuple[ImportedUpdate, ...] = ()  # oldest first
    is_maintenance: bool = False
    error: str | None = None


@dataclass(slots=True)
class ImportReport:
    imported: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)


# -- parsing (pure) ------------------------------------------------------------------------


@dataclass(slots=True)
class _RawUpdate:
    when: str
    label: str = ""
    body: list[str] = field(default_factory=list)


class _TimelineParser(HTMLParser):
    """Splits an entry's HTML at each ``<small>`` timestamp into (time, label, body).

    The body is turned into Markdown-ish text: paragraphs and line breaks kept,
    links as ``[text](href)``, emphasis as ``*``/``**``; anything else is text.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.updates: list[_RawUpdate] = []
        self._small: list[str] | None = None
        self._label: list[str] | None = None
        self._awaiting_label = False
        # Statuspage puts " - " between the status and the text; only there is it not text.
        self._separator_possible = False
        self._hrefs: list[str | None] = []

    def _out(self, text: str) -> None:
        if self.updates and not self._awaiting_label:
            self.updates[-1].body.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._separator_possible = False
        if tag == "small":
            self._small = []
        elif tag in ("strong", "b") and self._awaiting_label:
            self._label = []
        elif tag in ("strong", "b"):
            self._out("**")
        elif tag in ("em", "i"):
            self._out("*")
        elif tag == "code":
            self._out("`")
        elif tag == "br":
            self._out("\n")
        elif tag in ("p", "div", "ul", "ol", "blockquote", "pre"):
            self._out("\n\n")
        elif tag == "li":
            self._out("\n- ")
        elif tag == "a":
            self._hrefs.append(dict(attrs).get("href"))
            self._out("[")

    def handle_endtag(self, tag: str) -> None:
        if tag == "small" and self._small is not None:
            text = " ".join("".join(self._small).split())
            self._small = None
            if _WHEN.match(text):
                self.updates.append(_RawUpdate(when=text))
                self._awaiting_label = True
            else:
                self._out(text)
        elif tag in ("strong", "b") and self._label is not None:
            self.updates[-1].label = " ".join("".join(self._label).split())
            self._label = None
            self._awaiting_label = False
            self._separator_possible = True
        elif tag in ("strong", "b"):
            self._out("**")
        elif tag in ("em", "i"):
            self._out("*")
        elif tag == "code":
            self._out("`")
        elif tag in ("p", "div", "ul", "ol", "blockquote", "pre"):
            self._out("\n\n")
        elif tag == "a" and self._hrefs:
            href = self._hrefs.pop()
            self._out(f"]({href})" if href else "]")

    def handle_data(self, data: str) -> None:
        # Whitespace in HTML source is not layout: line breaks come from tags.
        data = re.sub(r"\s+", " ", data)
        if self._separator_possible and data.strip():
            data = re.sub(r"^ ?- ?", "", data)
            self._separator_possible = False
        if self._small is not None:
            self._small.append(data)
        elif self._label is not None:
            self._label.append(data)
        else:
            self._out(data)


def _tidy_body(parts: Sequence[str]) -> str:
    text = "".join(parts)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def infer_update_time(text: str, published: datetime) -> datetime:
    """The UTC time of an update printed as ``text`` in an entry published at ``published``."""
    m = _WHEN.match(text)
    if m is None:
        raise ValueError(f"not a time: {text!r}")
    if m["zone"].upper() not in ("UTC", "GMT"):
        raise ValueError(f"time {text!r} is not in UTC")
    month = _MONTHS.get(m["month"].lower())
    if month is None:
        raise ValueError(f"unknown month in {text!r}")
    day, hour, minute = int(m["day"]), int(m["hour"]), int(m["minute"])
    years = [int(m["year"])] if m["year"] else [published.year - 1, published.year,
                                                published.year + 1]
    candidates = []
    for year in years:
        try:
            candidates.append(datetime(year, month, day, hour, minute, tzinfo=UTC))
        except ValueError:  # Feb 29 outside a leap year, a 25:00
            continue
    if not candidates:
        raise ValueError(f"no such date: {text!r}")
    return min(candidates, key=lambda at: abs(at - published))


def _status_for(label: str, previous: IncidentStatus | None) -> tuple[IncidentStatus, bool]:
    """The status an update label stands for, and whether it is a maintenance label."""
    key = label.lower()
    if key == _KEEP_STATUS:
        return previous or IncidentStatus.INVESTIGATING, False
    if key in _INCIDENT_LABELS:
        return _INCIDENT_LABELS[key], False
    if key in _MAINTENANCE_LABELS:
        return _MAINTENANCE_LABELS[key], True
    raise ValueError(f"unknown update status {label!r}")


def _entry_time(entry: Any) -> datetime | None:
    # Membership, not .get(): feedparser warns when "updated" falls back to "published".
    for key in ("published_parsed", "updated_parsed"):
        if key in entry and entry[key] is not None:
            return datetime(*entry[key][:6], tzinfo=UTC)
    return None


def _parse_entry(entry: Any, position: int) -> ImportedIncident:
    key = entry.get("link") or entry.get("id") or f"entry #{position}"
    name = " ".join(str(entry.get("title", "")).split())

    def failed(reason: str) -> ImportedIncident:
        return ImportedIncident(source_url=key, name=name, impact=DEFAULT_IMPACT, error=reason)

    if not entry.get("link") and not entry.get("id"):
        return failed("the entry has neither a link nor an id to recognise it by")
    if not name:
        return failed("the entry has no title")
    published = _entry_time(entry)
    if published is None:
        return failed("the entry has no published or updated date")
    contents = entry.get("content") or []
    html = contents[0].get("value", "") if contents else entry.get("summary", "")
    parser = _TimelineParser()
    parser.feed(html)
    parser.close()
    if not parser.updates:
        return failed("no updates found (expected '<small>Mon D, HH:MM UTC</small>' stamps)")
    updates: list[ImportedUpdate] = []
    previous: IncidentStatus | None = None
    maintenance = False
    try:
        # The feed lists updates newest first; "Update" inherits from the one before it.
        for raw in reversed(parser.updates):
            status, is_maintenance_label = _status_for(raw.label, previous)
            maintenance = maintenance or is_maintenance_label
            updates.append(ImportedUpdate(status=status, label=raw.label,
                                          body=_tidy_body(raw.body),
                                          at=infer_update_time(raw.when, published)))
            previous = status
    except ValueError as exc:
        return failed(str(exc))
    if maintenance and updates[-1].status is not IncidentStatus.RESOLVED:
        return failed("a maintenance not completed yet: schedule it in Signalfire instead")
    return ImportedIncident(source_url=key, name=name,
                            impact=Impact.MAINTENANCE if maintenance else DEFAULT_IMPACT,
                            updates=tuple(updates), is_maintenance=maintenance)


def parse_statuspage_feed(data: bytes) -> list[ImportedIncident]:
    """Every entry of a Statuspage Atom or RSS history feed, in feed order.

    Raises ImportFailure when ``data`` is not a feed at all; an entry that cannot
    be read comes back with ``error`` set, so one bad entry does not stop the rest.
    """
    if not data.strip():
        raise ImportFailure("the feed is empty", field="source")
    # Bytes, never str: given a str, feedparser would treat it as a URL or a path.
    parsed = feedparser.parse(data)
    if not parsed.get("version"):
        reason = parsed.get("bozo_exception")
        detail = f" ({reason})" if reason else ""
        raise ImportFailure(f"not an Atom or RSS feed{detail}", field="source")
    return [_parse_entry(entry, n) for n, entry in enumerate(parsed.entries, 1)]


# -- the shell: reading and writing ----------------------------------------------------------


def _is_url(source: str) -> bool:
    return re.match(r"^https?://", source, re.IGNORECASE) is not None


def _fetch(url: str, http_client: httpx.Client | None) -> bytes:
    client = http_client or httpx.Client(timeout=FETCH_TIMEOUT_S)
    try:
        response = client.get(url, follow_redirects=True,
                              headers={"Accept": "application/atom+xml, application/rss+xml, "
                                                 "application/xml;q=0.9, */*;q=0.1"})
    except httpx.HTTPError as exc:
        raise ImportFailure(f"could not fetch {url}: {exc}", field="source") from exc
    finally:
        if http_client is None:
            client.close()
    if not response.is_success:
        raise ImportFailure(
            f"{url} answered HTTP {response.status_code} {response.reason_phrase}; "
            "expected the page's history feed, like https://status.example.com/history.atom",
            field="source")
    return response.content


def read_feed_source(source: str, *, http_client: httpx.Client | None = None) -> bytes:
    """The bytes of a feed given as an http(s) URL or a file path."""
    if _is_url(source):
        return _fetch(source, http_client)
    try:
        return Path(source).read_bytes()
    except FileNotFoundError:
        raise ImportFailure(f"no such file: {source}", field="source") from None
    except IsADirectoryError:
        raise ImportFailure(f"{source} is a directory, not a feed file", field="source") from None
    except OSError as exc:
        raise ImportFailure(f"cannot read {source}: {exc.strerror}", field="source") from None


def import_feed(store: Store, page_id: str, source: str, *,
                http_client: httpx.Client | None = None) -> ImportReport:
    """Import every incident of a Statuspage feed (file or URL) into a page (id or slug).

    Idempotent: an incident already imported from the same permalink is skipped.
    """
    page = store.get_page(page_id)
    incidents = parse_statuspage_feed(read_feed_source(source, http_client=http_client))
    report = ImportReport()
    for incident in incidents:
        if incident.error is not None:
            report.failed.append(f"{incident.source_url}: {incident.error}")
            continue
        try:
            created = store.import_incident(
                page.id, imported_from=incident.source_url, name=incident.name,
                impact=incident.impact,
                updates=[(u.status, u.body, u.at) for u in incident.updates])
        except InputError as exc:
            report.failed.append(f"{incident.source_url}: {exc.message}")
            continue
        if created is None:
            report.skipped += 1
        else:
            report.imported += 1
    # The host only: a private page's feed URL may carry a token.
    origin = httpx.URL(source).host if _is_url(source) else "file"
    log.info("feed_import page=%s source=%s imported=%d skipped=%d failed=%d",
             page.slug, origin, report.imported, report.skipped, len(report.failed))
    return report
