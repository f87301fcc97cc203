"""The plain "4× the rolling median" rule Signalfire's detectors are compared with."""

import math

import numpy as np
import pytest

from signalfire.detect.registry import make_detector
from signalfire.detect.rules_baseline import RollingMedianRule


def verdicts(rule, values):
    return [rule.update(60.0 * i, v) for i, v in enumerate(values)]


@pytest.mark.parametrize(("history", "value", "alarm"), [
    ([5.0] * 60, 21.0, True),  # more than 4× and at least 14
    ([5.0] * 60, 20.0, False),  # exactly 4× is not more
    ([2.0] * 60, 13.0, False),  # 6.5× but under the absolute minimum
    ([2.0] * 60, 14.0, True),
    ([0.0] * 60, 3.0, False),  # a quiet night: three reports page nobody
    ([10.0] * 29 + [100.0] * 31, 300.0, False),  # the median has caught up with a new level
])
def test_it_alarms_above_4x_the_median_and_the_minimum(history, value, alarm):
    rule = RollingMedianRule()
    verdicts(rule, history)
    verdict = rule.update(1e6, value)
    assert verdict.alarm is alarm
    assert 0.0 <= verdict.score <= 1.0
    assert (verdict.score == 1.0) == (value >= max(4 * np.median(history), 14))


def test_it_is_silent_until_its_window_is_full():
    rule = RollingMedianRule(window=10)
    assert not any(v.alarm for v in verdicts(rule, [1.0] * 9 + [1000.0]))
    assert rule.update(0.0, 1000.0).alarm


def test_a_missing_value_is_quiet_and_stays_out_of_the_window():
    rule = RollingMedianRule(window=3, min_count=0)
    verdicts(rule, [1.0, 1.0, 1.0])
    assert rule.update(0.0, math.nan).alarm is False
    assert rule.update(0.0, 5.0).alarm is True


@pytest.mark.parametrize("chunks", [[500], [1, 59, 440], [61, 439], [7] * 71 + [3]])
def test_update_many_gives_the_very_verdicts_of_update(chunks):
    rng = np.random.default_rng(4)
    values = rng.poisson(3.0, 500).astype(float)
    values[200:230] += 40
    values[[10, 90, 333]] = np.nan
    one = RollingMedianRule()
    expected = verdicts(one, values.tolist())
    many = RollingMedianRule()
    scores, alarms = [], []
    at = 0
    for size in chunks:
        s, a = many.update_many([60.0 * i for i in range(at, at + size)], values[at:at + size])
        scores += s
        alarms += a
        at += size
    assert alarms == [v.alarm for v in expected]
    assert scores == [v.score for v in expected]
    assert any(alarms)


def test_it_is_registered_by_name():
    assert isinstance(make_detector("rolling-median-4x"), RollingMedianRule)


def test_it_refuses_an_empty_window():
    with pytest.raises(ValueError):
        RollingMedianRule(window=0)
