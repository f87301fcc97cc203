"""The streaming detectors: quiet on the usual, loud on outages, causal, exact replays."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest

from signalfire.detect.auto import AutoDetector
from signalfire.detect.counts import CountsDetector
from signalfire.detect.detector import score_series
from signalfire.detect.novelty import Novelty
from signalfire.detect.periods import BucketClock
from signalfire.detect.registry import DEFAULT_DETECTOR, DETECTORS, make_detector
from signalfire.detect.tails import chi2_upper_nlp, nb_lower_nlp, nb_upper_nlp, normal_upper_nlp
from signalfire.detect.values import ValuesDetector

START_S = 1_767_571_200.0  # 2026-01-05 00:00 UTC, a Monday
MINUTE_S = 60.0
DAY_MIN = 1440


def daily_rate(minutes: np.ndarray, *, peak: float, night: float) -> np.ndarray:
    """A day shaped like a service's users: quiet at 04:00 UTC, busiest at 16:00."""
    phase = np.cos(2.0 * np.pi * ((minutes % DAY_MIN) / DAY_MIN - 16.0 / 24.0))
    return night + (peak - night) * (0.5 + 0.5 * phase)


def poisson_series(rate: np.ndarray, seed: int) -> list[float]:
    return np.random.default_rng(seed).poisson(rate).astype(float).tolist()


def minutes_times(n: int, *, bucket_s: float = MINUTE_S) -> list[float]:
    return [START_S + bucket_s * i for i in range(n)]


def alarm_minutes(alarms: list[bool]) -> list[int]:
    """The buckets where an alarm episode starts."""
    return [i for i, a in enumerate(alarms) if a and (i == 0 or not alarms[i - 1])]


# -- counts -----------------------------------------------------------------


@pytest.mark.parametrize(("rate", "seed"), [(0.5, 1), (5.0, 2), (40.0, 3)])
def test_a_flat_poisson_series_stays_quiet(rate: float, seed: int) -> None:
    n = 7 * DAY_MIN
    values = poisson_series(np.full(n, rate), seed)
    _, alarms = score_series(CountsDetector(), minutes_times(n), values)
    assert alarm_minutes(alarms) == []


def with_daily_rhythm(days: int, seed: int, *, peak: float = 30.0, night: float = 3.0
                      ) -> tuple[np.ndarray, list[float]]:
    rate = daily_rate(np.arange(days * DAY_MIN), peak=peak, night=night)
    return rate, poisson_series(rate, seed)


@pytest.mark.parametrize(("factor", "onset_hour", "within_min"), [
    (10.0, 16, 1),  # at the peak: the first minute says it all
    (10.0, 4, 3),  # in the night: a few minutes
    (3.0, 16, 3),
    (3.0, 4, 10),
])
def test_an_outage_alarms_within_a_few_buckets(factor: float, onset_hour: int, within_min: int) -> None:
    rate, _ = with_daily_rhythm(10, seed=7)
    onset = 8 * DAY_MIN + onset_hour * 60
    rate = rate.copy()
    rate[onset:onset + 60] *= factor
    values = poisson_series(rate, seed=7)
    _, alarms = score_series(CountsDetector(), minutes_times(len(values)), values)
    starts = alarm_minutes(alarms)
    assert [s for s in starts if s < onset] == []
    assert starts and onset <= starts[0] <= onset + within_min


@pytest.mark.parametrize(("factor", "hours"), [(1.5, 1), (1.5, 3), (1.8, 24)])
def test_benign_bumps_and_busy_days_stay_quiet(factor: float, hours: int) -> None:
    rate, _ = with_daily_rhythm(12, seed=11)
    rate = rate.copy()
    start = 9 * DAY_MIN + 10 * 60 if hours < 24 else 9 * DAY_MIN
    rate[start:start + hours * 60] *= factor
    values = poisson_series(rate, seed=11)
    _, alarms = score_series(CountsDetector(), minutes_times(len(values)), values)
    assert alarm_minutes(alarms) == []


