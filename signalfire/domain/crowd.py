"""Crowd reports: one user's "I have a problem", and the honest counting of them.

Only the first report of a reporter for a page within a window counts (as the
established outage trackers do), so one angry user pressing the button ten
times is one report. Pure: time comes with the reports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_WINDOW_S = 30 * 60


# Not frozen: a frozen dataclass pays ~1 µs per instance in its __init__, and
# the intake builds 100,000 of these a second. Nothing changes a report after
# it is made.
@dataclass(slots=True)
class Report:
    page_id: str
    category: str
    at: datetime
    reporter: str  # a keyed, salted hash; never an address
    component_id: str | None = None
    country: str | None = None
    source: str = "web"


def counted_flags(reports: Sequence[Report], last_counted: Mapping[tuple[str, str], datetime],
                  *, window_s: float = DEFAULT_WINDOW_S,
                  ) -> tuple[list[bool], dict[tuple[str, str], datetime]]:
    """Which reports count, given when each (page, reporter) last counted.

    Returns the flags, in order, and the new last-counted times to store.
    """
    window = timedelta(seconds=window_s)
    last = dict(last_counted)
    changed: dict[tuple[str, str], datetime] = {}
    flags = []
    for r in reports:
        key = (r.page_id, r.reporter)
        before = last.get(key)
        counts = before is None or r.at - before >= window
        if counts:
            last[key] = changed[key] = r.at
        flags.append(counts)
    return flags, changed


def minute_of(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def minute_counts(reports: Sequence[Report], flags: Sequence[bool],
                  ) -> Counter[tuple[str, datetime, str, str, str]]:
    """(page, minute, component or "", category, country or "") → count, of counted reports."""
    counts: Counter[tuple[str, datetime, str, str, str]] = Counter()
    minutes: dict[datetime, datetime] = {}  # reports received together share their time
    for r, counted in zip(reports, flags, strict=True):
        if counted:
            minute = minutes.get(r.at)
            if minute is None:
                minute = minutes[r.at] = minute_of(r.at)
            counts[(r.page_id, minute, r.component_id or "", r.category, r.country or "")] += 1
    return counts
