"""NAB scoring: hand-computed cases, the known facts, and NAB's own algorithm as a reference."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest

from signalfire.detect.nab import (
    NEVER_THRESHOLD,
    PROFILES,
    CostMatrix,
    nab_score,
    nab_scores,
    probation_rows,
    profile_name,
    scaled_sigmoid,
)

STEP_S = 300.0  # five-minute rows, as most of NAB


def sigma(x: float) -> float:
    """NAB's scaled sigmoid, written out once more for the expectations."""
    return -1.0 if x > 3 else 2 / (1 + math.exp(5 * x)) - 1


MAX_TP = sigma(-1.0)


def series(n: int = 100, *, at: dict[int, float] | None = None) -> tuple[list[float], list[float]]:
    """``n`` rows STEP_S apart from t=0, score 0 except the rows in ``at``."""
    scores = [0.0] * n
    for row, score in (at or {}).items():
        scores[row] = score
    return [i * STEP_S for i in range(n)], scores


def rows(first: int, last: int) -> tuple[float, float]:
    return (first * STEP_S, last * STEP_S)


ONE_WINDOW = [rows(50, 59)]  # 10 rows; probation is the first 15 rows of 100

# (case, alarmed rows, windows, profile, expected raw score); threshold fixed at 1.0
CASES = [
    ("nothing: the window is missed", [], ONE_WINDOW, "standard", -1.0),
    ("first row of the window", [50], ONE_WINDOW, "standard", 1.0),
    ("middle of the window", [55], ONE_WINDOW, "standard", sigma(-0.5) / MAX_TP),
    ("last row of the window", [59], ONE_WINDOW, "standard", sigma(-0.1) / MAX_TP),
    ("only the first detection in a window counts", [52, 50, 57], ONE_WINDOW, "standard", 1.0),
    ("an alarm in probation is not scored", [10], ONE_WINDOW, "standard", -1.0),
    ("a false positive before any window", [20], ONE_WINDOW, "standard", -1.0 - 0.11),
    ("a false positive right after a window", [50, 60], ONE_WINDOW, "standard",
     1.0 + 0.11 * sigma(1 / 9)),
    ("a false positive far after a window", [50, 99], ONE_WINDOW, "standard", 1.0 - 0.11),
    ("every false positive counts", [20, 21, 22], ONE_WINDOW, "standard", -1.0 - 3 * 0.11),
    ("reward_low_FP doubles the false positive cost", [50, 99], ONE_WINDOW,
     "reward_low_FP_rate", 1.0 - 0.22),
    ("reward_low_FN doubles the miss cost", [], ONE_WINDOW, "reward_low_FN_rate", -2.0),
    ("two windows, one hit early, one missed", [41], [rows(40, 49), rows(70, 79)], "standard",
     sigma(-0.9) / MAX_TP - 1.0),
    ("between two windows the distance is to the one before", [40, 65, 70],
     [rows(40, 49), rows(70, 79)], "standard", 2.0 + 0.11 * sigma(16 / 9)),
    ("a window starting in probation counts its scored rows only", [15], [rows(10, 19)],
     "standard", sigma(-0.5) / MAX_TP),
    ("a window wholly in probation does not count", [12], [rows(5, 12), rows(50, 59)],
     "standard", -1.0),
    ("window edges between rows cover the rows inside", [50],
     [(49.5 * STEP_S, 59.5 * STEP_S)], "standard", 1.0),
    ("overlapping windows are merged into one", [50], [rows(50, 55), rows(53, 59)],
     "standard", 1.0),
]


@pytest.mark.parametrize(("case", "alarms", "windows", "profile", "raw"), CASES,
                         ids=[c[0] for c in CASES])
def test_hand_computed_raw_scores(case, alarms, windows, profile, raw):
    result = nab_score({"f": series(at=dict.fromkeys(alarms, 1.0))}, {"f": windows},
                       profile=profile, threshold=1.0)
    assert result.files["f"].raw_score == pytest.approx(raw, abs=1e-12)
    assert result.raw_score == pytest.approx(raw, abs=1e-12)


def test_the_weights_follow_the_published_sigmoid():
    x = np.array([-1.0, -0.5, 0.0, 1 / 9, 3.0, 3.0001, 50.0, 1000.0])
    assert scaled_sigmoid(x).tolist() == pytest.approx([sigma(v) for v in x])
    assert sigma(-1.0) == pytest.approx(0.98661429815)
    assert sigma(0.0) == 0.0


@pytest.mark.parametrize(("rows_", "probation"), [(10, 1), (100, 15), (4032, 604), (5000, 750),
                                                  (22695, 750)])
def test_probation_is_15_percent_at_most_750_rows(rows_, probation):
    assert probation_rows(rows_) == probation