def test_three_reports_on_a_quiet_night_page_nobody() -> None:
    n = 5 * DAY_MIN
    values = [0.0] * n
    night = 4 * DAY_MIN + 3 * 60
    values[night:night + 3] = [1.0, 1.0, 1.0]
    scores, alarms = score_series(CountsDetector(), minutes_times(n), values)
    assert not any(alarms)
    assert max(scores[night:night + 3]) > 0.0  # unusual, and the score says so


def test_a_past_outage_does_not_poison_the_baseline() -> None:
    rate, _ = with_daily_rhythm(17, seed=5)
    rate = rate.copy()
    first = 6 * DAY_MIN + 14 * 60
    second = first + 7 * DAY_MIN  # same time, same weekday, a week later
    for onset in (first, second):
        rate[onset:onset + 120] *= 3.0
    values = poisson_series(rate, seed=5)
    detector = CountsDetector()
    expected_before = []
    alarms = []
    for i, (at_s, value) in enumerate(zip(minutes_times(len(values)), values, strict=True)):
        if i in (first, second):
            expected_before.append(detector.expected(at_s))
        alarms.append(detector.update(at_s, value).alarm)
    starts = alarm_minutes(alarms)
    assert any(first <= s <= first + 5 for s in starts)
    assert any(second <= s <= second + 5 for s in starts)
    assert expected_before[1] < 1.3 * expected_before[0]


def test_the_counts_floor_and_ratio_are_options() -> None:
    n = 3 * DAY_MIN
    values = [2.0] * n
    values[2 * DAY_MIN:2 * DAY_MIN + 10] = [8.0] * 10  # 60 extra over 10 minutes, 4x
    times = minutes_times(n)
    _, strict = score_series(CountsDetector(min_excess=100.0), times, values)
    _, lenient = score_series(CountsDetector(min_excess=5.0), times, values)
    assert not any(strict)
    assert any(lenient)


def test_missing_or_negative_counts_teach_nothing() -> None:
    detector = CountsDetector()
    assert detector.update(START_S, math.nan).score == 0.0
    assert detector.update(START_S + 60, -1.0).alarm is False


# -- values -----------------------------------------------------------------


