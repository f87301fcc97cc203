import math
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from signalfire.domain.probe import Observation
from signalfire.domain.rollup import (
    LATENCY_BIN_COUNT,
    PERCENTILE_ERROR_FACTOR,
    Bucket,
    bucket_start,
    latency_bin,
    latency_bin_bounds,
    merge,
    rollup,
    uptime_pct,
)

DAY = datetime(2026, 6, 1, tzinfo=UTC)


def obs(at: datetime, ms: float, ok: bool = True, *, monitor_id="m", region="eu-west") -> Observation:
    return Observation(id=f"{monitor_id}-{region}-{at.isoformat()}-{ms}", monitor_id=monitor_id,
                       region=region, at=at, ok=ok, duration_ms=ms)


def at(seconds: float) -> datetime:
    return DAY + timedelta(seconds=seconds)


@pytest.mark.parametrize(("ms", "index"), [
    (0.0, 0),
    (0.999, 0),
    (1.0, 1),
    (1.25, 1),  # 2**(1/3) ≈ 1.26
    (1.27, 2),
    (2.0, 4),
    (100.0, 20),  # 3·log2(100) ≈ 19.9
    (65535.0, 48),
    (65536.0, 49),
    (1e9, 49),
])
def test_latency_bins_are_a_third_of_a_doubling_wide(ms, index):
    assert latency_bin(ms) == index


def test_bin_bounds_hold_the_values_put_in_them():
    assert latency_bin_bounds(0) == (0.0, 1.0)
    assert latency_bin_bounds(1) == (1.0, 2 ** (1 / 3))
    assert latency_bin_bounds(LATENCY_BIN_COUNT - 1) == (65536.0, math.inf)
    rng = random.Random(7)
    for _ in range(2000):
        ms = math.exp(rng.uniform(-3, 13))
        low, high = latency_bin_bounds(latency_bin(ms))
        assert low * (1 - 1e-12) <= ms < high * (1 + 1e-12)


@pytest.mark.parametrize(("when", "width_s", "start"), [
    (at(59.999), 60, at(0)),
    (at(60), 60, at(60)),
    (at(3599), 3600, at(0)),
    (at(3600 * 5 + 1), 3600, at(3600 * 5)),
    (at(86399), 86400, at(0)),
    (at(300), 300, at(300)),
    # 02:30 at UTC+3 is 23:30 UTC the day before.
    (datetime(2026, 6, 1, 2, 30, tzinfo=timezone(timedelta(hours=3))), 3600,
     datetime(2026, 5, 31, 23, 0, tzinfo=UTC)),
])
def test_buckets_start_at_the_floor_in_utc(when, width_s, start):
    assert bucket_start(when, width_s) == start
    assert bucket_start(when, width_s).tzinfo is UTC


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="naive"):
        rollup([obs(datetime(2026, 6, 1), 10)], 60)


@pytest.mark.parametrize("width_s", [0, -60, 7, 100_000])
def test_a_width_that_does_not_divide_a_day_is_refused(width_s):
    with pytest.raises(ValueError, match="must divide a day"):
        rollup([], width_s)
    with pytest.raises(ValueError, match="must divide a day"):
        merge([], width_s)


def test_rollup_counts_checks_and_failures_per_monitor_region_and_bucket():
    buckets = rollup([
        obs(at(61), 30, region="us-east"),
        obs(at(5), 10), obs(at(65), 20), obs(at(70), 9999, ok=False),
        obs(at(0), 40, monitor_id="a"),
    ], 60)
    assert [(b.monitor_id, b.region, b.start, b.checks, b.failures) for b in buckets] == [
        ("a", "eu-west", at(0), 1, 0),
        ("m", "eu-west", at(0), 1, 0),
        ("m", "eu-west", at(60), 2, 1),
        ("m", "us-east", at(60), 1, 0),
    ]
    failing = buckets[2]
    # The failed check's duration (a timeout) is not a latency.
    assert (failing.min_ms, failing.max_ms, failing.p99_ms) == (20, 20, 20)
    assert sum(failing.latency_bins) == 1 and len(failing.latency_bins) == LATENCY_BIN_COUNT
    assert (failing.width_s, failing.end, failing.successes) == (60, at(120), 1)


