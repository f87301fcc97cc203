"""How fast does ``signalfire detect replay`` run, and how well do the detectors score on NAB?

Run: ``.venv/bin/python bench/detect.py [--rounds 3] [--detector NAME ...]
[--synthetic-days 0] [--core 0]``

On the repository's copy of the tuning half of the Numenta Anomaly Benchmark
(``bench/data/nab-dev``: 31 series, 179,391 rows, 57 windows), plus, with
``--synthetic-days N``, one series of N days of reports per minute (a daily
rhythm, Poisson counts, seeded):

1. **Replay speed.** ``signalfire detect replay INPUT OUTPUT --detector NAME``
   runs in this process (click's test runner, so start-up and imports are not
   counted) for each registered detector; points/s = rows replayed / wall time.
   The process is pinned to one core (``--core``). Where the time goes: CPU
   µs per point to read and parse, to run the detector and to write
   (``read_us``, ``detect_us``, ``write_us``, measured apart once).
2. **The CSV floor.** In the same rounds, the same files are just read with the
   ``csv`` module and written back with ``csv.writer`` as
   ``timestamp,value,anomaly_score,alarm`` (constant score and alarm): no
   parsing, no detector. ``ratio`` = replay points/s / CSV points/s; the goal
   is ≥ 1/3 (a replay within 3× of plain CSV I/O) and ≥ 50,000 points/s.
   Replays and CSV runs alternate for ``--rounds`` rounds; medians are
   reported, so load from elsewhere hits both alike. The same per CPU second
   of this process (``cpu_points_per_s``, ``cpu_ratio``) is the cost on one
   core whatever else the machine runs.
3. **NAB scores.** Each detector's replay output is scored with
   ``signalfire.detect.nab`` (NAB's method: threshold optimised over the
   corpus per profile, normalised so the null detector scores 0 and a perfect
   one 100): standard, reward_low_FP, reward_low_FN, and standard on the
   ``realTweets`` series alone (threshold optimised on them, as NAB's scorer
   run on that category alone would; also at the whole corpus's threshold),
   the closest public stand-in for complaint counts.

The last line printed is one JSON object: ``points_per_s``,
``csv_points_per_s``, ``ratio``, ``nab_standard`` and
``nab_realtweets_standard`` for the default detector, and the same per
detector under ``detectors``. Exit status 1 means no valid measurement (a
replay that failed or wrote other rows than it read); missed goals exit 0.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from signalfire.cli.main import main as cli  # noqa: E402
from signalfire.cli.series_io import (  # noqa: E402
    load_windows,
    read_columns,
    series_files,
    write_scored,
)
from signalfire.detect.detector import score_series  # noqa: E402
from signalfire.detect.nab import nab_score, nab_scores  # noqa: E402
from signalfire.detect.registry import DEFAULT_DETECTOR, DETECTORS, make_detector  # noqa: E402

NAB_DEV = REPO / "bench" / "data" / "nab-dev"
GOAL_POINTS_PER_S = 50_000
GOAL_RATIO = 1 / 3
NAB_GOALS = {"nab_standard": 80.0, "nab_realtweets_standard": 87.0}
SYNTHETIC_START = datetime(2026, 1, 5, tzinfo=UTC)


class BenchError(Exception):
    pass


def write_synthetic(root: Path, days: int, *, seed: int = 1) -> int:
    """One series of reports per minute with a daily rhythm; returns its rows."""
    rng = random.Random(seed)
    start = SYNTHETIC_START.timestamp()
    rows = days * 1440
    lines = ["timestamp,value"]
    for i in range(rows):
        minute_of_day = i % 1440
        rate = 5.0 * (1.0 + 0.8 * math.sin(2 * math.pi * (minute_of_day - 360) / 1440))
        # Poisson by inversion: fine for small rates, seeded and dependency-free.
        count, p, u = 0, math.exp(-rate), rng.random()
        cumulative = p
        while u > cumulative:
            count += 1
            p *= rate / count
            cumulative += p
        stamp = datetime.fromtimestamp(start + 60 * i, UTC).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"{stamp},{count}")
    (root / "synthetic").mkdir(parents=True, exist_ok=True)
    (root / "synthetic" / f"reports_{days}d.csv").write_text("\n".join(lines) + "\n")
    return rows


def stage_inputs(tmp: Path, synthetic_days: int) -> tuple[Path, int]:
    """The nab-dev series (and the synthetic one) under one input directory."""
    inputs = tmp / "in"
    shutil.copytree(NAB_DEV / "data", inputs)
    if synthetic_days:
        write_synthetic(inputs, synthetic_days)
    points = sum(len(read_columns(inputs / f)) for f in series_files(inputs))
    return inputs, points


def replay(inputs: Path, out: Path, detector: str, points: int) -> tuple[float, float]:
    """Seconds of wall and CPU time for one ``detect replay``; checks what it wrote."""
    shutil.rmtree(out, ignore_errors=True)
    started, started_cpu = time.perf_counter(), time.process_time()
    result = CliRunner().invoke(cli, ["detect", "replay", str(inputs), str(out),
                                      "--detector", detector])
    elapsed = time.perf_counter() - started, time.process_time() - started_cpu
    if result.exit_code != 0:
        raise BenchError(f"replay with {detector!r} failed: {result.output.strip()}")
    written = sum(len(read_columns(out / f, ("timestamp", "anomaly_score")))
                  for f in series_files(out))
    if written != points:
        raise BenchError(f"replay with {detector!r} wrote {written} rows for {points} read")
    return elapsed


def csv_copy(inputs: Path, out: Path) -> tuple[float, float]:
    """Seconds (wall, CPU) to read every file with ``csv`` and write it back with two
    more columns."""
    shutil.rmtree(out, ignore_errors=True)
    started, started_cpu = time.perf_counter(), time.process_time()
    for relative in series_files(inputs):
        with open(inputs / relative, newline="") as f:
            rows = list(csv.reader(f))
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "w", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["timestamp", "value", "anomaly_score", "alarm"])
            writer.writerows([row[0], row[1], "0.0", "0"] for row in rows[1:])
    return time.perf_counter() - started, time.process_time() - started_cpu


def breakdown(inputs: Path, out: Path, detector: str) -> dict[str, float]:
    """CPU µs per point of each step of a replay (read and parse, detector, write)."""
    steps = {"read_us": 0.0, "detect_us": 0.0, "write_us": 0.0}
    points = 0
    for relative in series_files(inputs):
        t0 = time.process_time()
        columns = read_columns(inputs / relative)
        times_s, values = columns.times_s.tolist(), columns.numbers("value").tolist()
        t1 = time.process_time()
        scores, alarms = score_series(make_detector(detector), times_s, values)
        t2 = time.process_time()
        write_scored(out / relative, columns, scores, alarms)
        t3 = time.process_time()
        steps["read_us"] += t1 - t0
        steps["detect_us"] += t2 - t1
        steps["write_us"] += t3 - t2
        points += len(columns)
    return {k: round(v / points * 1e6, 2) for k, v in steps.items()}


def nab_of(out: Path, windows: dict) -> dict[str, float]:
    """NAB scores of one replay output, read back from its files as ``detect score`` does."""
    results = {}
    for relative in series_files(out):
        columns = read_columns(out / relative, ("timestamp", "anomaly_score"))
        results[relative.as_posix()] = (columns.times_s, columns.numbers("anomaly_score"))
    nab = {name: results[name] for name in windows if name in results}
    scores = nab_scores(nab, windows)
    tweets = {name: r for name, r in nab.items() if name.startswith("realTweets/")}
    standard = scores["standard"]
    return {
        "nab_standard": round(standard.score, 2),
        "nab_reward_low_fp": round(scores["reward_low_FP_rate"].score, 2),
        "nab_reward_low_fn": round(scores["reward_low_FN_rate"].score, 2),
        "nab_realtweets_standard": round(nab_score(tweets, windows).score, 2),
        "nab_realtweets_standard_at_corpus_threshold": round(
            nab_score(tweets, windows, threshold=standard.threshold).score, 2),
        "nab_threshold_standard": standard.threshold,
        "nab_hits": standard.tp, "nab_misses": standard.fn, "nab_false_alarms": standard.fp,
        "nab_false_alarms_per_day": round(standard.false_alarms_per_day, 3),
        "nab_ttd_median_s": (statistics.median(standard.times_to_detection_s)
                             if standard.times_to_detection_s else None),
    }


def measure(args: argparse.Namespace, tmp: Path) -> dict[str, object]:
    inputs, points = stage_inputs(tmp, args.synthetic_days)
    windows = load_windows(NAB_DEV / "windows.json")
    detectors = args.detector or sorted(DETECTORS, key=lambda d: (d != DEFAULT_DETECTOR, d))
    unknown = [d for d in detectors if d not in DETECTORS]
    if unknown:
        raise BenchError(f"unknown detector {unknown[0]!r} (known: {', '.join(sorted(DETECTORS))})")
    replay_s: dict[str, list[tuple[float, float]]] = {d: [] for d in detectors}
    csv_s: list[tuple[float, float]] = []
    for round_ in range(args.rounds):
        for detector in detectors:
            csv_s.append(csv_copy(inputs, tmp / "csv"))
            replay_s[detector].append(replay(inputs, tmp / f"out-{detector}", detector, points))
        print(f"round {round_ + 1}/{args.rounds}: " + ", ".join(
            f"{d} {points / replay_s[d][-1][0]:,.0f}/s" for d in detectors)
            + f"; csv {points / statistics.median(w for w, _ in csv_s):,.0f}/s", file=sys.stderr)
    csv_points_per_s = points / statistics.median(w for w, _ in csv_s)
    csv_cpu_points_per_s = points / statistics.median(c for _, c in csv_s)
    per_detector: dict[str, dict[str, object]] = {}
    for detector in detectors:
        points_per_s = points / statistics.median(w for w, _ in replay_s[detector])
        cpu_points_per_s = points / statistics.median(c for _, c in replay_s[detector])
        per_detector[detector] = {
            **breakdown(inputs, tmp / "steps", detector),
            "points_per_s": round(points_per_s),
            "ratio": round(points_per_s / csv_points_per_s, 3),
            "cpu_points_per_s": round(cpu_points_per_s),
            "cpu_ratio": round(cpu_points_per_s / csv_cpu_points_per_s, 3),
            **nab_of(tmp / f"out-{detector}", windows),
        }
    main_detector = DEFAULT_DETECTOR if DEFAULT_DETECTOR in per_detector else detectors[0]
    head = per_detector[main_detector]
    return {
        "detector": main_detector,
        "points": points,
        "files": len(series_files(inputs)),
        "rounds": args.rounds,
        "points_per_s": head["points_per_s"],
        "csv_points_per_s": round(csv_points_per_s),
        "ratio": head["ratio"],
        "cpu_points_per_s": head["cpu_points_per_s"],
        "csv_cpu_points_per_s": round(csv_cpu_points_per_s),
        "cpu_ratio": head["cpu_ratio"],
        "nab_standard": head["nab_standard"],
        "nab_realtweets_standard": head["nab_realtweets_standard"],
        "goal_points_per_s": head["points_per_s"] >= GOAL_POINTS_PER_S,  # type: ignore[operator]
        "goal_ratio": head["ratio"] >= GOAL_RATIO,  # type: ignore[operator]
        "goal_nab_standard": head["nab_standard"] >= NAB_GOALS["nab_standard"],  # type: ignore[operator]
        "goal_nab_realtweets": (head["nab_realtweets_standard"]  # type: ignore[operator]
                                >= NAB_GOALS["nab_realtweets_standard"]),
        "detectors": per_detector,
    }


def print_table(summary: dict) -> None:
    header = ["detector", "points/s", "ratio", "points/cpu-s", "µs read/detect/write",
              "standard", "low FP", "low FN", "realTweets",
              "hits", "misses", "false alarms", "FA/day"]
    rows = [header]
    for name, d in summary["detectors"].items():
        rows.append([name, f"{d['points_per_s']:,}", f"{d['ratio']:.2f}",
                     f"{d['cpu_points_per_s']:,}",
                     f"{d['read_us']:.1f}/{d['detect_us']:.1f}/{d['write_us']:.1f}",
                     f"{d['nab_standard']:.1f}", f"{d['nab_reward_low_fp']:.1f}",
                     f"{d['nab_reward_low_fn']:.1f}", f"{d['nab_realtweets_standard']:.1f}",
                     str(d["nab_hits"]), str(d["nab_misses"]), str(d["nab_false_alarms"]),
                     f"{d['nab_false_alarms_per_day']:.2f}"])
    rows.append(["(csv read+write)", f"{summary['csv_points_per_s']:,}", "1.00",
                 f"{summary['csv_cpu_points_per_s']:,}", *[""] * 9])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(row, widths, strict=True))))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds; medians reported (3)")
    parser.add_argument("--detector", action="append",
                        help="a detector to measure (repeat; default: every registered one)")
    parser.add_argument("--synthetic-days", type=int, default=0,
                        help="also replay one series of this many days at 1-minute buckets (0)")
    parser.add_argument("--core", type=int, default=0, help="the core to pin this process to (0)")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.synthetic_days < 0:
        parser.error("--rounds must be >= 1 and --synthetic-days >= 0")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.core})
    try:
        with tempfile.TemporaryDirectory(prefix="signalfire-bench-detect-") as tmp:
            summary = measure(args, Path(tmp))
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print_table(summary)
    print(f"{summary['detector']}: >= {GOAL_POINTS_PER_S:,} points/s: "
          f"{'met' if summary['goal_points_per_s'] else 'MISSED'}; within 3x of CSV I/O: "
          f"{'met' if summary['goal_ratio'] else 'MISSED'}; NAB standard >= 80: "
          f"{'met' if summary['goal_nab_standard'] else 'MISSED'}; realTweets >= 87: "
          f"{'met' if summary['goal_nab_realtweets'] else 'MISSED'}")
    print(json.dumps(summary, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
