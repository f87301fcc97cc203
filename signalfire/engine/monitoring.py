"""The server's own prober: runs the monitors assigned to region ``local`` and
judges heartbeat monitors, writing observations straight into the store.

Agents in other regions run the same Checker and Scheduler and send their
observations over HTTP instead (``signalfire.agent``).
"""

from __future__ import annotations

import gc
import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import anyio.to_thread

from signalfire.domain.probe import LOCAL_REGION, Monitor, MonitorKind, Observation
from signalfire.engine.checks import Checker
from signalfire.engine.scheduler import Scheduler
from signalfire.probes import ProbeContext
from signalfire.store import Store
from signalfire.store.monitoring import IngestResult

log = logging.getLogger("signalfire.monitoring")


class LocalProber:
    def __init__(self, store: Store, *, clock: Callable[[], datetime],
                 on_ingest: Callable[[IngestResult], None] | None = None,
                 on_observed: Callable[[list[Observation]], None] | None = None,
                 concurrency: int = 500, refresh_s: float = 10.0) -> None:
        self.store = store
        self.clock = clock
        self.on_ingest = on_ingest
        self.on_observed = on_observed
        self.refresh_s = refresh_s
        self.ctx = ProbeContext(clock=clock)
        self.checker = Checker(self.ctx, region=LOCAL_REGION)
        self.scheduler = Scheduler(self.check, self.sink, concurrency=concurrency)

    async def check(self, monitor: Monitor) -> Observation:
        if monitor.kind is MonitorKind.HEARTBEAT:
            return await anyio.to_thread.run_sync(self.judge_heartbeat, monitor)
        return await self.checker.check(monitor)

    def judge_heartbeat(self, monitor: Monitor) -> Observation:
        """Up while a ping came within one interval plus the grace time."""
        now = self.clock()
        grace_s = float(monitor.options.get("grace_s", 60))
        last = self.store.last_ping_at(monitor.id)
        deadline = timedelta(seconds=monitor.interval_s + grace_s)
        ok = last is not None and now - last <= deadline
        detail = None if ok else (
            "no ping yet" if last is None else f"last ping {int((now - last).total_seconds())}s ago")
        return Observation(id=uuid.uuid4().hex, monitor_id=monitor.id, region=LOCAL_REGION,
                           at=now, ok=ok, duration_ms=0.0, error=None if ok else "no_ping",
                           error_detail=detail)

    async def sink(self, batch: list[Observation]) -> None:
        if self.on_observed is not None:
            self.on_observed(batch)
        result = await anyio.to_thread.run_sync(
            lambda: self.store.ingest(batch, received_at=self.clock()))
        if self.on_ingest and (result.component_changes or result.flips):
            await anyio.to_thread.run_sync(self.on_ingest, result)

    def scheduler_monitors(self) -> dict[str, Monitor]:
        return self.scheduler.monitors

    async def refresh(self) -> None:
        monitors = await anyio.to_thread.run_sync(
            lambda: self.store.list_monitors(region=LOCAL_REGION, enabled_only=True))
        changed = set(self.scheduler.monitors) != {m.id for m in monitors if m.enabled}
        self.scheduler.set_monitors(monitors)
        if changed:
            # The monitors and their parsed conditions live until the next change;
            # full collections walking them were the longest scheduling lags
            # (bench/probes.py). Freeze only on a change: cycles alive when
            # freezing are never collected.
            gc.collect()
            gc.freeze()

    async def run(self) -> None:
        """Until cancelled: keep the monitor set fresh and the quorum current."""
        await self.refresh()
        await self.scheduler.start()
        try:
            last = time.monotonic()
            while True:
                await anyio.sleep(self.refresh_s)
                await self.refresh()
                if time.monotonic() - last >= 30:
                    last = time.monotonic()
                    result = await anyio.to_thread.run_sync(
                        lambda: self.store.reevaluate_components(self.clock()))
                    if self.on_ingest and result.component_changes:
                        await anyio.to_thread.run_sync(self.on_ingest, result)
        finally:
            with anyio.CancelScope(shield=True):
                await self.scheduler.stop()
                await self.ctx.close()
