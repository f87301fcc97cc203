"""Whether a monitor is up in each region, and what that says about its component.

Two steps, both pure:

1. ``advance`` feeds one observation into a region's state machine. A region
   goes down after ``monitor.failure_threshold`` failures in a row and up
   again after ``monitor.success_threshold`` successes in a row, so one lost
   packet neither opens nor closes an outage (Gatus' 3/2 thresholds).
2. ``component_status`` looks at every region of every monitor of a component
   at ``now`` and turns them into a status with a sentence saying why.

The rules, with examples, are in ``docs/quorum.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from signalfire.domain.probe import Monitor, Observation
from signalfire.domain.status import ComponentStatus


@dataclass(frozen=True, slots=True)
class RegionState:
    """Where one monitor stands in one region after the observations seen so far.

    ``up`` is None until a threshold is first reached: a region that has just
    started probing has no verdict, rather than a made-up healthy one.
    ``changed_at`` is the ``at`` of the observation that last changed ``up``;
    ``slow`` is whether the last successful check took longer than
    ``monitor.degraded_ms``.
    """

    monitor_id: str
    region: str
    up: bool | None = None
    consecutive_failures: int = 0
    consecutive_successes: int = 0
    last_at: datetime | None = None
    last_ok: bool | None = None
    last_duration_ms: float | None = None
    changed_at: datetime | None = None
    slow: bool = False


def advance(
    state: RegionState | None, obs: Observation, monitor: Monitor
) -> tuple[RegionState, bool]:
    """Apply one observation; return the new state and whether ``up`` changed.

    ``state`` is None for a region never seen before. The flag is also True
    for the first verdict out of unknown (None → True or False): compare with
    the old state's ``up`` to tell a first verdict from a recovery.

    An observation not newer than ``state.last_at`` is ignored (the state comes
    back unchanged with False): agents queue results while the server is out
    of reach and send them late, and a late failure must not reopen an outage
    that later successes already closed. The same rule drops an observation
    delivered twice. Late observations still belong in the rollups.
    """
    if obs.monitor_id != monitor.id:
        raise ValueError(f"observation of monitor {obs.monitor_id!r} given with monitor {monitor.id!r}")
    if state is None:
        state = RegionState(monitor_id=obs.monitor_id, region=obs.region)
    elif (state.monitor_id, state.region) != (obs.monitor_id, obs.region):
        raise ValueError(
            f"observation of {obs.monitor_id!r} in {obs.region!r} given with the state of "
            f"{state.monitor_id!r} in {state.region!r}"
        )
    if state.last_at is not None and obs.at <= state.last_at:
        return state, False

    if obs.ok:
        failures, successes = 0, state.consecutive_successes + 1
        slow = monitor.degraded_ms is not None and obs.duration_ms > monitor.degraded_ms
    else:
        failures, successes = state.consecutive_failures + 1, 0
        # Slowness describes successful checks only; a failure leaves it as it was.
        slow = state.slow

    up = state.up
    # A threshold below 1 would never be reached by a count that starts at 1.
    if up is not True and successes >= max(1, monitor.success_threshold):
        up = True
    elif up is not False and failures >= max(1, monitor.failure_threshold):
        up = False
    flipped = up != state.up

    new = replace(
        state,
        up=up,
        consecutive_failures=failures,
        consecutive_successes=successes,
        last_at=obs.at,
        last_ok=obs.ok,
        last_duration_ms=obs.duration_ms,
        changed_at=obs.at if flipped else state.changed_at,
        slow=slow,
    )
    return new, flipped


def default_stale_after_s(monitor: Monitor) -> float:
    """Seconds without a report after which a region counts as silent: three
    missed runs plus slack for the agent's send delay and clock skew."""
    return 3 * monitor.interval_s + 30.0


@dataclass(frozen=True, slots=True)
class ComponentStatusVerdict:
    """What the monitors of a component say about it at one instant.

    ``status`` is None when no region has a verdict: the caller then leaves the
    component as it is. The region lists describe the monitor that decided
    (``monitor_id``), in the order of its ``regions``; ``slow_regions`` is a
    subset of ``up_regions``. ``pending_regions`` report but have not reached
    a threshold yet; like silent ones they count neither as up nor as down.
    """

    status: ComponentStatus | None
    reason: str
    monitor_id: str | None = None
    down_regions: tuple[str, ...] = ()
    up_regions: tuple[str, ...] = ()
    slow_regions: tuple[str, ...] = ()
    silent_regions: tuple[str, ...] = ()
    pending_regions: tuple[str, ...] = ()


