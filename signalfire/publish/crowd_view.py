"""What the "is it down?" page shows: crowd reports over the last day, against
what is normal for the time of day.

The math (bucketing, the baseline, shares, the verdict, the chart's geometry)
is pure and takes ``now``; ``crowd_view`` is the one function that reads the
Store.

Baseline: for each 15-minute bucket, the mean count of the same time of day
over the previous 7 days. Days without reports count as 0, so a page with a
quiet week has a low baseline and a sudden burst stands out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from signalfire.domain.model import Page
from signalfire.store import Store

BUCKET_S = 15 * 60
WINDOW_BUCKETS = 24 * 4  # the chart: the last 24 hours
BASELINE_DAYS = 7
# Both must hold before the page says "problems": a handful of reports on a
# quiet night is 3x the baseline but not an outage.
PROBLEM_FACTOR = 3.0
PROBLEM_MIN_REPORTS = 10
TOP_COUNTRIES = 10

CHART_WIDTH = 720
CHART_HEIGHT = 160


@dataclass(frozen=True, slots=True)
class Bucket:
    start: datetime
    count: int
    expected: float


@dataclass(frozen=True, slots=True)
class Share:
    key: str
    label: str
    count: int
    pct: float


@dataclass(frozen=True, slots=True)
class Chart:
    """Bars and the baseline line of the report chart, in SVG user units."""

    width: int
    height: int
    bar_width: float
    bars: tuple[tuple[float, float, float], ...]  # (x, y, height)
    baseline_points: str
    top: float


@dataclass(frozen=True, slots=True)
class CrowdView:
    page: Page
    now: datetime
    buckets: tuple[Bucket, ...]
    recent_count: int
    recent_expected: float
    has_problems: bool
    verdict: str
    total_24h: int
    categories: tuple[Share, ...]
    countries: tuple[Share, ...]
    category_options: tuple[tuple[str, str], ...]
    component_options: tuple[tuple[str, str], ...]

    @property
    def chart(self) -> Chart:
        return chart_geometry(self.buckets)

    def to_doc(self) -> dict[str, Any]:
        return {
            "page": {"id": self.page.id, "slug": self.page.slug, "name": self.page.name},
            "generated_at": self.now.astimezone(UTC).isoformat(),
            "bucket_s": BUCKET_S,
            "verdict": self.verdict,
            "has_problems": self.has_problems,
            "last_15_min": {"reports": self.recent_count,
                            "expected": round(self.recent_expected, 2)},
            "total_24h": self.total_24h,
            "buckets": [{"start": b.start.isoformat(), "reports": b.count,
                         "expected": round(b.expected, 2)} for b in self.buckets],
            "categories": [{"slug": s.key, "label": s.label, "reports": s.count,
                            "pct": round(s.pct, 1)} for s in self.categories],
            "countries": [{"code": s.key, "name": s.label, "reports": s.count,
                           "pct": round(s.pct, 1)} for s in self.countries],
        }


# -- pure math ---------------------------------------------------------------------


def floor_to(at: datetime, width_s: int) -> datetime:
    epoch = int(at.timestamp())
    return datetime.fromtimestamp(epoch - epoch % width_s, UTC)


def bucket_sums(minutes: Mapping[datetime, int], *, width_s: int = BUCKET_S) -> dict[datetime, int]:
    """Per-minute counts summed into buckets keyed by their start."""
    out: dict[datetime, int] = {}
    for minute, n in minutes.items():
        start = floor_to(minute, width_s)
        out[start] = out.get(start, 0) + n
    return out


def bucket_starts(now: datetime, *, count: int = WINDOW_BUCKETS,
                  width_s: int = BUCKET_S) -> list[datetime]:
    """The starts of the last ``count`` buckets, oldest first; the last holds ``now``."""
    last = floor_to(now, width_s)
    return [last - timedelta(seconds=width_s * i) for i in range(count - 1, -1, -1)]


def baseline(sums: Mapping[datetime, int], start: datetime, *,
             days: int = BASELINE_DAYS) -> float:
    """Mean count of the bucket starting at ``start`` on each of the ``days`` days before."""
    return sum(sums.get(start - timedelta(days=d), 0) for d in range(1, days + 1)) / days


def buckets_with_baseline(minutes: Mapping[datetime, int], now: datetime, *,
                          count: int = WINDOW_BUCKETS, width_s: int = BUCKET_S,
                          days: int = BASELINE_DAYS) -> list[Bucket]:
    sums = bucket_sums(minutes, width_s=width_s)
    return [Bucket(s, sums.get(s, 0), baseline(sums, s, days=days))
            for s in bucket_starts(now, count=count, width_s=width_s)]


def recent_reports(minutes: Mapping[datetime, int], now: datetime, *,
                   window_s: int = BUCKET_S) -> int:
    """Reports in the sliding window [now - window_s, now)."""
    since = now - timedelta(seconds=window_s)
    return sum(n for m, n in minutes.items() if since <= m < now)


def recent_baseline(minutes: Mapping[datetime, int], now: datetime, *,
                    window_s: int = BUCKET_S, days: int = BASELINE_DAYS) -> float:
    """The same sliding window, on each of the ``days`` days before, averaged."""
    return sum(recent_reports(minutes, now - timedelta(days=d), window_s=window_s)
               for d in range(1, days + 1)) / days


def is_problem(recent: int, expected: float) -> bool:
    return recent >= PROBLEM_MIN_REPORTS and recent > PROBLEM_FACTOR * expected


def verdict(page_name: str, recent: int, expected: float) -> str:
    if is_problem(recent, expected):
        return f"Users report problems with {page_name}"
    return "No widespread problems reported"


def shares(totals: Sequence[tuple[str, int]], labels: Mapping[str, str], *,
           limit: int | None = None) -> list[Share]:
    """Each key's share of all reports (in %), most first; unknown keys keep their key."""
    total = sum(n for _, n in totals)
    rows = [Share(k, labels.get(k, k), n, 100.0 * n / total if total else 0.0)
            for k, n in totals]
    return rows[:limit] if limit is not None else rows


