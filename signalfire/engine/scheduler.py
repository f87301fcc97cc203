"""The probe scheduler: every monitor on its own interval, thousands at once.

- No drift: a monitor's n-th run is due at ``offset + n * interval`` on the
  event loop's monotonic clock, however long the previous run took.
- Jitter: each monitor's offset within its interval comes from a hash of its id,
  so 10,000 monitors with the same interval do not all fire in the same second,
  and a restart keeps the same spread.
- A global cap on checks in flight; lag (start time minus due time) is measured.
- A run that overlaps its previous one (slower than its interval) is skipped,
  not queued, so a hanging target cannot pile up work.
- Self-check: when every canary target fails, this prober's own network is the
  problem; failed observations made then are held back instead of reporting
  the world down.
- Results go to a sink in batches; ``stop()`` finishes in-flight checks and
  flushes.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

from signalfire.domain.probe import Monitor, Observation

log = logging.getLogger("signalfire.scheduler")

Sink = Callable[[list[Observation]], Awaitable[None]]


def spread_offset(monitor_id: str, interval_s: float) -> float:
    digest = hashlib.blake2b(monitor_id.encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") / 2**64) * interval_s


@dataclass
class SchedulerStats:
    started: int = 0
    completed: int = 0
    skipped_overlap: int = 0
    held_back_offline: int = 0
    in_flight: int = 0
    lags_s: list[float] = field(default_factory=list)

    def record_lag(self, lag_s: float) -> None:
        self.lags_s.append(lag_s)
        if len(self.lags_s) > 20_000:
            del self.lags_s[: len(self.lags_s) - 10_000]


class Scheduler:
    def __init__(self, check: Callable[[Monitor], Awaitable[Observation]], sink: Sink, *,
                 concurrency: int = 500, batch_size: int = 500, flush_s: float = 1.0,
                 online: Callable[[], Awaitable[bool]] | None = None,
                 online_every_s: float = 15.0) -> None:
        self.check = check
        self.sink = sink
        self.concurrency = concurrency
        self.batch_size = batch_size
        self.flush_s = flush_s
        self.online = online
        self.online_every_s = online_every_s
        self.stats = SchedulerStats()
        self.on_lag: Callable[[float], None] | None = None
        self.is_online = True
        self._monitors: dict[str, Monitor] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._seq = 0
        self._running: dict[str, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(concurrency)
        self._buffer: list[Observation] = []
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    # -- the monitor set ----------------------------------------------------------

    def set_monitors(self, monitors: Iterable[Monitor]) -> None:
        """Replace the set of monitors; unchanged ones keep their schedule."""
        loop = asyncio.get_running_loop()
        wanted = {m.id: m for m in monitors if m.enabled and m.interval_s > 0}
        now = loop.time()
        for mid, m in wanted.items():
            old = self._monitors.get(mid)
            if old is None or old.interval_s != m.interval_s:
                self._push(now + self._first_delay(m, now), mid)
        self._monitors = wanted
        self._wake.set()

    def _first_delay(self, m: Monitor, now: float) -> float:
        offset = spread_offset(m.id, m.interval_s)
        return (offset - now) % m.interval_s

    def _push(self, due: float, monitor_id: str) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, monitor_id))

    # -- running ------------------------------------------------------------------

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._dispatch()), asyncio.create_task(self._flusher())]
        if self.online is not None:
            self._tasks.append(asyncio.create_task(self._watch_network()))

    async def stop(self, *, grace_s: float = 10.0) -> None:
        """Stop scheduling, let checks in flight finish (up to ``grace_s``), flush."""
        self._stopping = True
        self._wake.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        running = list(self._running.values())
        if running:
            _, pending = await asyncio.wait(running, timeout=grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self.flush()

    async def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            if not self._heap:
                self._wake.clear()
                await self._wake.wait()
                continue
            due, _, mid = self._heap[0]
            delay = due - loop.time()
            if delay > 0:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=delay)
                except TimeoutError:
                    pass
                continue
            heapq.heappop(self._heap)
            monitor = self._monitors.get(mid)
            if monitor is None:
                continue  # removed since it was scheduled
            # The next run is due one interval after this one was *due*: no drift.
            nxt = due + monitor.interval_s
            while nxt <= loop.time():
                nxt += monitor.interval_s
            self._push(nxt, mid)
            if mid in self._running:
                self.stats.skipped_overlap += 1
                continue
            await self._slots.acquire()
            lag = max(0.0, loop.time() - due)
            self.stats.record_lag(lag)
            if self.on_lag is not None:
                self.on_lag(lag)
            self.stats.started += 1
            self._running[mid] = asyncio.create_task(self._run(monitor))

    async def _run(self, monitor: Monitor) -> None:
        self.stats.in_flight += 1
        try:
            # The probe bounds itself; this is the backstop for a probe that does not.
            async with asyncio.timeout(monitor.timeout_s + 5):
                observation = await self.check(monitor)
        except Exception as exc:  # a broken check must not stop the schedule
            log.warning("event=check_crashed monitor=%s error=%r", monitor.id, exc)
            return
        finally:
            self.stats.in_flight -= 1
            self._slots.release()
            self._running.pop(monitor.id, None)
        self.stats.completed += 1
        if not observation.ok and not self.is_online:
            self.stats.held_back_offline += 1
            return
        self._buffer.append(observation)
        if len(self._buffer) >= self.batch_size:
            await self.flush()

    async def flush(self) -> None:
        if not self._buffer:
            return
        batch, self._buffer = self._buffer, []
        try:
            await self.sink(batch)
        except Exception:
            # The sink is durable (store or local queue); if it failed, keep the
            # batch for the next flush rather than lose it.
            log.exception("event=sink_failed size=%d", len(batch))
            self._buffer[:0] = batch

    async def _flusher(self) -> None:
        while True:
            await asyncio.sleep(self.flush_s)
            await self.flush()

    async def _watch_network(self) -> None:
        assert self.online is not None
        while True:
            try:
                ok = await self.online()
            except Exception:
                ok = False
            if ok != self.is_online:
                log.warning("event=prober_network online=%s", ok)
            self.is_online = ok
            await asyncio.sleep(self.online_every_s)

    @property
    def monitors(self) -> dict[str, Monitor]:
        return self._monitors

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def lag_percentile(self, q: float) -> float:
        lags = sorted(self.stats.lags_s)
        if not lags:
            return 0.0
        return lags[min(len(lags) - 1, int(q * len(lags)))]


async def any_reachable(targets: Sequence[tuple[str, int]], *, timeout_s: float = 3.0) -> bool:
    """True when at least one canary (host, port) accepts a TCP connection."""
    if not targets:
        return True

    async def one(host: str, port: int) -> bool:
        try:
            async with asyncio.timeout(timeout_s):
                _, writer = await asyncio.open_connection(host, port)
            writer.close()
            await writer.wait_closed()
            return True
        except (OSError, TimeoutError):
            return False

    results = await asyncio.gather(*(one(h, p) for h, p in targets))
    return any(results)
