"""Observations summed into time buckets (minutes, hours, days) and uptime from them.

``rollup`` turns raw observations into buckets with exact latency percentiles.
``merge`` builds hours from minutes and days from hours. Percentiles cannot be
merged exactly, so every bucket also carries a fixed latency histogram and a
merged bucket reads its percentiles from the summed histograms.

The histogram has 50 bins: one for under 1 ms, 48 log-spaced bins with three
per doubling from 1 ms to 2**16 ms (about 65.5 s; bin ``i`` holds
[2**((i-1)/3), 2**(i/3)) ms), and one for everything slower. Percentiles use
the nearest-rank definition (the k-th smallest value, k = ⌈p·n/100⌉) both
exactly and from the histogram, so the estimate always lies in the bin that
holds the exact value. It is the geometric middle of that bin, narrowed to the
bucket's [min, max], which bounds the error:

- 1 ms to 65.5 s: within a factor 2**(1/6) of the exact value (−10.9 %, +12.2 %);
- under 1 ms: less than 1 ms off;
- over 65.5 s: between 65.5 s and the bucket's max (probe timeouts keep
  successful checks far below that).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from signalfire.domain.probe import Observation

BUCKET_WIDTHS_S = (60, 3600, 86400)

BINS_PER_DOUBLING = 3
_LOG_BINS = 16 * BINS_PER_DOUBLING  # 1 ms to 2**16 ms
LATENCY_BIN_COUNT = _LOG_BINS + 2  # plus under 1 ms and over 2**16 ms
# The largest factor between a merged percentile and the exact one within the log bins.
PERCENTILE_ERROR_FACTOR = 2 ** (1 / (2 * BINS_PER_DOUBLING))

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PERCENTILES = (50, 95, 99)


@dataclass(frozen=True, slots=True)
class Bucket:
    """The checks of one monitor in one region during [start, start + width_s).

    Latency fields cover successful checks only (a timeout's duration says
    nothing about how fast the service answers) and are None when there was
    none. ``latency_bins`` has ``LATENCY_BIN_COUNT`` counts (see the module
    docstring); ``start`` is UTC and a multiple of ``width_s`` since the epoch.
    """

    monitor_id: str
    region: str
    start: datetime
    width_s: int
    checks: int
    failures: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    min_ms: float | None
    max_ms: float | None
    latency_bins: tuple[int, ...]

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.width_s)

    @property
    def successes(self) -> int:
        return self.checks - self.failures


def latency_bin(duration_ms: float) -> int:
    """Index of the histogram bin that holds ``duration_ms``."""
    if duration_ms < 1.0:
        return 0
    return min(math.floor(BINS_PER_DOUBLING * math.log2(duration_ms)) + 1, LATENCY_BIN_COUNT - 1)


def latency_bin_bounds(index: int) -> tuple[float, float]:
    """[low, high) of bin ``index`` in ms; the last bin is open-ended."""
    low = 0.0 if index == 0 else 2 ** ((index - 1) / BINS_PER_DOUBLING)
    high = math.inf if index == LATENCY_BIN_COUNT - 1 else 2 ** (index / BINS_PER_DOUBLING)
    return low, high


def rollup(observations: Iterable[Observation], width_s: int) -> list[Bucket]:
    """Buckets of ``width_s`` seconds, by floor of each observation's ``at``.

    Percentiles are exact (nearest rank). Late observations land in their own
    bucket like any other; the input is assumed free of duplicates (the store
    keeps one row per observation id). Sorted by monitor, region, start.
    """
    _check_width(width_s)
    groups: dict[tuple[str, str, datetime], list[Observation]] = {}
    for obs in observations:
        key = (obs.monitor_id, obs.region, bucket_start(obs.at, width_s))
        groups.setdefault(key, []).append(obs)
    buckets = []
    for (monitor_id, region, start), group in sorted(groups.items()):
        latencies = sorted(o.duration_ms for o in group if o.ok)
        bins = [0] * LATENCY_BIN_COUNT
        for ms in latencies:
            bins[latency_bin(ms)] += 1
        p50, p95, p99 = (_nearest_rank(latencies, p) for p in _PERCENTILES)
        buckets.append(Bucket(
            monitor_id=monitor_id,
            region=region,
            start=start,
            width_s=width_s,
            checks=len(group),
            failures=len(group) - len(latencies),
            p50_ms=p50,
            p95_ms=p95,
            p99_ms=p99,
            min_ms=latencies[0] if latencies else None,
            max_ms=latencies[-1] if latencies else None,
            latency_bins=tuple(bins),
        ))
    return buckets


def merge(buckets: Iterable[Bucket], width_s: int) -> list[Bucket]:
    """Buckets of ``width_s`` seconds made of narrower (or equal) ones.

    Counts, min and max are exact; percentiles come from the summed histograms
    within the bound in the module docstring, except that a bucket alone in
    its wider bucket keeps its own. The same bucket given twice is an error:
    it would count its checks twice. Sorted by monitor, region, start.
    """
    _check_width(width_s)
    groups: dict[tuple[str, str, datetime], list[Bucket]] = {}
    seen: set[tuple[str, str, datetime, int]] = set()
    for b in buckets:
        if width_s % b.width_s:
            raise ValueError(f"a {b.width_s} s bucket does not fit a whole number of times in {width_s} s")
        identity = (b.monitor_id, b.region, b.start, b.width_s)
        if identity in seen:
            raise ValueError(f"bucket given twice: {b.monitor_id!r} in {b.region!r} at {b.start.isoformat()}")
        seen.add(identity)
        groups.setdefault((b.monitor_id, b.region, bucket_start(b.start, width_s)), []).append(b)
    merged = []
    for (monitor_id, region, start), group in sorted(groups.items()):
        bins = tuple(map(sum, zip(*(b.latency_bins for b in group), strict=True)))
        mins = [b.min_ms for b in group if b.min_ms is not None]
        maxes = [b.max_ms for b in group if b.max_ms is not None]
        low, high = (min(mins), max(maxes)) if mins else (None, None)
        if len(group) == 1:
            p50, p95, p99 = group[0].p50_ms, group[0].p95_ms, group[0].p99_ms
        else:
            p50, p95, p99 = (_histogram_percentile(bins, p, low, high) for p in _PERCENTILES)
        merged.append(Bucket(
            monitor_id=monitor_id,
            region=region,
            start=start,
            width_s=width_s,
            checks=sum(b.checks for b in group),
            failures=sum(b.failures for b in group),
            p50_ms=p50,
            p95_ms=p95,
            p99_ms=p99,
            min_ms=low,
            max_ms=high,
            latency_bins=bins,
        ))
    return merged


def combine(parts: Sequence[Bucket]) -> Bucket:
    """One bucket from parts of the same monitor, region, start and width: a
    stored bucket and the checks that arrived since (late ones included)."""
    first = parts[0]
    for b in parts[1:]:
        if (b.monitor_id, b.region, b.start, b.width_s) != (
                first.monitor_id, first.region, first.start, first.width_s):
            raise ValueError("combine() takes parts of one bucket")
    if len(parts) == 1:
        return first
    bins = tuple(map(sum, zip(*(b.latency_bins for b in parts), strict=True)))
    mins = [b.min_ms for b in parts if b.min_ms is not None]
    maxes = [b.max_ms for b in parts if b.max_ms is not None]
    low, high = (min(mins), max(maxes)) if mins else (None, None)
    p50, p95, p99 = (_histogram_percentile(bins, p, low, high) for p in _PERCENTILES)
    return Bucket(monitor_id=first.monitor_id, region=first.region, start=first.start,
                  width_s=first.width_s, checks=sum(b.checks for b in parts),
                  failures=sum(b.failures for b in parts), p50_ms=p50, p95_ms=p95, p99_ms=p99,
                  min_ms=low, max_ms=high, latency_bins=bins)


def pooled_percentile(buckets: Iterable[Bucket], pct: int) -> float | None:
    """A latency percentile over buckets of any monitors, regions and times
    (within the histogram's error bound); None without a successful check."""
    parts = list(buckets)
    if not parts:
        return None
    bins = tuple(map(sum, zip(*(b.latency_bins for b in parts), strict=True)))
    mins = [b.min_ms for b in parts if b.min_ms is not None]
    maxes = [b.max_ms for b in parts if b.max_ms is not None]
    if not mins:
        return None
    return _histogram_percentile(bins, pct, min(mins), max(maxes))


def uptime_pct(buckets: Iterable[Bucket]) -> float | None:
    """Share of successful checks over all checks, in percent; None without checks.

    Every check weighs the same, so a region that probes more often weighs more.
    """
    checks = failures = 0
    for b in buckets:
        checks += b.checks
        failures += b.failures
    if checks == 0:
        return None
    return 100.0 * (checks - failures) / checks


def bucket_start(at: datetime, width_s: int) -> datetime:
    """The start (UTC) of the ``width_s`` bucket that holds ``at``."""
    if at.tzinfo is None:
        # A naive datetime would be read in the machine's time zone and shift buckets.
        raise ValueError(f"naive datetime {at.isoformat()}: times must be timezone-aware UTC")
    width = timedelta(seconds=width_s)
    return _EPOCH + ((at - _EPOCH) // width) * width


def _check_width(width_s: int) -> None:
    # Widths that divide a day keep every bucket inside one UTC day, so days can
    # be built from any of them.
    if width_s <= 0 or 86400 % width_s:
        raise ValueError(f"bucket width {width_s} s must divide a day (e.g. {BUCKET_WIDTHS_S})")


def _rank(count: int, pct: int) -> int:
    # Integer arithmetic: 0.95 * 20 is 19.000000000000004 in floating point.
    return max(1, (pct * count + 99) // 100)


def _nearest_rank(sorted_values: Sequence[float], pct: int) -> float | None:
    if not sorted_values:
        return None
    return sorted_values[_rank(len(sorted_values), pct) - 1]


def _histogram_percentile(
    bins: Sequence[int], pct: int, low_ms: float | None, high_ms: float | None
) -> float | None:
    if low_ms is None or high_ms is None:
        return None
    cumulative = list(accumulate(bins))
    index = bisect_left(cumulative, _rank(cumulative[-1], pct))
    low, high = latency_bin_bounds(index)
    # The exact value lies in this bin and in [min, max]: narrowing to both
    # can only bring the middle closer to it, and turns the open-ended bins
    # into finite ones.
    low, high = max(low, low_ms), min(high, high_ms)
    return math.sqrt(low * high)
