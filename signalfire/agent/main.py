"""The agent process: pull monitors, probe, queue, send; stop cleanly on a signal.

Three loops share one event loop:

- the **puller** asks the server for this region's monitors at start and
  every ``refresh_s``; while the server is away it keeps the last list it got
  (saved in the queue file, so a restart while the server is down still
  probes), and retries sooner (backoff, at most ``refresh_s``) until it gets one;
- the **scheduler** runs them with the same ``Checker`` as the server, and
  its sink writes every batch to the queue before anything else happens;
- the **sender** empties the queue towards the server (``sender``), but only
  once a pull in this process has confirmed that the token belongs to
  ``region``: the server files what it is sent under the token's region.

A self-check canary must be something other than the server: with the server
down and the targets fine, the agent must go on making (and queueing) good
observations. Canaries are optional and none are set by default.

SIGTERM or SIGINT: stop scheduling, let checks in flight finish, flush to the
queue, try one last send, return (exit 0). A second signal skips (or cuts short)
the last send.
A refused token or a region mismatch stops the agent with that error (the CLI
turns it into one line and exit code 2); queued observations stay on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx

from signalfire import __version__
from signalfire.agent.backoff import Backoff
from signalfire.agent.client import AgentClient, RegionMismatch, ServerError, TokenRejected
from signalfire.agent.queue import ObservationQueue
from signalfire.agent.sender import Sender
from signalfire.agent.wire import monitor_from_wire, monitor_to_wire
from signalfire.domain.probe import Monitor, Observation
from signalfire.engine.checks import Checker
from signalfire.engine.clock import Clock, system_clock
from signalfire.engine.scheduler import Scheduler, any_reachable
from signalfire.errors import ConfigError, SignalfireError
from signalfire.probes import PROBES, ProbeContext
from signalfire.probes.connection import split_host_port

log = logging.getLogger("signalfire.agent")

T = TypeVar("T")

REFRESH_S = 30.0
STOP_GRACE_S = 5.0
FINAL_SEND_S = 5.0


def probe_user_agent(region: str) -> str:
    """The User-Agent of the agent's HTTP checks: names the region, so a target's
    access log tells which region a check came from."""
    return f"Signalfire/{__version__} (uptime probe; region {region})"


def parse_canaries(values: Sequence[str]) -> tuple[tuple[str, int], ...]:
    """``host:port`` items, each value possibly holding several (comma or space separated)."""
    found = []
    for value in values:
        for item in value.replace(",", " ").split():
            try:
                found.append(split_host_port(item, default_port=None))
            except ValueError as exc:
                raise ConfigError(f"--canary: {exc}") from None
    return tuple(found)


def check_server_url(server: str) -> httpx.URL:
    try:
        url = httpx.URL(server)
    except httpx.InvalidURL as exc:
        raise ConfigError(f"--server: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(f"--server: {server!r} is not an http(s) URL "
                          "(e.g. https://status.example.com)")
    return url


def _shown(url: httpx.URL) -> str:
    """The server URL for logs: without any user:password in it."""
    return str(url.copy_with(username=None, password=None)).rstrip("/")


def run_agent(*, server: str, token: str, region: str, queue_path: Path,
              canaries: Sequence[tuple[str, int]] = ()) -> None:
    """Run an agent until SIGTERM/SIGINT (returns) or a fatal error (raises)."""
    check_server_url(server)
    asyncio.run(Agent(server=server, token=token, region=region, queue_path=queue_path,
                      canaries=canaries).run())


class Agent:
    def __init__(self, *, server: str, token: str, region: str, queue_path: Path,
                 canaries: Sequence[tuple[str, int]] = (), clock: Clock = system_clock,
                 refresh_s: float = REFRESH_S,
                 server_transport: httpx.AsyncBaseTransport | None = None,
                 probe_transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.server_url = check_server_url(server)
        self.token = token
        self.region = region
        self.queue_path = queue_path
        self.canaries = tuple(canaries)
        self.clock = clock
        self.refresh_s = refresh_s
        self.server_transport = server_transport
        self.probe_transport = probe_transport
        self.stop_requested = asyncio.Event()
        self._signals = 0
        # Set by the first pull that confirms the token's region (see the module doc).
        self._region_confirmed = asyncio.Event()
        # The thread that owns the queue's SQLite connection; every queue call runs there.
        self._queue_thread = ThreadPoolExecutor(1, thread_name_prefix="agent-queue")
        self._saved_monitors: list[dict[str, Any]] | None = None
        self._final_send: asyncio.Task[int] | None = None

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._queue_thread, functools.partial(fn, *args, **kwargs))

    def request_stop(self) -> None:
        self._signals += 1
        if self._signals == 1:
            log.info("event=stopping")
        else:
            log.warning("event=stopping_now reason=second_signal")
            if self._final_send is not None:
                self._final_send.cancel()
        self.stop_requested.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        try:
            queue = await self._call(ObservationQueue, self.queue_path, region=self.region)
            try:
                await self._run_with(queue)
            finally:
                await self._call(queue.close)
        finally:
            self._queue_thread.shutdown(wait=True)
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)

    async def _run_with(self, queue: ObservationQueue) -> None:
        self.queue = queue
        client = AgentClient(str(self.server_url), self.token, transport=self.server_transport)
        ctx = ProbeContext(clock=self.clock, user_agent=probe_user_agent(self.region),
                           http_transport=self.probe_transport)
        self.checker = Checker(ctx, region=self.region)
        canaries = self.canaries
        self.scheduler = Scheduler(
            self.checker.check, self._sink,
            online=(lambda: any_reachable(canaries)) if canaries else None)
        self.sender = Sender(queue, client, call=self._call, clock=self.clock)

        self._saved_monitors = await self._call(queue.load_monitors)
        if self._saved_monitors:
            self._use(self._read_saved(self._saved_monitors))
        log.info("event=agent_started region=%s server=%s queue=%s depth=%d saved_monitors=%d "
                 "canaries=%s", self.region, _shown(self.server_url), self.queue_path,
                 await self._call(queue.depth), len(self._saved_monitors or ()),
                 ",".join(f"{h}:{p}" for h, p in canaries) or "-")
        await self.scheduler.start()
        puller = asyncio.create_task(self._pull_loop(client), name="puller")
        sending = asyncio.create_task(self._send_loop(), name="sender")
        stopper = asyncio.create_task(self.stop_requested.wait(), name="stopper")
        fatal: BaseException | None = None
        try:
            done, _ = await asyncio.wait({puller, sending, stopper},
                                         return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopper:
                    fatal = task.exception()
        finally:
            for task in (puller, sending, stopper):
                task.cancel()
            await asyncio.gather(puller, sending, stopper, return_exceptions=True)
            try:
                await self.scheduler.stop(grace_s=STOP_GRACE_S)
                if fatal is None and self._region_confirmed.is_set() and self._signals < 2:
                    self._final_send = asyncio.create_task(
                        self.sender.drain(timeout_s=FINAL_SEND_S))
                    await asyncio.wait({self._final_send})
            finally:
                await client.aclose()
                await ctx.close()
        depth = await self._call(queue.depth)
        if fatal is not None:
            reason = ("token_rejected" if isinstance(fatal, TokenRejected) else
                      "region_mismatch" if isinstance(fatal, RegionMismatch) else "crash")
            log.error("event=agent_stopped reason=%s depth=%d error=%r", reason, depth,
                      getattr(fatal, "message", str(fatal)))
            raise fatal
        log.info("event=agent_stopped reason=signal depth=%d sent=%d", depth, self.sender.sent)

    # -- the loops --------------------------------------------------------------------

    async def _sink(self, batch: list[Observation]) -> None:
        await self._call(self.queue.put, batch)
        if log.isEnabledFor(logging.DEBUG):
            for o in batch:
                log.debug("event=observation_queued id=%s monitor=%s at=%s ok=%s", o.id,
                          o.monitor_id, o.at.isoformat(), o.ok)
        self.sender.wake.set()

    async def _send_loop(self) -> None:
        await self._region_confirmed.wait()
        await self.sender.run()

    async def _pull_loop(self, client: AgentClient) -> None:
        backoff = Backoff(first_s=min(1.0, self.refresh_s), cap_s=self.refresh_s)
        while True:
            try:
                got_region, monitors = await client.monitors()
            except ServerError as exc:
                delay = backoff.next_s()
                log.warning("event=monitors_pull_failed error=%r retry_in_s=%.1f using=%s",
                            exc.message, delay,
                            "saved" if self._saved_monitors is not None else "none")
                await asyncio.sleep(delay)
                continue
            if got_region != self.region:
                raise RegionMismatch(
                    f"the token belongs to region {got_region!r} but the agent was started "
                    f"with --region {self.region!r}; use --region {got_region} or a token "
                    f"created with --region {self.region}")
            self._region_confirmed.set()
            backoff.reset()
            runnable = self._use(monitors)
            docs = [monitor_to_wire(m) for m in runnable]
            if docs != self._saved_monitors:
                await self._call(self.queue.save_monitors, docs)
                self._saved_monitors = docs
                log.info("event=monitors_changed count=%d", len(runnable))
            await asyncio.sleep(self.refresh_s)

    def _use(self, monitors: Sequence[Monitor]) -> list[Monitor]:
        """Hand the monitors this agent can run to the scheduler; return them."""
        runnable = []
        for m in monitors:
            if not PROBES[m.kind].active:
                continue  # heartbeats are pushed by the service, judged by the server
            try:
                self.checker.conditions(m)
            except SignalfireError as exc:
                log.warning("event=monitor_skipped monitor=%s error=%r", m.id, exc.message)
                continue
            runnable.append(m)
        self.scheduler.set_monitors(runnable)
        return runnable

    @staticmethod
    def _read_saved(docs: list[dict[str, Any]]) -> list[Monitor]:
        monitors = []
        for doc in docs:
            with contextlib.suppress(KeyError, TypeError, ValueError):
                monitors.append(monitor_from_wire(doc))
        return monitors
