"""How rare a value is in a series' own history: the novelty of a count.

A baseline that adapts (a level, a time-of-day profile) calls every burst of a
bursty series surprising; the series' history of values knows whether such a
count is common there. Pure: no clock, no I/O.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from collections import deque


class Novelty:
    """How rare a value is in the series' own history of values.

    ``observe`` answers with -log10 of the empirical tail probability of the new
    value among the last ``history`` ones (the smaller tail, with one pseudo-count),
    divided by log10(n + 1), the answer for a value beyond all n seen before: 1 for a
    record, near 0 for a value the series often has. Daily peaks, a CPU that
    jumps every night, a weekly rush are common values, however surprising they
    look to a baseline that forgot them.
    """

    def __init__(self, history: int) -> None:
        self._sorted: list[float] = []
        self._order: deque[float] = deque()
        self._history = max(1, history)

    def observe(self, value: float) -> float:
        x = float(value)
        if x != x:
            return 0.0
        ordered = self._sorted
        n = len(ordered)
        novelty = 0.0
        if n:
            at_least = n - bisect_left(ordered, x)
            at_most = bisect_right(ordered, x)
            rarest = at_least if at_least < at_most else at_most
            novelty = math.log10((n + 1) / (rarest + 1)) / math.log10(n + 1)
        insort(ordered, x)
        self._order.append(x)
        if n + 1 > self._history:
            del ordered[bisect_left(ordered, self._order.popleft())]
        return novelty
