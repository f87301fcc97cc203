"""NAB scoring of a detector's anomaly scores against labelled windows.

This is the method of the Numenta Anomaly Benchmark (Lavin and Ahmad, 2015;
NAB 1.x's ``sweeper``, ``optimizer`` and ``runner.normalize``), written again so
that a score here compares with NAB's published scoreboard:

- A row is a detection when its anomaly score is at least the threshold.
- Every row gets a weight from a scaled sigmoid, ``σ(x) = 2 / (1 + e^(5x)) - 1``
  (``-1`` when ``x > 3``). Inside a window of ``w`` rows ending at row ``r``,
  row ``i`` sits at ``x = -(r - i + 1) / w``: the first row of the window is
  worth ``tp_weight``, the last one almost nothing. Only the first detection in
  a window counts (the window's score is the best of its detections, and the
  earliest is the best); a window without a detection costs ``-fn_weight``.
- A detection outside every window is a false positive worth
  ``σ(x) * fp_weight`` with ``x = (i - r) / (w - 1)`` measured from the last
  row ``r`` of the preceding window of width ``w``: right after a window it
  costs little (the detector was late, not wrong), far after it (``x > 3``) or
  before any window it costs the full ``-fp_weight``. Each one counts.
- The first 15 % of each file (at most 750 rows) is probation: nothing there
  counts, neither detections nor the part of a window that falls in it.
- A file's raw score is the sum of these. The threshold is one for the whole
  corpus, chosen per profile as the one that gives the best total (NAB sweeps
  every distinct anomaly score; ties go to the higher threshold, and never
  alarming is the threshold 1.1).
- The corpus score is normalised so that the null detector (no detection:
  ``-fn_weight`` per window) scores 0 and a perfect one (a detection on the
  first row of every window, nothing else: ``tp_weight`` per window) scores 100.

Where NAB needs window edges to be row timestamps, a window here covers the rows
whose timestamps fall within ``[start_s, end_s]`` (the same rows when the edges
are timestamps); overlapping windows are merged; windows without a scored row
(empty or wholly in probation) do not count, as in NAB.

Beyond NAB, each window reports its time to detection and each file its false
alarms per day outside windows, which is what an operator tunes against.

Pure: no I/O. Timestamps are seconds since the epoch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

PROBATION_FRACTION = 0.15
PROBATION_MAX_ROWS = 750  # NAB: 0.15 * 5000
NEVER_THRESHOLD = 1.1  # NAB's threshold for "no detection at all"; scores are in [0, 1]
SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class CostMatrix:
    tp_weight: float
    fp_weight: float
    fn_weight: float


PROFILES: Mapping[str, CostMatrix] = MappingProxyType({
    "standard": CostMatrix(tp_weight=1.0, fp_weight=0.11, fn_weight=1.0),
    "reward_low_FP_rate": CostMatrix(tp_weight=1.0, fp_weight=0.22, fn_weight=1.0),
    "reward_low_FN_rate": CostMatrix(tp_weight=1.0, fp_weight=0.11, fn_weight=2.0),
})
_ALIASES = {"reward_low_FP": "reward_low_FP_rate", "reward_low_FN": "reward_low_FN_rate"}


def profile_name(name: str) -> str:
    """The canonical name of a profile (``reward_low_FP`` is ``reward_low_FP_rate``)."""
    canonical = _ALIASES.get(name, name)
    if canonical not in PROFILES:
        raise ValueError(f"unknown NAB profile {name!r} (known: {', '.join(PROFILES)})")
    return canonical


def scaled_sigmoid(x: np.ndarray) -> np.ndarray:
    """NAB's weight of a row at relative position ``x`` (see the module docstring)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore"):  # e^(5x) overflows to inf far out: 2/inf - 1 = -1, as meant
        y = 2.0 / (1.0 + np.exp(5.0 * x)) - 1.0
    return np.where(x > 3.0, -1.0, y)


MAX_TP = float(scaled_sigmoid(np.array(-1.0)))  # the first row of a window, before scaling


