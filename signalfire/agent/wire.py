"""The JSON an agent and the server exchange: monitors in, observations out.

The server validates what it is sent (``ObservationIn`` in
``signalfire.web.monitors_api``) and refuses a whole batch for one field too
long; an observation that cannot ever be accepted would sit at the head of the
queue forever. So the limits are applied here, once, before an observation is
queued.
"""

from __future__ import annotations

from typing import Any

from signalfire.domain.probe import Monitor, MonitorKind, Observation

# The server's limits on one observation (ObservationIn).
MAX_ERROR_CHARS = 64
MAX_ERROR_DETAIL_CHARS = 2000
MAX_CONDITIONS = 50
MAX_DURATION_MS = 3_600_000.0


def _clip(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def observation_to_wire(o: Observation) -> dict[str, Any]:
    """The body of one observation in ``POST /api/v1/agent/observations``.

    No region: the server takes it from the agent's token.
    """
    if o.at.tzinfo is None:
        raise ValueError(f"observation {o.id}: 'at' must be timezone-aware")
    return {
        "id": o.id,
        "monitor_id": o.monitor_id,
        "at": o.at.isoformat(),
        "ok": o.ok,
        "duration_ms": min(max(o.duration_ms, 0.0), MAX_DURATION_MS),
        "status": o.status,
        "error": _clip(o.error, MAX_ERROR_CHARS),
        "error_detail": _clip(o.error_detail, MAX_ERROR_DETAIL_CHARS),
        "conditions": [{"condition": c.condition, "ok": c.ok, "actual": c.actual}
                       for c in o.conditions[:MAX_CONDITIONS]],
    }


def monitor_from_wire(doc: dict[str, Any]) -> Monitor:
    """A monitor as ``GET /api/v1/agent/monitors`` lists it (``MonitorOut``).

    Raises KeyError or ValueError (an unknown kind from a newer server, say).
    """
    return Monitor(
        id=str(doc["id"]), page_id=str(doc["page_id"]), component_id=doc.get("component_id"),
        name=str(doc["name"]), kind=MonitorKind(doc["kind"]), target=str(doc.get("target") or ""),
        interval_s=float(doc["interval_s"]), timeout_s=float(doc["timeout_s"]),
        regions=tuple(doc.get("regions") or ()), conditions=tuple(doc.get("conditions") or ()),
        failure_threshold=int(doc.get("failure_threshold", 3)),
        success_threshold=int(doc.get("success_threshold", 2)),
        degraded_ms=doc.get("degraded_ms"), options=dict(doc.get("options") or {}),
        enabled=bool(doc.get("enabled", True)))


def monitor_to_wire(m: Monitor) -> dict[str, Any]:
    """The inverse of ``monitor_from_wire``: how the agent keeps its last list on disk."""
    return {
        "id": m.id, "page_id": m.page_id, "component_id": m.component_id, "name": m.name,
        "kind": m.kind.value, "target": m.target, "interval_s": m.interval_s,
        "timeout_s": m.timeout_s, "regions": list(m.regions), "conditions": list(m.conditions),
        "failure_threshold": m.failure_threshold, "success_threshold": m.success_threshold,
        "degraded_ms": m.degraded_ms, "options": m.options, "enabled": m.enabled,
    }
