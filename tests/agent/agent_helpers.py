"""Helpers of the agent tests: observations and monitors to queue, and a queue
call that runs in the test's own thread."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from signalfire.domain.probe import ConditionResult, Monitor, MonitorKind, Observation

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def make_observation(n: int = 0, **fields: Any) -> Observation:
    fields.setdefault("id", uuid.uuid4().hex)
    fields.setdefault("monitor_id", "m1")
    fields.setdefault("region", "eu")
    fields.setdefault("at", T0 + timedelta(seconds=n))
    fields.setdefault("ok", True)
    fields.setdefault("duration_ms", 12.5)
    fields.setdefault("status", 200)
    fields.setdefault("conditions", (ConditionResult("[STATUS] == 200", True, "200"),))
    return Observation(**fields)


def make_monitor(**fields: Any) -> Monitor:
    fields.setdefault("id", "m1")
    fields.setdefault("page_id", "p1")
    fields.setdefault("component_id", "c1")
    fields.setdefault("name", "api")
    fields.setdefault("kind", MonitorKind.HTTP)
    fields.setdefault("target", "http://target.test/health")
    fields.setdefault("interval_s", 1.0)
    fields.setdefault("timeout_s", 2.0)
    fields.setdefault("regions", ("eu", "us"))
    return Monitor(**fields)


async def call_here(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The Sender's queue call, without the agent's queue thread."""
    return fn(*args, **kwargs)