def probation_rows(n_rows: int) -> int:
    """Rows at the start of a file that are never scored."""
    return min(math.floor(PROBATION_FRACTION * n_rows), PROBATION_MAX_ROWS)


@dataclass(frozen=True, slots=True)
class WindowResult:
    start_s: float
    end_s: float
    detected_at_s: float | None  # the first detection inside the window; None = missed
    score: float  # its part of the file's raw score

    @property
    def detected(self) -> bool:
        return self.detected_at_s is not None

    @property
    def time_to_detection_s(self) -> float | None:
        """Seconds from the window's start to its first detection."""
        return None if self.detected_at_s is None else self.detected_at_s - self.start_s


@dataclass(frozen=True, slots=True)
class FileResult:
    raw_score: float
    tp: int  # windows detected
    fp: int  # detections outside windows, after probation
    fn: int  # windows missed
    windows: tuple[WindowResult, ...]
    outside_s: float  # scored time outside windows, for the false alarm rate

    @property
    def false_alarms_per_day(self) -> float:
        return _per_day(self.fp, self.outside_s)


@dataclass(frozen=True, slots=True)
class NabResult:
    profile: str
    threshold: float
    score: float  # normalised: null detector 0, perfect detector 100
    raw_score: float
    null_score: float
    perfect_score: float
    files: Mapping[str, FileResult]

    @property
    def tp(self) -> int:
        return sum(f.tp for f in self.files.values())

    @property
    def fp(self) -> int:
        return sum(f.fp for f in self.files.values())

    @property
    def fn(self) -> int:
        return sum(f.fn for f in self.files.values())

    @property
    def false_alarms_per_day(self) -> float:
        return _per_day(self.fp, sum(f.outside_s for f in self.files.values()))

    @property
    def times_to_detection_s(self) -> list[float]:
        return [w.time_to_detection_s for f in self.files.values() for w in f.windows
                if w.time_to_detection_s is not None]


def _per_day(count: int, seconds: float) -> float:
    return count / (seconds / SECONDS_PER_DAY) if seconds > 0 else 0.0


# -- preparation: everything that does not depend on the profile or the threshold -----

@dataclass(slots=True)
class _File:
    name: str
    times_s: np.ndarray
    scores: np.ndarray
    first_scored: int  # rows before this one are probation
    lefts: np.ndarray  # first and last row of each window with a scored row
    rights: np.ndarray
    starts_s: np.ndarray
    ends_s: np.ndarray
    window_of: np.ndarray  # per row: index of its window, -1 outside
    position: np.ndarray  # per row: NAB's unweighted sigmoid (positive inside, negative outside)
    outside_s: float


def _merged(windows: Sequence[tuple[float, float]], name: str) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start_s, end_s in sorted((float(a), float(b)) for a, b in windows):
        if end_s < start_s:
            raise ValueError(f"{name}: window ends before it starts ({start_s} > {end_s})")
        if merged and start_s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end_s))
        else:
            merged.append((start_s, end_s))
    return merged