def noisy_values(n: int, seed: int, *, level: float = 100.0, sd: float = 5.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(level, sd, n)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_steady_values_stay_quiet(seed: int) -> None:
    values = noisy_values(3 * DAY_MIN, seed).tolist()
    _, alarms = score_series(ValuesDetector(), minutes_times(len(values)), values)
    assert alarm_minutes(alarms) == []


@pytest.mark.parametrize(("change", "within_min"), [
    ("level up", 3),
    ("level down", 3),
    ("variance", 20),
])
def test_values_level_shift_and_variance_change_alarm(change: str, within_min: int) -> None:
    n = 2 * DAY_MIN
    values = noisy_values(n, 9)
    onset = DAY_MIN + 600
    rng = np.random.default_rng(10)
    if change == "level up":
        values[onset:] += 40.0
    elif change == "level down":
        values[onset:] -= 40.0
    else:
        values[onset:] = 100.0 + rng.normal(0.0, 25.0, n - onset)
    _, alarms = score_series(ValuesDetector(), minutes_times(n), values.tolist())
    starts = alarm_minutes(alarms)
    assert [s for s in starts if s < onset] == []
    assert starts and starts[0] <= onset + within_min


def test_values_direction_up_ignores_drops() -> None:
    n = 2 * DAY_MIN
    values = noisy_values(n, 4)
    values[DAY_MIN:] -= 40.0
    _, alarms = score_series(ValuesDetector(direction="up"), minutes_times(n), values.tolist())
    assert not any(alarms)


def test_values_direction_is_checked() -> None:
    with pytest.raises(ValueError, match="direction"):
        ValuesDetector(direction="sideways")
    with pytest.raises(ValueError, match="direction"):
        CountsDetector(direction="down")


# -- buckets and seasons --------------------------------------------------------


@pytest.mark.parametrize(("bucket_s", "slots_per_day"), [
    (60.0, 96),  # 1 min: 15-minute slots
    (300.0, 96),  # 5 min: 15-minute slots
    (3600.0, 24),  # 1 h: one slot per hour
])
def test_the_bucket_size_and_slots_are_learnt(bucket_s: float, slots_per_day: int) -> None:
    clock = BucketClock()
    times = [START_S + bucket_s * i for i in range(40)]
    del times[7]  # a missing bucket among the first ones does not fool it
    for at_s in times:
        clock.observe(at_s)
    assert clock.bucket_s == bucket_s
    assert clock.slots_per_day == slots_per_day
    assert clock.slot_of_day(START_S + 86_400.0 - 1.0) == slots_per_day - 1


def test_a_gap_counts_its_missing_buckets() -> None:
    clock = BucketClock(bucket_s=300.0)
    clock.observe(START_S)
    assert clock.observe(START_S + 3000.0) == 10.0


@pytest.mark.parametrize("bucket_s", [60.0, 300.0, 3600.0])
def test_counts_learn_the_rhythm_at_any_bucket_size(bucket_s: float) -> None:
    per_day = int(86_400 // bucket_s)
    days = 21
    minutes = np.arange(days * per_day) * (bucket_s / 60.0)
    rate = daily_rate(minutes, peak=30.0, night=3.0) * (bucket_s / 60.0)
    values = poisson_series(rate, seed=3)
    detector = CountsDetector()
    times = [START_S + bucket_s * i for i in range(len(values))]
    score_series(detector, times, values)
    peak_s = START_S + days * 86_400.0 + 16 * 3600.0
    night_s = START_S + days * 86_400.0 + 4 * 3600.0
    ratio = detector.expected(peak_s) / detector.expected(night_s)
    assert 5.0 < ratio < 15.0  # the true ratio is 10


# -- the contract -----------------------------------------------------------


def mixed_series(seed: int) -> tuple[list[float], list[float]]:
    rate, _ = with_daily_rhythm(3, seed)
    rate = rate.copy()
    rate[2 * DAY_MIN + 100:2 * DAY_MIN + 160] *= 6.0
    values = poisson_series(rate, seed)
    times = minutes_times(len(values))
    del times[500:530], values[500:530]  # a gap
    return times, values


FACTORIES = {
    "counts": CountsDetector,
    "values": ValuesDetector,
    "values with a local test": partial(ValuesDetector, local_halflife_buckets=10.0, seasonal=True),
    "auto": AutoDetector,
    "auto on values": AutoDetector,
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_update_many_equals_update_point_by_point(name: str) -> None:
    times, values = mixed_series(21)
    if name == "auto on values":
        values = [v + 0.25 for v in values]
    many_scores, many_alarms = FACTORIES[name]().update_many(times, values)
    one = FACTORIES[name]()
    verdicts = [one.update(t, v) for t, v in zip(times, values, strict=True)]
    assert many_scores == [v.score for v in verdicts]
    assert many_alarms == [v.alarm for v in verdicts]
    assert any(many_alarms)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_a_prefix_gives_the_first_verdicts_of_the_whole(name: str) -> None:
    times, values = mixed_series(22)
    whole = FACTORIES[name]().update_many(times, values)
    cut = 2 * DAY_MIN + 120
    prefix = FACTORIES[name]().update_many(times[:cut], values[:cut])
    assert prefix == (whole[0][:cut], whole[1][:cut])


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_scores_stay_in_the_unit_interval(name: str) -> None:
    times, values = mixed_series(23)
    scores, _ = FACTORIES[name]().update_many(times, values)
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_auto_picks_counts_or_values_from_the_data() -> None:
    counts = AutoDetector()
    values = AutoDetector()
    for i in range(30):
        counts.update(START_S + 60 * i, float(i % 4))
        values.update(START_S + 60 * i, 0.5 + i % 4)
    assert (counts.kind, values.kind) == ("counts", "values")


def test_auto_scores_an_anomaly_once() -> None:
    times, values = mixed_series(24)
    scores, alarms = AutoDetector().update_many(times, values)
    onset = 2 * DAY_MIN + 100 - 30  # 30 minutes were cut out by the gap
    assert len(alarm_minutes(alarms[onset - 5:onset + 60])) == 1  # one episode
    assert sum(1 for s in scores[onset - 5:onset + 60] if s > 0.0) == 1  # one score


def test_the_registry_knows_the_detectors() -> None:
    assert {"counts", "values", "auto"} <= set(DETECTORS)
    assert DEFAULT_DETECTOR == "auto"
    assert isinstance(make_detector("counts"), CountsDetector)


# -- tails ------------------------------------------------------------------


@pytest.mark.parametrize(("count", "mean", "exact"), [
    (10, 2.0, 4.65e-5),  # P(Poisson(2) >= 10)
    (30, 10.0, 2.51e-7),  # P(Poisson(10) >= 30)
    (120, 100.0, 0.0282),  # P(Poisson(100) >= 120)
])
def test_the_poisson_tail_is_close_to_exact(count: int, mean: float, exact: float) -> None:
    assert nb_upper_nlp(count, mean, 0.0) == pytest.approx(-math.log10(exact), abs=0.2)


def test_overdispersion_makes_a_count_less_surprising() -> None:
    assert nb_upper_nlp(30, 10.0, 0.2) < nb_upper_nlp(30, 10.0, 0.0)
    assert nb_upper_nlp(5, 10.0, 0.0) == 0.0
    assert nb_lower_nlp(0, 10.0, 0.0) == pytest.approx(10.0 / math.log(10.0), rel=0.15)
    assert nb_lower_nlp(12, 10.0, 0.0) == 0.0


def test_normal_and_chi2_tails() -> None:
    assert normal_upper_nlp(0.0) == pytest.approx(math.log10(2.0))
    assert normal_upper_nlp(7.5) == pytest.approx(-math.log10(3.19e-14), abs=0.02)
    assert chi2_upper_nlp(5.0, 10) == 0.0
    assert chi2_upper_nlp(40.0, 10) == pytest.approx(-math.log10(1.74e-5), abs=0.2)


def test_values_can_learn_a_daily_profile() -> None:
    n = 10 * DAY_MIN
    minutes = np.arange(n)
    values = 100.0 + 50.0 * np.sin(2.0 * np.pi * minutes / DAY_MIN)
    values += np.random.default_rng(8).normal(0.0, 2.0, n)
    onset = 9 * DAY_MIN + 360  # at the daily high, a shift the daily swing would hide
    values[onset:onset + 120] -= 30.0
    _, plain = score_series(ValuesDetector(), minutes_times(n), values.tolist())
    _, seasonal = score_series(ValuesDetector(seasonal=True), minutes_times(n), values.tolist())
    late = 8 * DAY_MIN
    assert [s for s in alarm_minutes(seasonal) if late <= s < onset] == []
    assert any(onset <= s <= onset + 10 for s in alarm_minutes(seasonal))
    assert not any(onset <= s <= onset + 10 for s in alarm_minutes(plain))  # hidden by the swing


def test_the_local_test_sees_a_jump_a_slow_baseline_calls_ordinary() -> None:
    n = 2 * DAY_MIN
    rng = np.random.default_rng(12)
    # a level that wanders widely over the day, with little noise minute to minute
    values = 100.0 + 40.0 * np.sin(2.0 * np.pi * np.arange(n) / 700.0) + rng.normal(0.0, 1.0, n)
    onset = DAY_MIN + 300
    values[onset:onset + 5] += 40.0  # within the day's swing, far above the last minutes
    times = minutes_times(n)
    _, plain = score_series(ValuesDetector(), times, values.tolist())
    _, local = score_series(ValuesDetector(local_halflife_buckets=10.0), times, values.tolist())
    assert any(onset <= s <= onset + 2 for s in alarm_minutes(local))
    assert not any(onset <= s <= onset + 2 for s in alarm_minutes(plain))


@pytest.mark.parametrize(("values", "gaps_s", "kind"), [
    ([float(i % 7) for i in range(30)], [300.0] * 29, "counts"),
    ([float(i % 7) for i in range(30)], [300.0, 600.0, 900.0] * 9 + [300.0, 300.0], "counts"),  # gaps
    ([float(200 + i % 7) for i in range(30)], [840.0, 600.0, 900.0] * 9 + [660.0, 600.0], "values"),  # per trip
    ([float(5000 + i % 7) for i in range(30)], [300.0] * 29, "values"),  # too big to be Poisson
])
def test_auto_tells_counts_from_measurements(values: list[float], gaps_s: list[float], kind: str) -> None:
    detector = AutoDetector()
    at_s = START_S
    for value, gap_s in zip(values, [0.0, *gaps_s], strict=True):
        at_s += gap_s
        detector.update(at_s, value)
    assert detector.kind == kind


def test_counts_both_directions_hear_a_drop() -> None:
    n = 3 * DAY_MIN
    values = poisson_series(np.full(n, 40.0), seed=13)
    drop = 2 * DAY_MIN
    values[drop:drop + 30] = [0.0] * 30
    times = minutes_times(n)
    up_scores, _ = score_series(CountsDetector(), times, values)
    both_scores, _ = score_series(CountsDetector(direction="both"), times, values)
    assert max(up_scores[drop:drop + 30]) < 0.2
    assert max(both_scores[drop:drop + 30]) > 0.5


# -- novelty ----------------------------------------------------------------


@pytest.mark.parametrize(("history", "value", "novelty"), [
    ([], 5.0, 0.0),  # nothing to compare with
    ([1.0, 2.0, 3.0], 9.0, 1.0),  # beyond everything seen: a record
    ([1.0, 2.0, 3.0], 0.0, 1.0),  # below everything seen: a record too
    ([1.0, 2.0, 3.0], 2.0, math.log10(4 / 3) / math.log10(4)),  # the middle: common
    ([2.0] * 99, 2.0, 0.0),  # the usual value
    ([2.0] * 98 + [40.0], 40.0, math.log10(100 / 2) / math.log10(100)),  # seen once
])
def test_novelty_is_the_rarity_of_a_value_in_its_history(
        history: list[float], value: float, novelty: float) -> None:
    seen = Novelty(1000)
    for x in history:
        seen.observe(x)
    assert seen.observe(value) == pytest.approx(novelty)


def test_novelty_forgets_values_beyond_its_history() -> None:
    seen = Novelty(3)
    for x in (50.0, 1.0, 1.0, 1.0):  # 50 has left the history of 3
        seen.observe(x)
    assert seen.observe(50.0) == pytest.approx(1.0)
    assert seen.observe(float("nan")) == 0.0  # a missing value is no news


def test_auto_counts_a_burst_like_those_of_every_day_as_no_onset_and_a_record_as_one() -> None:
    per_day = 288  # 5-minute buckets
    days = 16
    values = np.random.default_rng(21).poisson(np.full(days * per_day, 5.0)).astype(float)
    # a burst of 60 a day at a random hour (news: no time-of-day profile can learn it)
    starts = [day * per_day + int(h) for day, h in enumerate(np.random.default_rng(4).integers(20, 260, days))]
    record = 14 * per_day + 150
    for start in starts:
        if not record - per_day // 2 < start < record + per_day // 2:
            values[start:start + 6] = 60.0
    values[record:record + 6] = 300.0  # once, much bigger
    times = minutes_times(len(values), bucket_s=300.0)
    scores, _ = AutoDetector().update_many(times, values.tolist())
    plain, _ = AutoDetector(counts_novelty_gate=0.0).update_many(times, values.tolist())
    later = [s for s in starts[1:] if abs(s - record) > per_day // 2]
    assert max(max(scores[s - 3:s + 10]) for s in later) == 0.0  # a common burst by now
    assert max(max(plain[s - 3:s + 10]) for s in later) > 0.3  # though the baseline is surprised
    assert max(scores[record:record + 6]) > 0.5
