"""A page's incident history as RSS 2.0 and Atom, one entry per incident.

Each entry's content is the incident's timeline, newest update first, in the
shape Statuspage's own history feeds use (a ``<small>`` time, the status in
``<strong>``, then the text), so feed readers and tools that already read
Statuspage feeds (our own importer included) read ours. Unlike Statuspage we
print the year: an entry read years later should not need its date guessed.

Nothing here reads the clock: a feed's ``updated`` is its newest incident's, so
the same history always gives the same bytes (and the same ETag).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from feedgen.feed import FeedGenerator

from signalfire.domain.model import Incident, IncidentUpdate, Page
from signalfire.publish.markdown import render_markdown

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# An empty page with no timestamps still needs a fixed date, not "now".
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# XML 1.0 cannot carry most control characters at all, escaped or not; text
# that came in with them (an import, an old row) must not break the feed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    return _NOT_XML.sub("", text)


def format_utc(at: datetime) -> str:
    """``Aug 21, 2026, 00:37 UTC``: month names fixed in English, whatever the locale."""
    at = at.astimezone(UTC)
    return f"{_MONTHS[at.month - 1]} {at.day}, {at.year}, {at:%H:%M} UTC"


def incident_permalink(base_url: str, incident: Incident) -> str:
    return f"{base_url.rstrip('/')}/incidents/{incident.id}"


def _update_html(update: IncidentUpdate) -> str:
    return (
        f"<p><small>{format_utc(update.display_at)}</small><br>"
        f"<strong>{escape(update.status.label)}</strong></p>\n"
        f"{render_markdown(update.body)}"
    )


def timeline_html(incident: Incident) -> str:
    """The incident's updates as HTML, newest first, bodies rendered and sanitised."""
    updates = sorted(incident.updates, key=lambda u: (u.display_at, u.created_at), reverse=True)
    return "\n".join(_update_html(u) for u in updates)


def _feed(page: Page, incidents: Sequence[Incident], *, base_url: str,
          self_url: str) -> FeedGenerator:
    base_url = base_url.rstrip("/")
    updated = max((i.updated_at for i in incidents),
                  default=page.updated_at or page.created_at or _EPOCH)
    fg = FeedGenerator()
    fg.id(self_url)
    fg.title(_xml_safe(f"{page.name} - Incident History"))
    fg.description(_xml_safe(f"Incidents and maintenance reported on {page.name}'s status page"))
    fg.author({"name": _xml_safe(page.name)})
    fg.link(href=self_url, rel="self")
    # feedgen gives RSS's one <link> the last link set: the page, not the feed.
    fg.link(href=f"{base_url}/", rel="alternate")
    fg.generator("Signalfire")
    fg.updated(updated)
    fg.lastBuildDate(updated)
    for incident in incidents:
        permalink = incident_permalink(base_url, incident)
        entry = fg.add_entry(order="append")
        entry.id(permalink)
        entry.guid(permalink, permalink=True)
        entry.title(_xml_safe(incident.name))
        entry.link(href=permalink, rel="alternate")
        entry.published(incident.created_at)
        entry.updated(incident.updated_at)
        entry.content(_xml_safe(timeline_html(incident)), type="html")
    return fg


def incidents_atom(page: Page, incidents: Sequence[Incident], *, base_url: str,
                   self_url: str | None = None) -> bytes:
    """An Atom feed of ``incidents`` (given newest first and already limited)."""
    self_url = self_url or f"{base_url.rstrip('/')}/history.atom"
    return bytes(_feed(page, incidents, base_url=base_url, self_url=self_url).atom_str())


def incidents_rss(page: Page, incidents: Sequence[Incident], *, base_url: str,
                  self_url: str | None = None) -> bytes:
    """An RSS 2.0 feed of ``incidents`` (given newest first and already limited)."""
    self_url = self_url or f"{base_url.rstrip('/')}/history.rss"
    return bytes(_feed(page, incidents, base_url=base_url, self_url=self_url).rss_str())
