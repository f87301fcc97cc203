"""Can one core check 10,000 HTTP monitors a minute, and how close is a check to a bare request?

Run: ``.venv/bin/python bench/probes.py [--monitors 10000] [--interval 60] [--duration 120] [--quick]``

It starts a target on 127.0.0.1 (``_probe_target.py``: uvicorn, httptools, a
raw ASGI callable answering every path with 200 ``{"status":"ok"}``), pinned
to core 1, then measures in processes of their own pinned to core 0
(``_probe_worker.py``):

1. **Sustained load.** The real ``Scheduler`` and ``Checker`` (the http probe
   through a ``ProbeContext``, conditions ``[STATUS] == 200`` and
   ``[BODY].status == ok``) run N monitors, each on its own path, at one
   interval for ``--duration`` seconds; the sink only counts. Reported: checks
   completed per second against N / interval, scheduling lag (p50, p99, max
   over every run), the process's peak RSS, its CPU and its core's, failures.
2. **The limit.** ``--concurrency`` tasks call ``Checker.check`` back to back
   for ``--max-duration`` seconds (no scheduler): the most checks one core
   makes. The same run with ``httpx.AsyncClient.get`` alone (same connection
   policy, concurrency and target; no probe, no conditions, no observation) is
   the bare limit. The two alternate for ``--rounds`` rounds; medians are
   reported, and ``ratio`` = checks / bare.

The last line printed is one JSON object for scripts; docs/benchmarks.md
explains the numbers and the goals. Exit status 1 means no valid measurement
was made (a target that did not start, a worker that crashed); missed goals
still exit 0.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from status_page import BenchError, ForeignLoad, Server, cpu_pins, fetch

BENCH_DIR = Path(__file__).resolve().parent
HOST = "127.0.0.1"  # the only address this benchmark ever sends traffic to
GOAL_MONITORS = 10_000
GOAL_INTERVAL_S = 60.0
GOAL_RSS_MB = 400.0
GOAL_LAG_P99_S = 1.0
GOAL_RATIO = 0.70
# Completed checks over the runs due in the window: a run due in its last
# moments may still be in flight when the window closes.
GOAL_KEPT_UP = 0.99
SCHEDULER_CONCURRENCY = 500  # LocalProber's and the agent's default
WARMUP_S = 2.0
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0
WORKER_SLACK_S = 60.0  # start-up, warm-up and the scheduler's stop grace
FOREIGN_CPU_WARN_PCT = 5.0
QUICK = {"monitors": 1_000, "interval": 10.0, "duration": 20.0, "max_duration": 5.0, "rounds": 1}


# -- processes ------------------------------------------------------------------------

class Target(Server):
    """The ``_probe_target.py`` process; ``stop()`` ends it, politely first, within bounded time."""

    def __init__(self, *, pin: list[str], log_dir: Path) -> None:
        super().__init__("target", [], pin=pin, log_dir=log_dir, script="_probe_target.py")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"the target exited: {self.log_tail()}")
            with contextlib.suppress(OSError):
                status, body = fetch(self.port, "/m/0")
                if status == 200 and json.loads(body) == {"status": "ok"}:
                    return
            time.sleep(0.1)
        raise BenchError(f"the target never answered /m/0: {self.log_tail()}")

    def requests_served(self) -> int:
        status, body = fetch(self.port, "/_requests")
        if status != 200:
            raise BenchError(f"the target answered {status} to /_requests")
        return int(body)


@contextlib.contextmanager
def running_target(*, pin: list[str], log_dir: Path) -> Iterator[Target]:
    target = Target(pin=pin, log_dir=log_dir)
    try:
        target.wait_ready()
        yield target
    finally:
        target.stop()


def run_worker(mode: str, cfg: dict[str, Any], *, pin: list[str], timeout_s: float) -> dict[str, Any]:
    argv = [*pin, sys.executable, str(BENCH_DIR / "_probe_worker.py"), mode, json.dumps(cfg)]
    try:
        # run() kills the worker on a timeout and on any exception (Ctrl-C, SIGTERM).
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"the {mode} worker did not finish within {timeout_s:.0f} s") from exc
    if done.returncode != 0 or not done.stdout.strip():
        raise BenchError(f"the {mode} worker failed (exit {done.returncode}):\n"
                         f"{done.stderr[-3000:]}")
    if done.stderr.strip():  # a check that crashed logs here
        print(f"note: the {mode} worker wrote to stderr:\n{done.stderr[-1500:]}", file=sys.stderr)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- the run --------------------------------------------------------------------------

def measure(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any],
                                               dict[str, list[dict[str, Any]]]]:
    prober_pin, target_pin = cpu_pins()
    foreign: dict[str, list[float]] = {"sustained": [], "limit": []}
    with tempfile.TemporaryDirectory(prefix="signalfire-bench-") as tmp, \
            running_target(pin=target_pin, log_dir=Path(tmp)) as target:
        load = ForeignLoad([target.proc.pid])
        base = {"port": target.port, "loop": args.loop, "target_pid": target.proc.pid}

        served_before = target.requests_served()
        with load.during(foreign["sustained"]):
            sustained = run_worker(
                "sustained", {**base, "monitors": args.monitors, "interval_s": args.interval,
                              "duration_s": args.duration,
                              "scheduler_concurrency": SCHEDULER_CONCURRENCY},
                pin=prober_pin, timeout_s=args.duration + WORKER_SLACK_S)
        # One warm-up check, then every run the scheduler completed.
        sustained["target_requests"] = target.requests_served() - served_before - 1
        if sustained["target_requests"] < sustained["completed_after_stop"]:
            raise BenchError(f"the target saw {sustained['target_requests']} requests but the "
                             f"scheduler completed {sustained['completed_after_stop']} checks")

        # Rounds alternate which one goes first, so that a neighbour's burst of
        # work lands on both rather than on one.
        limit: dict[str, list[dict[str, Any]]] = {"checks": [], "bare": []}
        flat = {**base, "monitors": args.monitors, "interval_s": args.interval,
                "duration_s": args.max_duration, "warmup_s": WARMUP_S,
                "concurrency": args.concurrency}
        for round_no in range(args.rounds):
            for mode in ("checks", "bare") if round_no % 2 == 0 else ("bare", "checks"):
                served_before = target.requests_served()
                with load.during(foreign["limit"]):
                    result = run_worker(mode, flat, pin=prober_pin,
                                        timeout_s=args.max_duration + WORKER_SLACK_S)
                result["target_requests"] = target.requests_served() - served_before
                if result["target_requests"] < result["checks"]:
                    raise BenchError(f"the target saw {result['target_requests']} requests "
                                     f"but the {mode} worker counted {result['checks']}")
                limit[mode].append(result)
    return summarize(args, sustained, limit, foreign, pinned=bool(prober_pin)), sustained, limit


def summarize(args: argparse.Namespace, sustained: dict[str, Any],
              limit: dict[str, list[dict[str, Any]]], foreign: dict[str, list[float]], *,
              pinned: bool) -> dict[str, Any]:
    if sustained["completed"] == 0:
        raise BenchError("the scheduler completed no check")
    rate = {m: statistics.median(r["checks_per_s"] for r in rs) for m, rs in limit.items()}
    cpu_us = {m: statistics.median(r["cpu_us_per_check"] for r in rs) for m, rs in limit.items()}
    if min(rate.values()) <= 0:
        raise BenchError("a flat-out run completed no check")
    achieved = sustained["completed"] / sustained["wall_s"]
    kept_up = sustained["completed"] / max(sustained["due"], 1)
    failures = sustained["failures"] + sustained["crashed"]
    limit_failures = sum(r["failures"] for rs in limit.values() for r in rs)
    summary: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "monitors": args.monitors,
        "interval_s": args.interval,
        "duration_s": args.duration,
        "expected_checks_per_s": round(args.monitors / args.interval, 2),
        "achieved_checks_per_s": round(achieved, 2),
        "due": sustained["due"],
        "completed": sustained["completed"],
        "kept_up": round(kept_up, 4),
        "failures": failures,
        "skipped_overlap": sustained["skipped_overlap"],
        "lag_p50_s": round(sustained["lag_p50_s"], 4),
        "lag_p99_s": round(sustained["lag_p99_s"], 4),
        "lag_max_s": round(sustained["lag_max_s"], 4),
        "rss_mb": round(sustained["rss_mb"], 1),
        "cpu_pct": round(sustained["cpu_pct"], 1),
        "core_busy_pct": round(sustained["core_busy_pct"], 1),
        "gc_pct": round(sustained["gc_pct"], 2),
        "gc_longest_ms": round(sustained["gc_longest_ms"], 1),
        "max_checks_per_s": round(rate["checks"], 1),
        "bare_checks_per_s": round(rate["bare"], 1),
        "ratio": round(rate["checks"] / rate["bare"], 3),
        "max_cpu_us_per_check": round(cpu_us["checks"], 1),
        "bare_cpu_us_per_check": round(cpu_us["bare"], 1),
        "ratio_by_cpu": round(cpu_us["bare"] / cpu_us["checks"], 3),
        "max_monitors_at_interval": int(rate["checks"] * args.interval),
        "limit_failures": limit_failures,
        "concurrency": args.concurrency,
        "max_duration_s": args.max_duration,
        "rounds": args.rounds,
        "loop": args.loop,
        "pinned": pinned,
        "cpus": os.cpu_count(),
        "foreign_cpu_pct": round(max(foreign["sustained"] + foreign["limit"]), 1)
        if foreign["sustained"] or foreign["limit"] else None,
        "foreign_cpu_pct_sustained": round(max(foreign["sustained"]), 1)
        if foreign["sustained"] else None,
    }
    full_size = args.monitors >= GOAL_MONITORS and args.interval <= GOAL_INTERVAL_S
    summary["goal_load_met"] = (full_size and kept_up >= GOAL_KEPT_UP and failures == 0
                                and sustained["skipped_overlap"] == 0)
    summary["goal_rss_met"] = full_size and sustained["rss_mb"] < GOAL_RSS_MB
    summary["goal_lag_met"] = full_size and sustained["lag_p99_s"] < GOAL_LAG_P99_S
    summary["goal_ratio_met"] = rate["checks"] / rate["bare"] >= GOAL_RATIO and limit_failures == 0
    summary["goal_met"] = all(summary[k] for k in ("goal_load_met", "goal_rss_met",
                                                    "goal_lag_met", "goal_ratio_met"))
    return summary


def print_report(summary: dict[str, Any], sustained: dict[str, Any],
                 limit: dict[str, list[dict[str, Any]]]) -> None:
    s = summary
    per_s = sustained["completed_per_s"]
    per_10s = [sum(per_s[i:i + 10]) / len(per_s[i:i + 10]) for i in range(0, len(per_s), 10)]
    print(f"1. sustained: {s['monitors']:,} monitors every {s['interval_s']:g} s for "
          f"{s['duration_s']:g} s ({s['loop']} loop, scheduler concurrency "
          f"{SCHEDULER_CONCURRENCY}{', pinned to one core' if s['pinned'] else ''})")
    rows = [
        ("checks completed", f"{s['completed']:,} of {s['due']:,} due ({s['kept_up']:.2%})"),
        ("checks/s", f"{s['achieved_checks_per_s']:.1f} (expected {s['expected_checks_per_s']:.1f})"),
        ("checks/s per 10 s", " ".join(f"{r:.0f}" for r in per_10s)),
        ("failures", f"{s['failures']} {sustained['errors'] or ''}".strip()),
        ("skipped (overlap)", str(s["skipped_overlap"])),
        ("lag p50 / p99 / max", f"{s['lag_p50_s'] * 1000:.1f} / {s['lag_p99_s'] * 1000:.1f} / "
                                f"{s['lag_max_s'] * 1000:.1f} ms over {sustained['lag_count']:,} runs"),
        ("peak RSS", f"{s['rss_mb']:.0f} MB"),
        ("CPU: prober / its core", f"{s['cpu_pct']:.0f} % / {s['core_busy_pct']:.0f} % "
                                   f"(target {sustained['target_cpu_pct']:.0f} % of its core)"),
        ("garbage collector", f"{sustained['gc_pct']:.1f} % of the time, "
                              f"{sustained['gc_full_collections']} full collections of "
                              f"~{sustained['gc_objects']:,} objects, the longest "
                              f"{sustained['gc_longest_ms']:.0f} ms"),
        ("most checks in flight", str(sustained["max_in_flight"])),
        ("requests the target saw", f"{sustained['target_requests']:,}"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"   {key.ljust(width)}  {value}")
    print(f"2. limit: {s['concurrency']} tasks flat out, {s['max_duration_s']:g} s × "
          f"{s['rounds']} round(s), medians")
    header = ["what", "checks/s", "CPU µs/check", "prober CPU", "target CPU", "in GC",
              "each round"]
    table = [header]
    for mode, label in (("checks", "Checker.check"), ("bare", "httpx get")):
        rs = limit[mode]
        table.append([label, f"{statistics.median(r['checks_per_s'] for r in rs):,.0f}",
                      f"{statistics.median(r['cpu_us_per_check'] for r in rs):,.0f}",
                      f"{statistics.median(r['cpu_pct'] for r in rs):.0f} %",
                      f"{statistics.median(r['target_cpu_pct'] for r in rs):.0f} %",
                      f"{statistics.median(r['gc_pct'] for r in rs):.0f} %",
                      " ".join(f"{r['checks_per_s']:,.0f}" for r in rs)])
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("   " + "  ".join(c.ljust(w) if i in (0, 6) else c.rjust(w)
                                for i, (c, w) in enumerate(zip(row, widths, strict=True))))
    # An upper bound: through the scheduler, with up to 500 checks in flight
    # near saturation, a check costs more (see docs/benchmarks.md).
    print(f"   ratio {s['ratio']:.2f} (by CPU per check {s['ratio_by_cpu']:.2f}); flat out, one "
          f"core checks at most {s['max_monitors_at_interval']:,} monitors every "
          f"{s['interval_s']:g} s")


def print_verdicts(summary: dict[str, Any]) -> None:
    full_size = summary["monitors"] >= GOAL_MONITORS and summary["interval_s"] <= GOAL_INTERVAL_S

    def verdict(key: str) -> str:
        if key != "goal_ratio_met" and not full_size:
            return "not measured (a smaller load than the goal's; false in the JSON)"
        return "met" if summary[key] else "MISSED"

    print(f"goal {GOAL_MONITORS:,} monitors at {GOAL_INTERVAL_S:g} s on one core, none failed: "
          f"{verdict('goal_load_met')}")
    print(f"goal peak RSS < {GOAL_RSS_MB:g} MB: {verdict('goal_rss_met')}")
    print(f"goal p99 lag < {GOAL_LAG_P99_S:g} s: {verdict('goal_lag_met')}")
    print(f"goal checks >= {GOAL_RATIO:.0%} of bare requests: {verdict('goal_ratio_met')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--monitors", type=int, default=GOAL_MONITORS,
                        help=f"monitors, each its own URL ({GOAL_MONITORS})")
    parser.add_argument("--interval", type=float, default=GOAL_INTERVAL_S,
                        help=f"every monitor's interval in seconds ({GOAL_INTERVAL_S:g})")
    parser.add_argument("--duration", type=float, default=120.0,
                        help="seconds of sustained load (120: two intervals)")
    parser.add_argument("--max-duration", type=float, default=15.0,
                        help="seconds of each flat-out run (15)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="flat-out rounds, checks and bare interleaved; medians (3)")
    parser.add_argument("--concurrency", type=int, default=100,
                        help="tasks of the flat-out runs (100)")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio",
                        help="event loop of the prober: asyncio as the agent runs, "
                             "uvloop as `signalfire serve` does (asyncio)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke test: 1,000 monitors at 10 s for 20 s, one 5 s round")
    args = parser.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    if min(args.monitors, args.rounds, args.concurrency) < 1:
        parser.error("--monitors, --rounds and --concurrency must be at least 1")
    if min(args.interval, args.duration, args.max_duration) <= 0:
        parser.error("--interval, --duration and --max-duration must be positive")
    # SIGTERM unwinds like Ctrl-C does, through the finally that stops the target.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        summary, sustained, limit = measure(args)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print_report(summary, sustained, limit)
    foreign = summary["foreign_cpu_pct"]
    if isinstance(foreign, float) and foreign > FOREIGN_CPU_WARN_PCT:
        print(f"warning: other processes used up to {foreign:.0f}% of the machine's CPU "
              "during a measurement; rates are low by an unknown amount (CPU per check "
              "moves less)")
    print_verdicts(summary)
    print(json.dumps(summary, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
