"""The scheduler on its own, with checks that take no network."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from signalfire.domain.probe import Monitor, MonitorKind, Observation
from signalfire.engine.scheduler import Scheduler, any_reachable, spread_offset


def mon(i: int, interval_s: float = 0.2, **kw) -> Monitor:
    return Monitor(id=f"m{i}", page_id="p", component_id=None, name=f"m{i}",
                   kind=MonitorKind.TCP, interval_s=interval_s, timeout_s=1.0, **kw)


def obs(m: Monitor, ok: bool = True) -> Observation:
    return Observation(id=uuid.uuid4().hex, monitor_id=m.id, region="local",
                       at=datetime.now(UTC), ok=ok, duration_ms=1.0)


def run(coro):
    return asyncio.run(coro)


def test_every_monitor_runs_on_its_interval_without_drift():
    async def scenario():
        runs: dict[str, int] = {}
        got: list[Observation] = []

        async def check(m):
            runs[m.id] = runs.get(m.id, 0) + 1
            await asyncio.sleep(0.05)  # slower checks must not push the schedule back
            return obs(m)

        async def sink(batch):
            got.extend(batch)

        s = Scheduler(check, sink, flush_s=0.05)
        s.set_monitors([mon(i) for i in range(20)])
        await s.start()
        await asyncio.sleep(2.0)
        await s.stop()
        return runs, got, s

    runs, got, s = run(scenario())
    # 2 s at a 0.2 s interval: 10 runs each, give or take the first offset.
    assert all(9 <= n <= 11 for n in runs.values()), runs
    assert len(got) == sum(runs.values())  # stop() flushed everything
    # Lag is measured, not bounded tightly: on a loaded machine a run can start a
    # couple of hundred ms late (CI once saw 0.22 s). Drift would pile up far more:
    # 10 rounds of 0.05 s checks pushing the schedule back would be 0.5 s.
    assert s.lag_percentile(0.99) < 0.4


def test_a_check_slower_than_its_interval_is_skipped_not_piled_up():
    async def scenario():
        started = 0

        async def check(m):
            nonlocal started
            started += 1
            await asyncio.sleep(0.5)
            return obs(m)

        async def sink(batch):
            pass

        s = Scheduler(check, sink)
        s.set_monitors([mon(1, interval_s=0.1)])
        await s.start()
        await asyncio.sleep(1.2)
        await s.stop(grace_s=1)
        return started, s.stats.skipped_overlap

    started, skipped = run(scenario())
    assert started <= 4 and skipped >= 5


def test_the_concurrency_cap_holds():
    async def scenario():
        live = peak = 0

        async def check(m):
            nonlocal live, peak
            live += 1
            peak = max(peak, live)
            await asyncio.sleep(0.1)
            live -= 1
            return obs(m)

        async def sink(batch):
            pass

        s = Scheduler(check, sink, concurrency=5)
        s.set_monitors([mon(i, interval_s=0.1) for i in range(50)])
        await s.start()
        await asyncio.sleep(0.5)
        await s.stop()
        return peak

    assert run(scenario()) == 5


def test_failures_are_held_back_while_the_prober_is_offline():
    async def scenario():
        got: list[Observation] = []

        async def check(m):
            return obs(m, ok=False)

        async def sink(batch):
            got.extend(batch)

        async def offline():
            return False

        s = Scheduler(check, sink, online=offline, online_every_s=0.05, flush_s=0.05)
        s.set_monitors([mon(1, interval_s=0.1)])
        await s.start()
        await asyncio.sleep(0.5)
        await s.stop()
        return got, s.stats.held_back_offline

    got, held = run(scenario())
    assert held >= 2 and all(o.ok for o in got)


def test_a_crashing_check_does_not_stop_the_schedule():
    async def scenario():
        calls = 0

        async def check(m):
            nonlocal calls
            calls += 1
            raise RuntimeError("boom")

        async def sink(batch):
            pass

        s = Scheduler(check, sink)
        s.set_monitors([mon(1, interval_s=0.1)])
        await s.start()
        await asyncio.sleep(0.5)
        await s.stop()
        return calls

    assert run(scenario()) >= 4


def test_offsets_spread_and_stay_stable():
    offsets = [spread_offset(f"m{i}", 60) for i in range(1000)]
    assert offsets == [spread_offset(f"m{i}", 60) for i in range(1000)]
    assert all(0 <= o < 60 for o in offsets)
    # Roughly uniform: every 10-second slice holds some.
    assert all(any(s <= o < s + 10 for o in offsets) for s in range(0, 60, 10))


def test_canaries():
    assert run(any_reachable([])) is True
    assert run(any_reachable([("127.0.0.1", 9)], timeout_s=0.5)) is False


def test_sniffio_is_installed():
    # httpcore looks it up on every request; without it each check pays for a
    # failed import (about a quarter of its CPU, see docs/benchmarks.md).
    import importlib.util

    assert importlib.util.find_spec("sniffio") is not None
