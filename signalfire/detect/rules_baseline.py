"""The plain rule Signalfire's detectors are compared with: alarm when the current
bucket is more than 4× the median of the buckets before it.

Public outage trackers work roughly like this. It needs no history beyond the
window, has no idea of the time of day, and is a fair floor: a detector that
does not beat it by far is not worth its parameters.

- alarm when ``value > factor × median(previous window buckets)`` and
  ``value ≥ min_count`` (so 3 reports after a night of zeros page nobody);
- score ``value / max(factor × median, min_count)``, capped at 1;
- silent until the window is full; a missing value (NaN) gets a quiet verdict
  and does not enter the window.

Pure and causal; ``update_many`` gives exactly ``update``'s verdicts, faster.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Sequence

import numpy as np

from signalfire.detect.detector import Verdict

_QUIET = Verdict(0.0, False)


class RollingMedianRule:
    def __init__(self, *, window: int = 60, factor: float = 4.0, min_count: float = 14.0) -> None:
        if window < 1 or factor <= 0:
            raise ValueError("window must be ≥ 1 and factor > 0")
        self.window, self.factor, self.min_count = window, factor, min_count
        self._recent: deque[float] = deque()
        self._sorted: list[float] = []

    def _median(self) -> float:
        s, n = self._sorted, len(self._sorted)
        return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2

    def _verdict(self, value: float, median: float) -> Verdict:
        threshold = self.factor * median
        score = min(1.0, value / max(threshold, self.min_count, 1e-9))
        return Verdict(max(score, 0.0), value > threshold and value >= self.min_count)

    def update(self, at_s: float, value: float) -> Verdict:
        if math.isnan(value):
            return _QUIET
        verdict = _QUIET
        if len(self._recent) == self.window:
            verdict = self._verdict(value, self._median())
            old = self._recent.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]
        self._recent.append(value)
        bisect.insort(self._sorted, value)
        return verdict

    def update_many(self, times_s: Sequence[float],
                    values: Sequence[float]) -> tuple[list[float], list[bool]]:
        new = np.asarray(values, dtype=float)
        if len(times_s) != len(new):
            raise ValueError("times and values differ in length")
        present = ~np.isnan(new)
        kept = new[present]
        history = np.concatenate([np.array(self._recent, dtype=float), kept])
        w, before = self.window, len(self._recent)
        scores = np.zeros(len(new))
        alarms = np.zeros(len(new), dtype=bool)
        # The i-th kept value is judged against the `window` values just before it.
        first = max(w - before, 0)  # the first kept value with a full window
        if len(kept) > first:
            windows = np.lib.stride_tricks.sliding_window_view(history, w)
            # windows[j] ends just before history[j + w] = kept[j + w - before]
            medians = np.median(windows[first + before - w: len(history) - w], axis=1)
            judged = kept[first:]
            threshold = self.factor * medians
            score = np.minimum(1.0, judged / np.maximum(threshold, max(self.min_count, 1e-9)))
            idx = np.flatnonzero(present)[first:]
            scores[idx] = np.maximum(score, 0.0)
            alarms[idx] = (judged > threshold) & (judged >= self.min_count)
        tail = history[-w:].tolist()
        self._recent = deque(tail)
        self._sorted = sorted(tail)
        return scores.tolist(), alarms.tolist()
