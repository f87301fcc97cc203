"""One measuring process of ``probes.py``: ``_probe_worker.py MODE CONFIG_JSON``.

Started by ``probes.py`` (pinned to one core), never by hand. It prints one
JSON object on stdout and exits. Each mode runs in a process of its own, so
that peak RSS and CPU time are that mode's alone.

- ``sustained``: the real ``Scheduler`` and ``Checker`` (http probe through a
  ``ProbeContext``) for N monitors at one interval, for a fixed time; the sink
  counts observations and keeps a bounded sample.
- ``checks``: K tasks call ``Checker.check`` in a loop, flat out (no scheduler).
- ``bare``: K tasks call ``httpx.AsyncClient.get`` in a loop, flat out, with
  the connection policy of ``ProbeContext`` (one connection per request) and
  nothing else: the practical limit of the check path.

Config keys: ``port``, ``monitors``, ``interval_s``, ``duration_s``, ``loop``
(``asyncio`` or ``uvloop``), ``target_pid``; ``scheduler_concurrency`` for
sustained; ``concurrency`` and ``warmup_s`` for the flat-out modes.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from signalfire.domain.probe import Monitor, MonitorKind, Observation
from signalfire.engine.checks import Checker
from signalfire.engine.scheduler import Scheduler, spread_offset
from signalfire.probes import ProbeContext

CONDITIONS = ("[STATUS] == 200", "[BODY].status == ok")
SAMPLE_SIZE = 100
STOP_GRACE_S = 15.0
CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def utc_now() -> datetime:
    return datetime.now(UTC)


def url_of(port: int, i: int) -> str:
    # A path of its own per monitor: nothing on either side can cache a check.
    return f"http://127.0.0.1:{port}/m/{i}"


def make_monitors(port: int, count: int, interval_s: float) -> list[Monitor]:
    return [Monitor(id=f"bench-{i:05d}", page_id="bench", component_id=None, name=f"m{i}",
                    kind=MonitorKind.HTTP, target=url_of(port, i), interval_s=interval_s,
                    timeout_s=10.0, conditions=CONDITIONS)
            for i in range(count)]


# -- what the process and its core used ---------------------------------------------

def peak_rss_mb() -> float:
    """VmHWM: the most resident memory this process ever had."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pinned_core() -> int | None:
    cores = os.sched_getaffinity(0)
    return next(iter(cores)) if len(cores) == 1 else None


def core_times(core: int | None) -> tuple[float, float]:
    """(busy, total) seconds of one core (user nice system irq softirq steal / all)."""
    if core is None:
        return 0.0, 0.0
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{core} "):
            ticks = [int(x) for x in line.split()[1:9]]
            busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7]
            return busy / CLOCK_TICKS_PER_S, sum(ticks) / CLOCK_TICKS_PER_S
    return 0.0, 0.0


def process_cpu_s(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(stat[11]) + int(stat[12])) / CLOCK_TICKS_PER_S