def test_counts_and_times_to_detection():
    result = nab_score({"f": series(at={55: 1.0, 20: 1.0, 99: 1.0})},
                       {"f": [rows(50, 59), rows(70, 79)]}, threshold=1.0)
    f = result.files["f"]
    assert (f.tp, f.fp, f.fn) == (1, 2, 1)
    assert (result.tp, result.fp, result.fn) == (1, 2, 1)
    hit, miss = f.windows
    assert hit.detected and hit.detected_at_s == 55 * STEP_S
    assert hit.time_to_detection_s == 5 * STEP_S
    assert not miss.detected and miss.time_to_detection_s is None
    assert miss.score == -1.0
    assert result.times_to_detection_s == [5 * STEP_S]


def test_false_alarms_per_day_count_only_the_scored_time_outside_windows():
    result = nab_score({"f": series(at={20: 1.0, 99: 1.0, 55: 1.0})}, {"f": ONE_WINDOW},
                       threshold=1.0)
    outside_s = (99 - 15) * STEP_S - 9 * STEP_S  # scored span less the window's span
    assert result.files["f"].outside_s == pytest.approx(outside_s)
    assert result.files["f"].false_alarms_per_day == pytest.approx(2 / (outside_s / 86_400))
    assert result.false_alarms_per_day == pytest.approx(2 / (outside_s / 86_400))


# -- the known facts of the normalisation -----------------------------------------------------