def chart_geometry(buckets: Sequence[Bucket], *, width: int = CHART_WIDTH,
                   height: int = CHART_HEIGHT) -> Chart:
    """Bars from the bottom of a ``width`` x ``height`` box, scaled to the highest value."""
    top = max([1.0, *(b.count for b in buckets), *(b.expected for b in buckets)]) * 1.1
    step = width / max(1, len(buckets))
    bar_width = max(1.0, step - 1)
    bars = []
    points = []
    for i, b in enumerate(buckets):
        h = height * b.count / top
        bars.append((round(i * step, 2), round(height - h, 2), round(h, 2)))
        y = height - height * b.expected / top
        points.append(f"{round(i * step + bar_width / 2, 2)},{round(y, 2)}")
    return Chart(width, height, round(bar_width, 2), tuple(bars), " ".join(points), top)


def country_name(code: str) -> str:
    import pycountry

    found = pycountry.countries.get(alpha_2=code)
    if found is None:
        return code
    return getattr(found, "common_name", None) or found.name


# -- reading the Store ---------------------------------------------------------------


def crowd_view(store: Store, page: Page, *, now: datetime) -> CrowdView:
    window_start = bucket_starts(now)[0]
    since = window_start - timedelta(days=BASELINE_DAYS)
    until = now + timedelta(seconds=BUCKET_S)  # the current bucket, to its end
    minutes = store.report_minutes(page.id, since=since, until=until).get("", {})
    buckets = buckets_with_baseline(minutes, now)
    recent = recent_reports(minutes, now)
    expected = recent_baseline(minutes, now)

    day_ago = now - timedelta(hours=24)
    categories = store.report_categories(page.id)
    by_category = store.report_totals(page.id, since=day_ago, until=until, by="category")
    by_country = [(k, n) for k, n in store.report_totals(page.id, since=day_ago, until=until,
                                                         by="country") if k]
    countries = shares(by_country, {k: country_name(k) for k, _ in by_country},
                       limit=TOP_COUNTRIES)
    components = tuple((c.id, c.name) for c in store.list_components(page.id))
    return CrowdView(
        page=page, now=now, buckets=tuple(buckets), recent_count=recent,
        recent_expected=expected, has_problems=is_problem(recent, expected),
        verdict=verdict(page.name, recent, expected),
        total_24h=sum(n for _, n in by_category),
        categories=tuple(shares(by_category, dict(categories))),
        countries=tuple(countries), category_options=tuple(categories),
        component_options=components)