class GcClock:
    """Time spent in the garbage collector, through ``gc.callbacks``."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.full_seconds = 0.0
        self.full_collections = 0
        self.longest_s = 0.0  # the longest single collection since the last reset
        self._began = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
            return
        took = time.perf_counter() - self._began
        self.seconds += took
        self.longest_s = max(self.longest_s, took)
        if info["generation"] == 2:
            self.full_seconds += took
            self.full_collections += 1


GC = GcClock()


class Window:
    """CPU of this process, of its core and of the target between ``start`` and ``end``."""

    def __init__(self, target_pid: int | None) -> None:
        self.target_pid = target_pid
        self.core = pinned_core()

    def _sample(self) -> tuple[float, ...]:
        busy, total = core_times(self.core)
        return (time.monotonic(), time.process_time(), busy, total,
                process_cpu_s(self.target_pid), GC.seconds, GC.full_seconds, GC.full_collections)

    def start(self) -> None:
        GC.longest_s = 0.0
        self._start = self._sample()

    def end(self) -> dict[str, float]:
        wall, cpu, busy, total, target, gc_s, full_s, full = (
            b - a for a, b in zip(self._start, self._sample(), strict=True))
        return {
            "wall_s": wall,
            "cpu_s": cpu,
            "cpu_pct": 100 * cpu / wall,
            "core_busy_pct": 100 * busy / total if total else -1.0,
            "target_cpu_pct": 100 * target / wall,
            "gc_pct": 100 * gc_s / wall,
            "gc_full_pct": 100 * full_s / wall,
            "gc_full_collections": int(full),
            "gc_longest_ms": 1000 * GC.longest_s,
            "gc_objects": len(gc.get_objects()),
        }


# -- sustained: scheduler + checker -------------------------------------------------

class CountingSink:
    def __init__(self) -> None:
        self.observations = 0
        self.failures = 0
        self.errors: collections.Counter[str] = collections.Counter()
        self.sample: collections.deque[Observation] = collections.deque(maxlen=SAMPLE_SIZE)

    async def __call__(self, batch: list[Observation]) -> None:
        self.observations += len(batch)
        for observation in batch:
            if not observation.ok:
                self.failures += 1
                self.errors[observation.error or "condition_failed"] += 1
        self.sample.extend(batch)


def due_in_window(monitors: list[Monitor], start: float, length_s: float) -> int:
    """How many runs the scheduler owes in [start, start + length_s), by its own rule."""
    due = 0
    for m in monitors:
        first = start + (spread_offset(m.id, m.interval_s) - start) % m.interval_s
        if first < start + length_s:
            due += 1 + int((start + length_s - first) // m.interval_s)
    return due


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


async def sustained(cfg: dict[str, Any]) -> dict[str, Any]:
    monitors = make_monitors(cfg["port"], cfg["monitors"], cfg["interval_s"])
    duration_s = cfg["duration_s"]
    sink = CountingSink()
    lags: list[float] = []
    window = Window(cfg["target_pid"])
    loop = asyncio.get_running_loop()
    async with ProbeContext(clock=utc_now) as ctx:
        checker = Checker(ctx, region="bench")
        # Builds the shared client and its SSL context, as a prober's first check does.
        warm = await checker.check(make_monitors(cfg["port"], 1, cfg["interval_s"])[0])
        if not warm.ok:
            raise SystemExit(f"the target failed the warm-up check: {warm}")
        scheduler = Scheduler(checker.check, sink, concurrency=cfg["scheduler_concurrency"])
        # Every lag, not the scheduler's bounded list, which keeps the last 10-20 k.
        scheduler.on_lag = lags.append
        per_second: list[tuple[int, int]] = []  # (completed, in flight) each second

        window.start()
        start = loop.time()
        scheduler.set_monitors(monitors)
        await scheduler.start()
        for _ in range(int(duration_s)):
            await asyncio.sleep(start + len(per_second) + 1 - loop.time())
            per_second.append((scheduler.stats.completed, scheduler.stats.in_flight))
        await asyncio.sleep(max(0.0, start + duration_s - loop.time()))
        completed = scheduler.stats.completed
        started = scheduler.stats.started
        used = window.end()
        await scheduler.stop(grace_s=STOP_GRACE_S)
    lags.sort()
    completed_per_s = [b[0] - a[0] for a, b in zip([(0, 0), *per_second], per_second, strict=False)]
    sample_ok = sum(1 for o in sink.sample if o.ok and o.status == 200)
    return {
        "due": due_in_window(monitors, start, duration_s),
        "started": started,
        "completed": completed,
        "completed_after_stop": scheduler.stats.completed,
        "observations": sink.observations,
        "failures": sink.failures,
        "crashed": scheduler.stats.started - scheduler.stats.completed,
        "errors": dict(sink.errors.most_common(5)),
        "skipped_overlap": scheduler.stats.skipped_overlap,
        "sample_ok": sample_ok,
        "sample_size": len(sink.sample),
        "lag_count": len(lags),
        "lag_p50_s": percentile(lags, 0.50),
        "lag_p99_s": percentile(lags, 0.99),
        "lag_max_s": lags[-1] if lags else 0.0,
        "completed_per_s": completed_per_s,
        "max_in_flight": max((f for _, f in per_second), default=0),
        "rss_mb": peak_rss_mb(),
        **used,
    }


# -- flat out: checker or bare client -------------------------------------------------

async def flat_out(cfg: dict[str, Any], one: Callable[[int], Awaitable[bool]]) -> dict[str, Any]:
    """``concurrency`` tasks call ``one(i)`` back to back on ever new indexes."""
    concurrency, count = cfg["concurrency"], cfg["monitors"]
    done = failures = 0
    stopping = False

    async def worker(first: int) -> None:
        nonlocal done, failures
        i = first
        while not stopping:
            ok = await one(i % count)
            done += 1
            failures += not ok
            i += concurrency

    window = Window(cfg["target_pid"])
    tasks = [asyncio.create_task(worker(w)) for w in range(concurrency)]
    try:
        await asyncio.sleep(cfg["warmup_s"])
        done_before, failures_before = done, failures
        window.start()
        await asyncio.sleep(cfg["duration_s"])
        checks, failed = done - done_before, failures - failures_before
        used = window.end()
    finally:
        stopping = True
        _, pending = await asyncio.wait(tasks, timeout=STOP_GRACE_S)
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "checks": checks,
        "failures": failed,
        "checks_per_s": checks / used["wall_s"],
        "cpu_us_per_check": 1e6 * used["cpu_s"] / max(checks, 1),
        "rss_mb": peak_rss_mb(),
        **used,
    }


async def checks(cfg: dict[str, Any]) -> dict[str, Any]:
    monitors = make_monitors(cfg["port"], cfg["monitors"], cfg["interval_s"])
    async with ProbeContext(clock=utc_now) as ctx:
        checker = Checker(ctx, region="bench")
        # A long-running prober has parsed every monitor's conditions already.
        for monitor in monitors:
            checker.conditions(monitor)

        async def one(i: int) -> bool:
            return (await checker.check(monitors[i])).ok

        return await flat_out(cfg, one)


async def bare(cfg: dict[str, Any]) -> dict[str, Any]:
    urls = [url_of(cfg["port"], i) for i in range(cfg["monitors"])]
    # ProbeContext's connection policy (no pool cap, a new connection per
    # request) so that the difference is the probe, not connection reuse.
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:

        async def one(i: int) -> bool:
            try:
                response = await client.get(urls[i], timeout=10.0)
            except httpx.HTTPError:
                return False
            return response.status_code == 200

        return await flat_out(cfg, one)


MODES: dict[str, Callable[[dict[str, Any]], Coroutine[Any, Any, dict[str, Any]]]] = {
    "sustained": sustained, "checks": checks, "bare": bare,
}


def main(argv: list[str]) -> None:
    if len(argv) != 3 or argv[1] not in MODES:
        raise SystemExit(f"usage: _probe_worker.py {{{','.join(MODES)}}} CONFIG_JSON")
    cfg = json.loads(argv[2])
    mode = MODES[argv[1]]
    if cfg["loop"] == "uvloop":
        import uvloop

        result = uvloop.run(mode(cfg))
    else:
        result = asyncio.run(mode(cfg))
    print(json.dumps({"mode": argv[1], "loop": cfg["loop"], "core": pinned_core(), **result}),
          flush=True)


if __name__ == "__main__":
    main(sys.argv)
