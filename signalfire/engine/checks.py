"""One check: run a monitor's probe, judge the result by its conditions, make the
Observation. Shared by the server (region ``local``) and every agent."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from signalfire.domain.conditions import Condition, evaluate_all, parse_condition
from signalfire.domain.probe import Monitor, Observation, ProbeResult
from signalfire.probes import PROBES, ProbeContext


class Checker:
    """Runs checks; parses each monitor's conditions once and keeps them."""

    def __init__(self, ctx: ProbeContext, *, region: str) -> None:
        self.ctx = ctx
        self.region = region
        self._parsed: dict[tuple[str, tuple[str, ...]], Sequence[Condition]] = {}

    def conditions(self, monitor: Monitor) -> Sequence[Condition]:
        key = (monitor.id, monitor.conditions)
        parsed = self._parsed.get(key)
        if parsed is None:
            parsed = self._parsed[key] = [parse_condition(c) for c in monitor.conditions]
        return parsed

    async def check(self, monitor: Monitor) -> Observation:
        result = await PROBES[monitor.kind].run(monitor, self.ctx)
        return self.judge(monitor, result)

    def judge(self, monitor: Monitor, result: ProbeResult) -> Observation:
        # With conditions, they alone decide (`[CONNECTED] == false` watches a port
        # that must stay closed); without, the kind's default judgement does.
        ok, results = evaluate_all(self.conditions(monitor), result, now=self.ctx.clock())
        return Observation(
            id=uuid.uuid4().hex, monitor_id=monitor.id, region=self.region,
            at=result.started_at, ok=ok, duration_ms=round(result.duration_ms, 3),
            error=result.error, error_detail=result.error_detail, status=result.status,
            conditions=tuple(results))
