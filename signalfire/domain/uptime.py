"""Uptime from a component's status history: per day (for the 90-day bars) and over a window.

Weights follow what a user of a status page expects: a major outage is full
downtime, a partial outage counts for part of it, degraded performance and
announced maintenance count as up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from signalfire.domain.model import StatusChange
from signalfire.domain.status import ComponentStatus

DOWNTIME_WEIGHT = {
    ComponentStatus.OPERATIONAL: 0.0,
    ComponentStatus.UNDER_MAINTENANCE: 0.0,
    ComponentStatus.DEGRADED_PERFORMANCE: 0.0,
    ComponentStatus.PARTIAL_OUTAGE: 0.3,
    ComponentStatus.MAJOR_OUTAGE: 1.0,
}


@dataclass(frozen=True, slots=True)
class DayUptime:
    day: date
    has_data: bool
    uptime_pct: float
    worst: ComponentStatus
    outage_s: dict[ComponentStatus, float]


def _segments(
    history: Sequence[StatusChange], start: datetime, end: datetime
) -> list[tuple[datetime, datetime, ComponentStatus]]:
    """Cut [start, end) into pieces of constant status. History must be sorted by time."""
    status = ComponentStatus.OPERATIONAL
    known_from: datetime | None = None
    out: list[tuple[datetime, datetime, ComponentStatus]] = []
    cursor = start
    for change in history:
        if change.at <= start:
            status, known_from = change.status, change.at
            continue
        if change.at >= end:
            break
        if known_from is None:
            known_from = change.at
            cursor = change.at
        else:
            out.append((cursor, change.at, status))
            cursor = change.at
        status = change.status
    if known_from is not None or out:
        out.append((cursor, end, status))
    return out


def daily_uptime(
    history: Sequence[StatusChange], *, days: int, now: datetime
) -> list[DayUptime]:
    """One entry per UTC day, oldest first, ending with today (up to ``now``)."""
    today = now.astimezone(UTC).date()
    result: list[DayUptime] = []
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        end = min(start + timedelta(days=1), now)
        segs = _segments(history, start, end) if end > start else []
        if not segs:
            result.append(DayUptime(day, False, 100.0, ComponentStatus.OPERATIONAL, {}))
            continue
        total = sum((b - a).total_seconds() for a, b, _ in segs) or 1.0
        outage: dict[ComponentStatus, float] = {}
        down = 0.0
        for a, b, s in segs:
            secs = (b - a).total_seconds()
            if s is not ComponentStatus.OPERATIONAL:
                outage[s] = outage.get(s, 0.0) + secs
            down += secs * DOWNTIME_WEIGHT[s]
        worst = max((s for _, _, s in segs), key=lambda s: s.severity)
        result.append(DayUptime(day, True, 100.0 * (1 - down / total), worst, outage))
    return result


def window_uptime_pct(days: Sequence[DayUptime]) -> float | None:
    """Mean uptime over the days that have data; None when none has."""
    known = [d.uptime_pct for d in days if d.has_data]
    if not known:
        return None
    return sum(known) / len(known)


def with_probe_checks(days: Sequence[DayUptime],
                      checks: dict[date, tuple[int, int]]) -> list[DayUptime]:
    """Days whose uptime comes from real probe checks where there were any.

    ``checks`` maps a day to (checks, failures) over every monitor and region of
    the component. The colour of a day (its worst status) stays the status
    history's, which the monitors' quorum writes too.
    """
    out = []
    for d in days:
        total, failed = checks.get(d.day, (0, 0))
        if total:
            d = DayUptime(d.day, True, 100.0 * (total - failed) / total, d.worst, d.outage_s)
        out.append(d)
    return out
