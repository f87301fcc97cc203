"""The outbox dispatcher: fan events out, claim due deliveries, send, record.

Any number of dispatchers may run over one database (every node runs one):
claims are conditional updates, so each delivery is sent by one of them. A
dispatcher that dies mid-send leaves its claims to lapse (``lease_s``) and
another takes them up; the message then goes again with the same id
(``webhook-id``, ``Message-ID``), so receivers can tell a repeat — the only
window in which one can happen is between a receiver's answer and the commit
that records it.

Transient failures are retried with growing pauses (30 s, 2 min, 8 min, … up to
an hour, ``max_attempts`` in all); permanent ones stop the subscriber or
channel and keep the error, which the admin API shows.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import anyio

from signalfire.errors import TransportError
from signalfire.notify.messages import Messages
from signalfire.notify.transports import Transport
from signalfire.reports.limits import RateLimiter
from signalfire.store import Store
from signalfire.store.notifications import Delivery

log = logging.getLogger("signalfire.notify")


def backoff_s(attempts: int) -> float:
    """The pause after the ``attempts``-th failed try: 30 s, 2 min, 8 min, … ≤ 1 h."""
    return min(3600.0, 30.0 * 4 ** max(0, attempts - 1))


class Dispatcher:
    def __init__(self, store: Store, messages: Messages, transports: Mapping[str, Transport],
                 clock: Callable[[], datetime], *, worker: str | None = None,
                 batch: int = 500, concurrency: int = 100, lease_s: float = 120.0,
                 hold_s: float = 30.0, max_attempts: int = 8,
                 channel_per_minute: float = 20, channel_burst: int = 5,
                 poll_s: float = 1.0) -> None:
        self.store, self.messages, self.transports, self.clock = store, messages, transports, clock
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.batch, self.lease_s, self.hold_s = batch, lease_s, hold_s
        self.max_attempts, self.poll_s = max_attempts, poll_s
        self._slots = asyncio.Semaphore(concurrency)
        # Chat services throttle bursts: an operator channel gets at most this many
        # messages a minute; the rest wait their turn rather than fail.
        self._channel_limit = RateLimiter(per_minute=channel_per_minute, burst=channel_burst)
        self._channel_wait_s = 60.0 / channel_per_minute  # until the next token
        self._wake = asyncio.Event()
        self.sent = 0
        self.failed = 0

    def wake(self) -> None:
        """Something was written to the outbox: look now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                busy = await self.run_once()
            except Exception:  # one bad round must not stop the deliveries
                log.exception("event=dispatch_failed worker=%s", self.worker)
                busy = False
            if not busy:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self.poll_s)
                except TimeoutError:
                    pass

    async def run_once(self) -> bool:
        """One round; whether it found anything to do."""
        now = self.clock()
        fanned = await anyio.to_thread.run_sync(
            lambda: self.store.fan_out(now=now, hold_s=self.hold_s))
        # Each kind of channel has its own stream, so 100,000 emails going out
        # through one SMTP server do not hold up the webhooks behind them.
        busy = await asyncio.gather(*(self._round(kind, now) for kind in self.transports))
        return fanned > 0 or any(busy)

    async def _round(self, kind: str, now: datetime) -> bool:
        claimed = await anyio.to_thread.run_sync(
            lambda: self.store.claim_deliveries(self.worker, now=now, limit=self.batch,
                                                lease_s=self.lease_s, kind=kind))
        if not claimed:
            return False
        # Read what the messages say (the incident, the page) off the event loop.
        await anyio.to_thread.run_sync(self._prepare, claimed)
        outcomes = await asyncio.gather(*(self._send(d) for d in claimed))
        sent = [d.id for d, outcome in zip(claimed, outcomes, strict=True) if outcome is None]
        retry: list[tuple[int, str, datetime]] = []
        failed: list[tuple[int, str, bool]] = []
        after = self.clock()
        for d, outcome in zip(claimed, outcomes, strict=True):
            if outcome is None:
                continue
            error, permanent, later_s = outcome
            if permanent or d.attempts >= self.max_attempts:
                failed.append((d.id, error, permanent))
                log.warning("event=delivery_failed id=%d kind=%s permanent=%s error=%s",
                            d.id, d.kind, permanent, error)
            else:
                retry.append((d.id, error, after + timedelta(
                    seconds=later_s if later_s is not None else backoff_s(d.attempts))))
        await anyio.to_thread.run_sync(lambda: self.store.finish_deliveries(
            self.worker, now=after, sent=sent, retry=retry, failed=failed))
        self.sent += len(sent)
        self.failed += len(failed)
        return True

    def _prepare(self, claimed: list[Delivery]) -> None:
        seen: set[int] = set()
        for d in claimed:
            if d.event_id not in seen:
                seen.add(d.event_id)
                try:
                    self.messages.webhook_body(d)
                except Exception:  # the send reports it, per delivery
                    pass

    async def _send(self, d: Delivery) -> tuple[str, bool, float | None] | None:
        """None when sent; else (error, permanent, retry in s or None for the backoff)."""
        transport = self.transports.get(d.kind)
        if transport is None:
            return f"no {d.kind} transport is configured", False, None
        if d.channel_id and not self._channel_limit.allow(d.channel_id):
            return "held back by the channel's rate limit", False, self._channel_wait_s
        async with self._slots:
            try:
                await transport.send(d)
            except TransportError as exc:
                return exc.message, exc.permanent, None
            except Exception as exc:  # a bug or a gone incident: keep it, retry later
                log.exception("event=delivery_error id=%d", d.id)
                return f"{type(exc).__name__}: {exc}"[:500], False, None
        return None