def test_a_bucket_without_successes_has_no_latency():
    (b,) = rollup([obs(at(0), 10_000, ok=False), obs(at(1), 10_000, ok=False)], 60)
    assert (b.checks, b.failures) == (2, 2)
    assert (b.p50_ms, b.p95_ms, b.p99_ms, b.min_ms, b.max_ms) == (None,) * 5
    assert sum(b.latency_bins) == 0


@pytest.mark.parametrize(("latencies", "p50", "p95", "p99"), [
    ([7.0], 7.0, 7.0, 7.0),
    (list(range(1, 101)), 50, 95, 99),
    # 0.95 × 20 is 19.000000000000004 in floating point; the 19th value is the answer.
    (list(range(1, 21)), 10, 19, 20),
    ([5.0, 1.0], 1.0, 5.0, 5.0),
])
def test_rollup_percentiles_are_exact_nearest_rank(latencies, p50, p95, p99):
    rng = random.Random(1)
    shuffled = rng.sample(latencies, len(latencies))
    (b,) = rollup([obs(at(i * 0.1), ms) for i, ms in enumerate(shuffled)], 60)
    assert (b.p50_ms, b.p95_ms, b.p99_ms) == (p50, p95, p99)
    assert (b.min_ms, b.max_ms) == (min(latencies), max(latencies))


def test_merge_adds_counts_and_keeps_min_and_max():
    minutes = rollup([obs(at(0), 10), obs(at(60), 300), obs(at(61), 0, ok=False), obs(at(3600), 50)], 60)
    hours = merge(minutes, 3600)
    assert [(b.start, b.width_s, b.checks, b.failures, b.min_ms, b.max_ms) for b in hours] == [
        (at(0), 3600, 3, 1, 10, 300),
        (at(3600), 3600, 1, 0, 50, 50),
    ]
    assert hours[0].latency_bins == tuple(a + b for a, b in zip(*(m.latency_bins for m in minutes[:2]), strict=True))


def test_a_bucket_alone_in_its_wider_bucket_keeps_its_percentiles():
    (minute,) = rollup([obs(at(i), 100 + i) for i in range(50)], 60)
    (hour,) = merge([minute], 3600)
    assert (hour.p50_ms, hour.p95_ms, hour.p99_ms) == (minute.p50_ms, minute.p95_ms, minute.p99_ms)


def test_merging_buckets_without_successes_gives_no_latency():
    minutes = rollup([obs(at(0), 1, ok=False), obs(at(60), 1, ok=False)], 60)
    (hour,) = merge(minutes, 3600)
    assert (hour.checks, hour.failures, hour.p50_ms, hour.min_ms) == (2, 2, None, None)


def test_merge_refuses_a_bucket_that_does_not_fit_or_comes_twice():
    hours = rollup([obs(at(0), 10)], 3600)
    with pytest.raises(ValueError, match="does not fit"):
        merge(hours, 60)
    with pytest.raises(ValueError, match="does not fit"):
        merge(hours, 5400)
    minutes = rollup([obs(at(0), 10)], 60)
    with pytest.raises(ValueError, match="given twice"):
        merge([*minutes, replace(minutes[0])], 3600)


def assert_within_bin_error(estimate: float, exact: float, high_ms: float) -> None:
    if exact < 1:
        assert abs(estimate - exact) < 1
    elif exact >= 2**16:
        assert 2**16 <= estimate <= high_ms
    else:
        slack = 1 + 1e-9  # bin edges are floating point
        assert exact / PERCENTILE_ERROR_FACTOR / slack <= estimate <= exact * PERCENTILE_ERROR_FACTOR * slack


def random_day(seed: int, *, median_ms: float, sigma: float) -> list[Observation]:
    """A day of checks every 20 s from two regions, log-normal latencies, 2 % failures."""
    rng = random.Random(seed)
    return [
        obs(at(t + rng.uniform(0, 19)), rng.lognormvariate(math.log(median_ms), sigma),
            ok=rng.random() > 0.02, region=region)
        for t in range(0, 86400, 20)
        for region in ("eu-west", "us-east")
    ]


