"""TCP check: can a connection to ``host:port`` be opened within the timeout?"""

from __future__ import annotations

import asyncio

from signalfire.domain.probe import Monitor, MonitorKind, ProbeResult
from signalfire.probes import kind as k
from signalfire.probes.connection import close_quietly, split_host_port, validate_host_port
from signalfire.probes.context import ProbeContext
from signalfire.probes.failures import classify

# How long closing may take once the check is decided; it is not measured.
CLOSE_TIMEOUT_S = 1.0


def validate_target(target: str) -> str | None:
    return validate_host_port(target, default_port=None)


async def run(monitor: Monitor, ctx: ProbeContext) -> ProbeResult:
    started_at = ctx.clock()
    start = ctx.monotonic()

    def failed(error: str, detail: str) -> ProbeResult:
        return ProbeResult(started_at=started_at, duration_ms=(ctx.monotonic() - start) * 1000,
                           error=error, error_detail=detail)

    problems = KIND.validate_options(monitor.options)
    if problems:
        return failed("invalid_options", "; ".join(problems))
    problem = validate_target(monitor.target)
    if problem:
        return failed("invalid_target", problem)
    host, port = split_host_port(monitor.target, default_port=None)
    try:
        async with asyncio.timeout(monitor.timeout_s):
            _, writer = await asyncio.open_connection(host, port)
    except Exception as exc:
        return failed(*classify(exc, timeout_s=monitor.timeout_s))
    duration_ms = (ctx.monotonic() - start) * 1000
    peer = writer.get_extra_info("peername")
    await close_quietly(writer, timeout_s=CLOSE_TIMEOUT_S)
    return ProbeResult(started_at=started_at, duration_ms=duration_ms, connected=True,
                       ip=str(peer[0]) if peer else None)


KIND = k.ProbeKind(kind=MonitorKind.TCP, run=run, options={}, validate_target=validate_target)