def _prepare(name: str, times: Sequence[float], scores: Sequence[float],
             windows: Sequence[tuple[float, float]]) -> _File:
    t = np.asarray(times, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    if t.ndim != 1 or t.shape != s.shape:
        raise ValueError(f"{name}: {t.size} timestamps but {s.size} anomaly scores")
    if t.size > 1 and not bool(np.all(t[1:] >= t[:-1])):
        raise ValueError(f"{name}: timestamps go back in time")
    if not bool(np.all(np.isfinite(s))):
        raise ValueError(f"{name}: anomaly scores must be finite numbers")
    n = t.size
    first = probation_rows(n)
    lefts, rights, starts, ends = [], [], [], []
    for start_s, end_s in _merged(windows, name):
        left = int(np.searchsorted(t, start_s, side="left"))
        right = int(np.searchsorted(t, end_s, side="right")) - 1
        if right >= 0:
            # NAB's data repeats a few timestamps (clock changes); like NAB, a window
            # ends at the first row with its end time.
            right = int(np.searchsorted(t, t[right], side="left"))
        if left <= right:
            lefts.append(left)
            rights.append(right)
            starts.append(start_s)
            ends.append(end_s)
    window_of = np.full(n, -1, dtype=np.int64)
    position = np.full(n, -1.0)  # outside, before any window: the full false positive weight
    for k, (left, right) in enumerate(zip(lefts, rights, strict=True)):
        width = right - left + 1
        window_of[left:right + 1] = k
        rows = np.arange(left, right + 1)
        position[left:right + 1] = scaled_sigmoid(-(right - rows + 1) / width)
    outside = np.flatnonzero(window_of < 0)
    r = np.asarray(rights, dtype=np.int64)
    if r.size and outside.size:
        prev = np.searchsorted(r, outside, side="left") - 1  # the last window ending before the row
        after = outside[prev >= 0]
        prev = prev[prev >= 0]
        widths = r[prev] - np.asarray(lefts, dtype=np.int64)[prev] + 1
        # NAB divides by (width - 1); a one-row window would divide by zero there.
        position[after] = scaled_sigmoid((after - r[prev]) / np.maximum(widths - 1, 1))
    # A window wholly in probation still counts as the preceding window of the false
    # positives after it (as in NAB), but is neither a hit nor a miss.
    kept = r >= first
    renumber = np.append(np.where(kept, np.cumsum(kept) - 1, -1), -1)
    window_of = renumber[window_of]  # -1 (outside) picks the appended -1
    return _File(name, t, s, first, np.asarray(lefts, dtype=np.int64)[kept], r[kept],
                 np.asarray(starts)[kept], np.asarray(ends)[kept], window_of, position,
                 _outside_seconds(t, first, starts, ends))


def _outside_seconds(t: np.ndarray, first: int, starts: list[float], ends: list[float]) -> float:
    if t.size - first < 2:
        return 0.0
    begin, end = float(t[first]), float(t[-1])
    inside = sum(max(0.0, min(b, end) - max(a, begin)) for a, b in zip(starts, ends, strict=True))
    return max(0.0, end - begin - inside)


def _weights(f: _File, cost: CostMatrix) -> np.ndarray:
    return np.where(f.window_of >= 0, f.position * (cost.tp_weight / MAX_TP),
                    f.position * cost.fp_weight)


# -- the threshold sweep ------------------------------------------------------------------

def _gains(f: _File, cost: CostMatrix) -> np.ndarray:
    """What each scored row adds to the file's total when the threshold falls to its score.

    A false positive adds its (negative) weight. A window is worth the weight of its
    earliest detected row (weights fall along a window), or -fn_weight while none is
    detected; as the threshold falls, the earliest detected row changes only at the
    rows that score above every row before them in the window ("records"), from the
    last record back to the first. Each record adds the difference to the record
    after it (the last one: to -fn_weight); other window rows add nothing.
    """
    weights = _weights(f, cost)
    gains = np.where(f.window_of >= 0, 0.0, weights)
    for left, right in zip(f.lefts.tolist(), f.rights.tolist(), strict=True):
        left = max(left, f.first_scored)
        segment = f.scores[left:right + 1]
        records = np.ones(segment.size, dtype=bool)
        records[1:] = segment[1:] > np.maximum.accumulate(segment)[:-1]
        rows = np.flatnonzero(records) + left
        value = weights[rows]
        after = np.empty_like(value)
        after[:-1] = value[1:]
        after[-1] = -cost.fn_weight
        gains[rows] = value - after
    return gains[f.first_scored:]


def _best_threshold(files: list[_File], cost: CostMatrix) -> float:
    """NAB's sweep: the corpus total at every distinct anomaly score, in one pass."""
    if not files:
        return NEVER_THRESHOLD
    s = np.concatenate([f.scores[f.first_scored:] for f in files])
    if s.size == 0:
        return NEVER_THRESHOLD
    gains = np.concatenate([_gains(f, cost) for f in files])
    # Rows join from the highest score down. Among equal scores the order does not
    # matter: a total is read only after the last row of each score has joined.
    order = np.argsort(-s)
    s_sorted = s[order]
    base = -cost.fn_weight * sum(f.lefts.size for f in files)
    totals = base + np.cumsum(gains[order])
    last_of_score = np.ones(s.size, dtype=bool)
    last_of_score[:-1] = s_sorted[1:] != s_sorted[:-1]
    candidates = np.concatenate(([base], totals[last_of_score]))
    thresholds = np.concatenate(([NEVER_THRESHOLD], s_sorted[last_of_score]))
    return float(thresholds[int(np.argmax(candidates))])  # first best: the highest threshold


# -- scoring at one threshold ---------------------------------------------------------------

def _score_file(f: _File, cost: CostMatrix, threshold: float) -> FileResult:
    detected = f.scores >= threshold
    detected[:f.first_scored] = False
    weights = _weights(f, cost)
    false_pos = detected & (f.window_of < 0)
    fp = int(np.count_nonzero(false_pos))
    raw = float(weights[false_pos].sum())
    windows = []
    for k in range(f.lefts.size):
        left = max(int(f.lefts[k]), f.first_scored)
        hits = np.flatnonzero(detected[left:int(f.rights[k]) + 1])
        if hits.size:
            row = left + int(hits[0])
            part = float(weights[row])
            windows.append(WindowResult(float(f.starts_s[k]), float(f.ends_s[k]),
                                        float(f.times_s[row]), part))
        else:
            part = -cost.fn_weight
            windows.append(WindowResult(float(f.starts_s[k]), float(f.ends_s[k]), None, part))
        raw += part
    tp = sum(w.detected for w in windows)
    return FileResult(raw, tp, fp, len(windows) - tp, tuple(windows), f.outside_s)


def _result(files: list[_File], profile: str, threshold: float | None) -> NabResult:
    cost = PROFILES[profile]
    if threshold is None:
        threshold = _best_threshold(files, cost)
    per_file = {f.name: _score_file(f, cost, threshold) for f in files}
    n_windows = sum(f.lefts.size for f in files)
    if n_windows == 0:
        raise ValueError("no labelled window has a scored row: a NAB score needs at least one")
    raw = sum(r.raw_score for r in per_file.values())
    null = -cost.fn_weight * n_windows
    perfect = cost.tp_weight * n_windows
    return NabResult(profile, threshold, 100.0 * (raw - null) / (perfect - null), raw, null,
                     perfect, MappingProxyType(per_file))


def _prepare_all(results: Mapping[str, tuple[Sequence[float], Sequence[float]]],
                 windows: Mapping[str, Sequence[tuple[float, float]]]) -> list[_File]:
    # A file without an entry in ``windows`` has no anomaly; windows of files that are
    # not in ``results`` are ignored, so a subset of a corpus is scored on its own.
    return [_prepare(name, times, scores, windows.get(name, ()))
            for name, (times, scores) in sorted(results.items())]


def nab_score(results: Mapping[str, tuple[Sequence[float], Sequence[float]]],
              windows: Mapping[str, Sequence[tuple[float, float]]], *,
              profile: str = "standard", threshold: float | None = None) -> NabResult:
    """Score a corpus the way NAB does.

    ``results`` maps a file name to (timestamps in seconds, anomaly scores in [0, 1]);
    ``windows`` maps names to (start_s, end_s) pairs. A row is a detection when its score
    is at least ``threshold``; ``None`` picks the threshold that gives the best total
    for ``profile`` over the whole corpus, as NAB's optimiser does.
    """
    return _result(_prepare_all(results, windows), profile_name(profile), threshold)


def nab_scores(results: Mapping[str, tuple[Sequence[float], Sequence[float]]],
               windows: Mapping[str, Sequence[tuple[float, float]]], *,
               threshold: float | None = None) -> dict[str, NabResult]:
    """``nab_score`` for each of the three profiles, preparing the corpus once."""
    files = _prepare_all(results, windows)
    return {name: _result(files, name, threshold) for name in PROFILES}