@pytest.mark.parametrize(("seed", "median_ms", "sigma"), [
    (1, 120, 0.5),
    (2, 40, 1.2),
    # Wide enough to fill the bins under 1 ms and over 65.5 s too.
    (3, 30, 3.0),
])
def test_merged_percentiles_match_the_exact_ones_within_a_bin(seed, median_ms, sigma):
    observations = random_day(seed, median_ms=median_ms, sigma=sigma)
    minutes = rollup(observations, 60)
    hours = merge(minutes, 3600)
    for width_s, merged in ((3600, hours), (86400, merge(hours, 86400)), (86400, merge(minutes, 86400))):
        exact = rollup(observations, width_s)
        assert len(merged) == len(exact) > 0
        for m, e in zip(merged, exact, strict=True):
            assert (m.monitor_id, m.region, m.start, m.width_s) == (e.monitor_id, e.region, e.start, e.width_s)
            assert (m.checks, m.failures, m.min_ms, m.max_ms, m.latency_bins) == (
                e.checks, e.failures, e.min_ms, e.max_ms, e.latency_bins)
            for p in ("p50_ms", "p95_ms", "p99_ms"):
                assert_within_bin_error(getattr(m, p), getattr(e, p), e.max_ms)


def test_the_estimate_stays_in_the_bucket_range():
    # min == max narrows the bin down to the one value there is.
    minutes = rollup([obs(at(0), 100.0), obs(at(60), 100.0)], 60)
    (hour,) = merge(minutes, 3600)
    assert hour.p50_ms == hour.p99_ms == 100.0


@pytest.mark.parametrize("latencies", [
    [0.0, 0.2, 0.5, 0.9, 0.3, 0.7],
    [0.4, 0.9, 0.95, 3.0],
    [70_000.0, 80_000.0, 90_000.0, 66_000.0],
    [100.0, 70_000.0, 120_000.0, 200.0],
])
def test_the_open_ended_bins_stay_within_their_bounds(latencies):
    observations = [obs(at(60 * i), ms) for i, ms in enumerate(latencies)]
    (hour,) = merge(rollup(observations, 60), 3600)
    (exact,) = rollup(observations, 3600)
    for p in ("p50_ms", "p95_ms", "p99_ms"):
        assert_within_bin_error(getattr(hour, p), getattr(exact, p), exact.max_ms)


def bucket(checks: int, failures: int) -> Bucket:
    return Bucket("m", "eu-west", DAY, 60, checks, failures, None, None, None, None, None,
                  (0,) * LATENCY_BIN_COUNT)


@pytest.mark.parametrize(("buckets", "pct"), [
    ([], None),
    ([bucket(0, 0)], None),
    ([bucket(10, 1)], 90.0),
    ([bucket(10, 0), bucket(30, 10)], 75.0),
    ([bucket(4, 4)], 0.0),
])
def test_uptime_is_the_share_of_successful_checks(buckets, pct):
    assert uptime_pct(buckets) == pct


def test_combine_adds_the_parts_of_one_bucket():
    from datetime import UTC, datetime

    from signalfire.domain.probe import Observation
    from signalfire.domain.rollup import combine, rollup

    t = datetime(2026, 1, 1, 12, 0, 5, tzinfo=UTC)

    def ob(i, ms, ok=True):
        return Observation(id=str(i), monitor_id="m", region="eu", at=t, ok=ok, duration_ms=ms)

    (a,) = rollup([ob(1, 10), ob(2, 20)], 60)
    (b,) = rollup([ob(3, 400), ob(4, 5, ok=False)], 60)
    (whole,) = rollup([ob(1, 10), ob(2, 20), ob(3, 400), ob(4, 5, ok=False)], 60)
    c = combine([a, b])
    assert (c.checks, c.failures, c.min_ms, c.max_ms) == (whole.checks, whole.failures,
                                                          whole.min_ms, whole.max_ms)
    assert c.latency_bins == whole.latency_bins
    assert combine([a]) is a
