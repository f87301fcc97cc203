"""How early and how quietly do the count detectors catch simulated outages?

Run: ``.venv/bin/python bench/simulated.py [--series 20] [--days 30] [--outages 14]
[--seed 1] [--detector NAME ...] [--by-kind] [--show-missed]``

Each series is a simulated short-video service (``signalfire.sim``) with its own
size (a usual level of 0.3 to 20 reports per minute, log-uniform; a big app on a
public tracker is about 1), ``--outages`` outages of mixed kinds and
magnitudes (a quarter near the detection limit), 3 benign bumps (about 1.5× for
about an hour) and 2 busy days (1.8× all day), none in the first two days. Each
detector that applies to counts replays the total report series at 1-minute
buckets, one bucket at a time.

Scored, for the outages whose expected reports reach 3× the usual level and
bring at least 20 extra reports in their first hour ("qualifying"):

- detected: an alarm in a bucket from the onset up to the end of the outage, or
  up to 10 minutes after onset for outages shorter than that;
- time to detection: the first such alarming bucket's start minus the onset, in
  minutes (0 = the onset bucket itself; its verdict is known when it closes);
- false alarms: alarm episodes (a run of consecutive alarming buckets counts
  once) that start outside every outage (qualifying or not) and its 60 minutes
  after, per series per 30 days, over whole series (the first days included);
- benign: how many bumps and busy days had an alarm episode start inside them
  (those episodes are also false alarms).

Prints a table (``--by-kind``: also per outage kind; ``--show-missed``: the
missed outages) and, last, one JSON line: detector → detected_pct,
ttd_median_min, ttd_p90_min, false_alarms_per_series_30d, outages, ...
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from signalfire.detect.detector import score_series
from signalfire.detect.registry import DETECTORS, make_detector
from signalfire.sim.faults import schedule
from signalfire.sim.outages import Simulation, simulate

# The registered detectors that read counts ("auto", the default, picks one per series).
COUNT_DETECTORS = ("counts", "auto", "rolling-median-4x")
START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
SHORT_OUTAGE_MIN = 10
GRACE_MIN = 60
LEVELS = (1.0, 30.0)  # usual reports per minute, log-uniform across series
GOALS = {"detected_pct": 97.0, "ttd_median_min": 2.0, "ttd_p90_min": 10.0,
         "false_alarms_per_series_30d": 0.5}


@dataclass
class Tally:
    qualifying: int = 0
    detected: int = 0
    ttd_min: list[int] = field(default_factory=list)
    false_alarms: int = 0
    benign: int = 0
    benign_alarmed: int = 0
    missed: list[str] = field(default_factory=list)
    # outage kind → [qualifying, detected, times to detection]
    by_kind: dict[str, list] = field(default_factory=dict)
    seconds: float = 0.0
    points: int = 0


def make_series(seed: int, index: int, *, days: int, outages: int) -> tuple[Simulation, float]:
    rng = np.random.default_rng([seed, index])
    level = float(np.exp(rng.uniform(np.log(LEVELS[0]), np.log(LEVELS[1]))))
    faults = schedule(rng, minutes=days * 1440, outages=outages)
    return simulate(rng, faults, start=START, days=days, base_per_min=level, probes=False), level


def score(sim: Simulation, alarms: np.ndarray, tally: Tally, label: str) -> None:
    starts = np.flatnonzero(alarms & ~np.concatenate([[False], alarms[:-1]]))
    explained = np.zeros(len(starts), dtype=bool)
    for record in sim.faults:
        fault = record.fault
        if fault.is_outage:
            explained |= (starts >= fault.start_min) & (starts < fault.end_min + GRACE_MIN)
            if not record.qualifies:
                continue
            tally.qualifying += 1
            kind = tally.by_kind.setdefault(fault.kind, [0, 0, []])
            kind[0] += 1
            until = max(fault.end_min, fault.start_min + SHORT_OUTAGE_MIN)
            hits = np.flatnonzero(alarms[fault.start_min:until])
            if len(hits):
                tally.detected += 1
                tally.ttd_min.append(int(hits[0]))
                kind[1] += 1
                kind[2].append(int(hits[0]))
            else:
                tally.missed.append(f"{label} {fault.kind} at {fault.start_min} min, "
                                    f"{fault.duration_min} min, peak {record.peak_ratio}×, "
                                    f"{record.extra_first_hour:.0f} extra")
        else:
            tally.benign += 1
            inside = (starts >= fault.start_min) & (starts < fault.end_min)
            tally.benign_alarmed += bool(inside.any())
    tally.false_alarms += int((~explained).sum())


def summary(tally: Tally, *, series: int, days: int) -> dict[str, float | int]:
    ttd = np.array(tally.ttd_min, dtype=float)
    return {
        "detected_pct": round(100.0 * tally.detected / max(tally.qualifying, 1), 1),
        "ttd_median_min": float(np.median(ttd)) if len(ttd) else float("nan"),
        "ttd_p90_min": round(float(np.percentile(ttd, 90)), 1) if len(ttd) else float("nan"),
        "false_alarms_per_series_30d": round(tally.false_alarms / series * 30 / days, 2),
        "outages": tally.qualifying,
        "detected": tally.detected,
        "false_alarms": tally.false_alarms,
        "benign_events": tally.benign,
        "benign_alarmed": tally.benign_alarmed,
        "points_per_s": round(tally.points / max(tally.seconds, 1e-9)),
    }


def positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive whole number")
    return number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=positive, default=20)
    parser.add_argument("--days", type=positive, default=30)
    parser.add_argument("--outages", type=positive, default=14, help="outages per series")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--detector", action="append", default=None,
                        help="a registered detector (repeatable; default: every count detector)")
    parser.add_argument("--show-missed", action="store_true", help="list the missed outages")
    parser.add_argument("--by-kind", action="store_true", help="detection and TTD per outage kind")
    args = parser.parse_args()
    names = args.detector or [name for name in COUNT_DETECTORS if name in DETECTORS]
    unknown = [name for name in names if name not in DETECTORS]
    if unknown:
        parser.error(f"unknown detector(s) {unknown} (registered: {sorted(DETECTORS)})")

    tallies = {name: Tally() for name in names}
    made = time.perf_counter()
    total_outages = 0
    for index in range(args.series):
        sim, level = make_series(args.seed, index, days=args.days, outages=args.outages)
        total_outages += sum(r.fault.is_outage for r in sim.faults)
        values = sim.reports["reports/total"].astype(float)
        times_s = (START.timestamp() + 60.0 * np.arange(sim.minutes)).tolist()
        for name in names:
            began = time.perf_counter()
            _, alarms = score_series(make_detector(name), times_s, values.tolist())
            tallies[name].seconds += time.perf_counter() - began
            tallies[name].points += sim.minutes
            score(sim, np.asarray(alarms, dtype=bool), tallies[name], f"series {index} ({level:.1f}/min)")
    elapsed = time.perf_counter() - made

    results = {name: summary(t, series=args.series, days=args.days) for name, t in tallies.items()}
    print(f"{args.series} series × {args.days} days at 1-minute buckets, seed {args.seed}: "
          f"{total_outages} outages, {next(iter(tallies.values())).qualifying if tallies else 0} "
          f"at or above the detection limit ({elapsed:.1f} s)")
    header = (f"{'detector':<20} {'detected':>9} {'TTD med':>8} {'TTD p90':>8} {'FA/30d':>7} "
              f"{'benign alarmed':>15} {'points/s':>10}")
    print(header)
    print("-" * len(header))
    goal = (f"{'goal':<20} {'≥ 97.0 %':>9} {'≤ 2':>8} {'≤ 10':>8} {'≤ 0.5':>7} {'0':>15}")
    for name, r in results.items():
        print(f"{name:<20} {r['detected_pct']:>7.1f} % {r['ttd_median_min']:>8.1f} "
              f"{r['ttd_p90_min']:>8.1f} {r['false_alarms_per_series_30d']:>7.2f} "
              f"{r['benign_alarmed']:>7}/{r['benign_events']:<7} {r['points_per_s']:>10,}")
    print(goal)
    if args.by_kind:
        print(f"\n{'detector':<20} {'outage kind':<18} {'detected':>12} {'TTD med':>8} {'TTD p90':>8}")
        for name, t in tallies.items():
            for kind, (qualifying, detected, ttd) in sorted(t.by_kind.items()):
                med = f"{np.median(ttd):.1f}" if ttd else "-"
                p90 = f"{np.percentile(ttd, 90):.1f}" if ttd else "-"
                print(f"{name:<20} {kind:<18} {detected:>5}/{qualifying:<6} {med:>8} {p90:>8}")
    if args.show_missed:
        for name, t in tallies.items():
            for line in t.missed:
                print(f"missed by {name}: {line}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
