"""From the queue to the server: oldest first, deleted only after a 2xx.

Exactly once, end to end: an observation leaves the queue only once the
server acknowledged the batch holding it, and the server stores each
observation id once. A batch whose answer was lost (a timeout after the
server committed, a crash before ``ack``) is sent again and counted as
duplicates there, never stored twice.

A batch the server refuses as a whole (400, 413, 422) is split in halves until
the one observation it cannot take is found; that one is moved aside
(``ObservationQueue.bury``), not dropped, so it cannot block the rest forever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from signalfire.agent.backoff import Backoff
from signalfire.agent.client import AgentClient, RequestRefused, ServerError, ServerUnavailable
from signalfire.agent.queue import ObservationQueue
from signalfire.engine.clock import Clock
from signalfire.errors import SignalfireError

log = logging.getLogger("signalfire.agent")

# Runs a queue call on the thread that owns the queue.
QueueCall = Callable[..., Awaitable[Any]]

# Refusals of a batch's content: splitting it finds the observation at fault.
_CONTENT_REFUSALS = frozenset({400, 413, 422})

MAX_BATCH = 1000
# Well under the server's default body limit (SIGNALFIRE_MAX_BODY_BYTES, 1 MB).
MAX_BATCH_BYTES = 512_000


class Sender:
    def __init__(self, queue: ObservationQueue, client: AgentClient, *, call: QueueCall,
                 clock: Clock, batch_size: int = MAX_BATCH, max_batch_bytes: int = MAX_BATCH_BYTES,
                 idle_s: float = 1.0, backoff: Backoff | None = None) -> None:
        self.queue = queue
        self.client = client
        self.call = call
        self.clock = clock
        self.batch_size = batch_size
        self.max_batch_bytes = max_batch_bytes
        self.idle_s = idle_s
        self.backoff = backoff or Backoff()
        # Set when something was queued, so a fresh batch goes out without waiting.
        self.wake = asyncio.Event()
        self.sent = 0

    async def run(self) -> None:
        """Until cancelled (cancelling is safe at any point: an unacknowledged
        batch is sent again and deduplicated by the server)."""
        failing_since: float | None = None
        loop = asyncio.get_running_loop()
        while True:
            try:
                sent = await self.send_once()
            except ServerError as exc:
                if failing_since is None:
                    failing_since = loop.time()
                retry_after = exc.retry_after_s if isinstance(exc, ServerUnavailable) else None
                delay = self.backoff.next_s(at_least_s=retry_after or 0.0)
                log.log(logging.WARNING if isinstance(exc, ServerUnavailable) else logging.ERROR,
                        "event=send_failed error=%r retry_in_s=%.1f depth=%d",
                        exc.message, delay, await self.call(self.queue.depth))
                await asyncio.sleep(delay)
                continue
            if failing_since is not None and sent:
                log.info("event=server_back after_s=%.1f depth=%d",
                         loop.time() - failing_since, await self.call(self.queue.depth))
                failing_since = None
            self.backoff.reset()
            if not sent:
                self.wake.clear()
                try:
                    await asyncio.wait_for(self.wake.wait(), timeout=self.idle_s)
                except TimeoutError:
                    pass

    async def send_once(self) -> int:
        """Send the oldest batch; how many observations left the queue (0: it was empty).

        Raises ``ServerError`` (nothing was removed) or ``TokenRejected``.
        """
        batch = await self.call(self.queue.peek, self.batch_size, max_bytes=self.max_batch_bytes)
        if not batch:
            return 0
        return await self._deliver(batch)

    async def drain(self, *, timeout_s: float) -> int:
        """Send until the queue is empty, one try per batch, for at most ``timeout_s``.

        What is left stays queued for the next start.
        """
        total = 0
        try:
            async with asyncio.timeout(timeout_s):
                while sent := await self.send_once():
                    total += sent
        except (SignalfireError, TimeoutError) as exc:
            # Stopping anyway; a refused token is reported at the next start.
            log.warning("event=final_send_incomplete error=%r",
                        exc.message if isinstance(exc, SignalfireError) else "timeout")
        return total

    async def _deliver(self, batch: list[dict[str, Any]]) -> int:
        try:
            result = await self.client.send(batch)
        except RequestRefused as exc:
            if exc.status not in _CONTENT_REFUSALS:
                raise
            if len(batch) == 1:
                await self.call(self.queue.bury, batch[0]["id"], reason=exc.message,
                                now=self.clock())
                log.error("event=observation_rejected id=%s monitor=%s reason=%r",
                          batch[0]["id"], batch[0].get("monitor_id"), exc.message)
                return 1
            half = len(batch) // 2
            return await self._deliver(batch[:half]) + await self._deliver(batch[half:])
        await self.call(self.queue.ack, [doc["id"] for doc in batch])
        self.sent += len(batch)
        if result.unknown_monitors:
            # Deleted on the server since they were run: nothing will ever take them.
            log.warning("event=observations_of_unknown_monitors monitors=%s",
                        ",".join(result.unknown_monitors))
        log.debug("event=batch_sent size=%d accepted=%d duplicates=%d", len(batch),
                  result.accepted, result.duplicates)
        return len(batch)