def component_status(
    monitors_states: Sequence[tuple[Monitor, Sequence[RegionState]]],
    *,
    now: datetime,
    stale_after: Callable[[Monitor], float] | None = None,
) -> ComponentStatusVerdict:
    """The status of one component from the region states of its monitors.

    Each monitor gets its own verdict; the worst one wins (the first of equal
    severity, in the order given). Disabled monitors are skipped. A monitor
    whose regions all lack a verdict adds nothing: it is unknown, not healthy.
    ``stale_after(monitor)`` gives the seconds after which a region that has
    not reported counts as silent (default: ``default_stale_after_s``).
    """
    stale = stale_after or default_stale_after_s
    enabled = [(m, states) for m, states in monitors_states if m.enabled]
    if not enabled:
        return ComponentStatusVerdict(status=None, reason="no enabled monitor")
    prefix_names = len(enabled) > 1
    verdicts = [
        _monitor_verdict(m, states, now=now, stale_after_s=stale(m), prefix_name=prefix_names)
        for m, states in enabled
    ]
    # max() keeps the first of equal keys, so ties go to the monitor listed first.
    return max(verdicts, key=lambda v: -1 if v.status is None else v.status.severity)


def _monitor_verdict(
    monitor: Monitor,
    states: Sequence[RegionState],
    *,
    now: datetime,
    stale_after_s: float,
    prefix_name: bool,
) -> ComponentStatusVerdict:
    by_region: dict[str, RegionState] = {}
    for s in states:
        if s.monitor_id != monitor.id:
            raise ValueError(f"state of monitor {s.monitor_id!r} given with monitor {monitor.id!r}")
        if s.region in by_region:
            raise ValueError(f"two states for monitor {monitor.id!r} in region {s.region!r}")
        by_region[s.region] = s

    up: list[str] = []
    down: list[str] = []
    slow: list[str] = []
    silent: list[str] = []
    pending: list[str] = []
    # Only the configured regions count: a state left over from a region that
    # was removed from the monitor says nothing about the component any more.
    for region in monitor.regions:
        s = by_region.get(region)
        if s is None or s.last_at is None or (now - s.last_at).total_seconds() > stale_after_s:
            silent.append(region)
        elif s.up is None:
            pending.append(region)
        elif s.up:
            up.append(region)
            if s.slow and monitor.degraded_ms is not None:
                slow.append(region)
        else:
            down.append(region)

    status, main = _decide(monitor, up=up, down=down, slow=slow)
    details = [main]
    if silent:
        details.append(f"no recent report from {', '.join(silent)}")
    if pending:
        details.append(f"no verdict yet in {', '.join(pending)}")
    reason = "; ".join(details)
    if prefix_name:
        reason = f"{monitor.name}: {reason}"
    return ComponentStatusVerdict(
        status=status,
        reason=reason,
        monitor_id=monitor.id,
        down_regions=tuple(down),
        up_regions=tuple(up),
        slow_regions=tuple(slow),
        silent_regions=tuple(silent),
        pending_regions=tuple(pending),
    )


def _decide(
    monitor: Monitor, *, up: list[str], down: list[str], slow: list[str]
) -> tuple[ComponentStatus | None, str]:
    reporting = len(up) + len(down)
    if reporting == 0:
        return None, "no region reporting"
    of_n = f"of {reporting} reporting region{'' if reporting == 1 else 's'}"
    if down:
        # Half down is a partial outage: with two regions, one of them failing is
        # as likely the probe's network as the service. A lone reporting region
        # that is down is all we know, so it is a major outage.
        major = 2 * len(down) > reporting
        status = ComponentStatus.MAJOR_OUTAGE if major else ComponentStatus.PARTIAL_OUTAGE
        return status, f"down in {', '.join(down)} ({len(down)} {of_n})"
    if slow:
        return (
            ComponentStatus.DEGRADED_PERFORMANCE,
            f"slow in {', '.join(slow)} ({len(slow)} {of_n}, over {monitor.degraded_ms:g} ms)",
        )
    return ComponentStatus.OPERATIONAL, f"up in {', '.join(up)} ({len(up)} {of_n})"
