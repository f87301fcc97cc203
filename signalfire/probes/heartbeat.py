"""Heartbeat: the monitored service calls Signalfire, so there is nothing to run.

The kind is registered so that configs validate (``grace_s``) and so that a
scheduler that runs it by mistake gets a result that says so, not a crash.
"""

from __future__ import annotations

from signalfire.domain.probe import Monitor, MonitorKind, ProbeResult
from signalfire.probes import kind as k
from signalfire.probes.context import ProbeContext

OPTIONS = {
    "grace_s": k.Option("Seconds a heartbeat may be late, beyond the monitor's `interval`, before "
                        "the monitor counts as failed.", 0, k.number(minimum=0)),
}


def validate_target(target: str) -> str | None:
    if target:
        return "heartbeat monitors take no target: the service calls Signalfire's push endpoint"
    return None


async def run(monitor: Monitor, ctx: ProbeContext) -> ProbeResult:
    return ProbeResult(started_at=ctx.clock(), duration_ms=0.0, error="not_an_active_probe",
                       error_detail="heartbeat monitors are pushed by the service, not probed")


KIND = k.ProbeKind(kind=MonitorKind.HEARTBEAT, run=run, options=OPTIONS,
                   validate_target=validate_target, active=False)
