"""Waits between attempts: doubling, jittered between half and all, capped."""

from __future__ import annotations

import pytest

from signalfire.agent.backoff import Backoff


@pytest.mark.parametrize(("rng", "expected"), [
    (0.0, [0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0]),
    (1.0, [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]),
])
def test_it_doubles_up_to_the_cap(rng, expected):
    backoff = Backoff(first_s=1.0, cap_s=30.0, rng=lambda: rng)
    assert [backoff.next_s() for _ in expected] == expected


def test_it_starts_over_after_a_success():
    backoff = Backoff(rng=lambda: 1.0)
    for _ in range(5):
        backoff.next_s()
    backoff.reset()
    assert backoff.next_s() == 1.0


def test_a_retry_after_is_obeyed_but_capped():
    backoff = Backoff(rng=lambda: 0.0)
    assert backoff.next_s(at_least_s=12) == 12
    assert backoff.next_s(at_least_s=600) == 30.0


def test_nonsense_settings_are_refused():
    with pytest.raises(ValueError):
        Backoff(first_s=0)
    with pytest.raises(ValueError):
        Backoff(first_s=60, cap_s=30)