def nab_like_corpus(seed: int = 7) -> tuple[dict, dict]:
    rng = random.Random(seed)
    results, windows = {}, {}
    for k in range(6):
        n = rng.randrange(800, 6000)
        times = [1.4e9 + i * STEP_S for i in range(n)]
        results[f"f{k}"] = (times, [0.0] * n)
        first = probation_rows(n) + 10
        spans = []
        for _ in range(rng.randrange(0, 4)):
            start = rng.randrange(first, n - 50)
            spans.append((start, min(n - 1, start + rng.randrange(5, n // 10))))
        windows[f"f{k}"] = [(times[a], times[b]) for a, b in spans]
    return results, windows


def test_the_null_detector_scores_0_on_every_profile():
    results, windows = nab_like_corpus()
    for profile, result in nab_scores(results, windows).items():
        assert result.score == pytest.approx(0.0, abs=1e-9), profile
        assert result.threshold == NEVER_THRESHOLD
        assert result.raw_score == result.null_score


def test_a_detector_alarming_at_each_window_start_scores_100():
    results, windows = nab_like_corpus()
    perfect = {}
    for name, (times, _) in results.items():
        scores = np.zeros(len(times))
        scores[np.searchsorted(times, [start for start, _ in windows[name]])] = 0.8
        perfect[name] = (times, scores)
    for profile, result in nab_scores(perfect, windows).items():
        assert result.score == pytest.approx(100.0), profile
        assert result.threshold == 0.8
        assert result.fp == 0 and result.fn == 0


def test_normalisation_uses_null_and_perfect_scores():
    result = nab_score({"f": series(at={55: 1.0})}, {"f": ONE_WINDOW}, profile="reward_low_FN",
                       threshold=1.0)
    assert (result.null_score, result.perfect_score) == (-2.0, 1.0)
    assert result.score == pytest.approx(100 * (sigma(-0.5) / MAX_TP + 2) / 3)


# -- the threshold ---------------------------------------------------------------------------

def test_the_threshold_is_the_best_total_over_the_corpus():
    # A 0.9 alarm finds the window; a 0.95 one is a false positive: 0.9 is worth it.
    result = nab_score({"f": series(at={30: 0.95, 50: 0.9})}, {"f": ONE_WINDOW})
    assert result.threshold == 0.9
    assert result.raw_score == pytest.approx(1.0 - 0.11)


def test_among_equal_totals_the_highest_threshold_wins():
    result = nab_score({"f": series(at={50: 0.9, 52: 0.8})}, {"f": ONE_WINDOW})
    assert result.threshold == 0.9


def test_never_alarming_is_chosen_when_every_alarm_is_a_false_positive():
    result = nab_score({"f": series(at={20: 0.9, 21: 0.9, 70: 0.5})}, {"f": ONE_WINDOW})
    assert result.threshold == NEVER_THRESHOLD
    assert result.score == 0.0


def test_one_threshold_serves_the_whole_corpus():
    # Alone, "b" would pick 0.5; with a's 20 false positives at 0.5 the corpus is best at
    # 0.7, which misses b's window.
    results = {"a": series(at={50: 0.7, **dict.fromkeys(range(20, 40), 0.5)}),
               "b": series(at={50: 0.5})}
    windows = {"a": ONE_WINDOW, "b": ONE_WINDOW}
    result = nab_score(results, windows)
    assert result.threshold == 0.7
    assert (result.files["a"].tp, result.files["b"].tp) == (1, 0)
    assert nab_score({"b": results["b"]}, windows).threshold == 0.5


def test_the_chosen_threshold_beats_every_fixed_one():
    rng = np.random.default_rng(3)
    results, windows = nab_like_corpus(seed=3)
    noisy = {name: (t, np.round(rng.random(len(t)) ** 8, 3)) for name, (t, _) in results.items()}
    best = nab_score(noisy, windows)
    candidates = {NEVER_THRESHOLD, *np.unique(np.concatenate([s for _, s in noisy.values()]))}
    fixed = max(nab_score(noisy, windows, threshold=float(t)).raw_score for t in candidates)
    assert best.raw_score == pytest.approx(fixed)


def test_windows_of_files_not_scored_are_ignored_and_files_without_windows_have_none():
    results = {"a": series(at={50: 1.0}), "b": series(at={20: 1.0})}
    result = nab_score(results, {"a": ONE_WINDOW, "elsewhere": ONE_WINDOW}, threshold=1.0)
    assert result.perfect_score == 1.0
    assert result.files["b"].fp == 1 and result.files["b"].windows == ()


@pytest.mark.parametrize(("results", "windows", "message"), [
    ({"f": ([0.0, 1.0], [0.0])}, {}, "2 timestamps but 1"),
    ({"f": ([1.0, 0.0], [0.0, 0.0])}, {}, "back in time"),
    ({"f": ([0.0, 1.0], [0.0, float("nan")])}, {}, "finite"),
    ({"f": series()}, {"f": [(10.0, 5.0)]}, "ends before it starts"),
    ({"f": series()}, {"f": []}, "no labelled window"),
])
def test_bad_input_is_refused(results, windows, message):
    with pytest.raises(ValueError, match=message):
        nab_score(results, windows)


def test_profiles_are_nabs_cost_matrices():
    assert PROFILES["standard"] == CostMatrix(tp_weight=1.0, fp_weight=0.11, fn_weight=1.0)
    assert PROFILES["reward_low_FP_rate"] == CostMatrix(1.0, 0.22, 1.0)
    assert PROFILES["reward_low_FN_rate"] == CostMatrix(1.0, 0.11, 2.0)
    assert profile_name("reward_low_FP") == "reward_low_FP_rate"
    with pytest.raises(ValueError, match="unknown NAB profile"):
        profile_name("lenient")


# -- NAB's own algorithm, row by row, as a reference ------------------------------------------

def reference_sweep(timestamps, scores, limits, name, cost, prob_fraction=0.15):
    """A transcription of NAB 1.x ``Sweeper._sweepScore``: (score, weight, window) per scored row."""
    def scaled(x):
        return -1.0 if x > 3.0 else 2 * (1 / (1 + math.exp(5 * x))) - 1.0
    max_tp = scaled(-1.0)
    timestamps, limits = list(timestamps), list(limits)
    probation = min(math.floor(prob_fraction * len(timestamps)), prob_fraction * 5000)
    rows_out = []
    cur = cur_name = cur_width = cur_right = prev_width = prev_right = None
    for i, (t, score) in enumerate(zip(timestamps, scores, strict=True)):
        if limits and t == limits[0][0]:
            cur = limits.pop(0)
            cur_name = f"{name}|{cur[0]}"
            cur_right = timestamps.index(cur[1])
            cur_width = float(cur_right - timestamps.index(cur[0]) + 1)
        if cur is not None:
            weight = scaled(-(cur_right - i + 1) / cur_width) * cost.tp_weight / max_tp
        else:
            unweighted = -1.0 if prev_right is None else scaled(abs(prev_right - i) / (prev_width - 1))
            weight = unweighted * cost.fp_weight
        if i >= probation:
            rows_out.append((score, weight, cur_name))
        if cur is not None and t == cur[1]:
            prev_right, prev_width = i, cur_width
            cur = cur_name = cur_width = cur_right = None
    return rows_out


def reference_by_threshold(rows_, cost):
    """NAB 1.x ``Sweeper.calcScoreByThreshold``: [(threshold, total)] from 1.1 down."""
    rows_ = sorted(rows_, key=lambda r: r[0], reverse=True)
    parts = {w: -cost.fn_weight for _, _, w in rows_ if w is not None}
    parts["fp"] = 0.0
    out, threshold = [], 1.1
    for score, weight, window in rows_:
        if score != threshold:
            out.append((threshold, sum(parts.values())))
            threshold = score
        if window is None:
            parts["fp"] += weight
        else:
            parts[window] = max(parts[window], weight)
    out.append((threshold, sum(parts.values())))
    return out


def reference_corpus(results, windows, cost):
    sweeps = {name: reference_sweep(t, s, windows[name], name, cost)
              for name, (t, s) in results.items()}
    by_threshold = reference_by_threshold([r for rows_ in sweeps.values() for r in rows_], cost)
    threshold = sorted(by_threshold, key=lambda r: r[1], reverse=True)[0][0]
    per_file = {}
    for name, rows_ in sweeps.items():
        table = reference_by_threshold(rows_, cost)
        match, prev = table[-1], None  # below every score: everything is detected
        for row in table:
            if row[0] == threshold:
                match = row
                break
            if row[0] < threshold:
                match = prev
                break
            prev = row
        per_file[name] = match[1]
    return threshold, per_file


def random_corpus(seed: int):
    rng = random.Random(seed)
    results, windows = {}, {}
    for k in range(rng.randrange(1, 5)):
        n = rng.randrange(30, 400)
        times = [float(i * 60) for i in range(n)]
        for _ in range(rng.randrange(0, 3)):  # NAB's data repeats a few timestamps
            i = rng.randrange(1, n)
            times[i] = times[i - 1]
        times = sorted(times)
        levels = [round(rng.random(), 1) for _ in range(5)]
        scores = [rng.choice(levels) if rng.random() < 0.2 else 0.0 for _ in range(n)]
        cuts = sorted(rng.sample(range(n), 2 * rng.randrange(0, 4)))
        spans = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts), 2)
                 if times[cuts[i + 1]] > times[cuts[i]] and times[cuts[i]] != times[cuts[i] - 1]
                 and (i == 0 or times[cuts[i]] > times[cuts[i - 1]])]
        results[f"f{k}"] = (times, scores)
        windows[f"f{k}"] = [(times[a], times[b]) for a, b in spans]
    return results, windows


@pytest.mark.parametrize("seed", range(60))
@pytest.mark.parametrize("profile", list(PROFILES))
def test_agrees_with_nabs_algorithm_on_random_corpora(seed, profile):
    results, windows = random_corpus(seed)
    cost = PROFILES[profile]
    threshold, per_file = reference_corpus(results, windows, cost)
    try:
        ours = nab_score(results, windows, profile=profile)
    except ValueError:
        assert all(r[2] is None for name, (t, s) in results.items()
                   for r in reference_sweep(t, s, windows[name], name, cost))
        return
    assert ours.threshold == threshold
    for name, raw in per_file.items():
        assert ours.files[name].raw_score == pytest.approx(raw, abs=1e-9), name


# -- NAB's own windows -----------------------------------------------------------------------

NAB_DEV = Path(__file__).parent.parent.parent / "bench" / "data" / "nab-dev"


@pytest.fixture(scope="module")
def nab_dev():
    from signalfire.cli.series_io import load_windows, read_columns, series_files

    windows = load_windows(NAB_DEV / "windows.json")
    times = {f.as_posix(): read_columns(NAB_DEV / "data" / f).times_s
             for f in series_files(NAB_DEV / "data")}
    return times, windows


def test_on_nab_dev_null_scores_0_and_alarms_at_window_starts_score_100(nab_dev):
    times, windows = nab_dev
    assert len(times) == 31 and sum(map(len, windows.values())) == 57
    null = {name: (t, np.zeros(t.size)) for name, t in times.items()}
    starts = {}
    for name, t in times.items():
        scores = np.zeros(t.size)
        scores[np.searchsorted(t, [a for a, _ in windows[name]])] = 1.0
        starts[name] = (t, scores)
    for profile in PROFILES:
        assert nab_score(null, windows, profile=profile).score == 0.0
        perfect = nab_score(starts, windows, profile=profile)
        assert perfect.score == pytest.approx(100.0)
        assert (perfect.tp, perfect.fn, perfect.fp) == (57, 0, 0)
        assert perfect.times_to_detection_s == [0.0] * 57


def test_on_nab_dev_alarming_a_tenth_into_each_window_scores_as_computed_by_hand(nab_dev):
    times, windows = nab_dev
    late, expected = {}, 0.0
    for name, t in times.items():
        scores = np.zeros(t.size)
        for a, b in windows[name]:
            left, right = np.searchsorted(t, a), np.searchsorted(t, b)
            width = right - left + 1
            row = left + width // 10
            scores[row] = 1.0
            expected += sigma(-(right - row + 1) / width) / MAX_TP
        late[name] = (t, scores)
    result = nab_score(late, windows)
    assert result.raw_score == pytest.approx(expected)
    assert result.score == pytest.approx(100 * (expected + 57) / 114)
