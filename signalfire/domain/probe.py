"""Synthetic monitoring vocabulary: monitors, what one run of a probe saw, and the
observation stored for it. A target being down is data here, never an exception."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class MonitorKind(StrEnum):
    HTTP = "http"
    TCP = "tcp"
    DNS = "dns"
    TLS = "tls"
    HEARTBEAT = "heartbeat"


LOCAL_REGION = "local"


@dataclass(frozen=True, slots=True)
class Monitor:
    """A check of one component, run every ``interval_s`` in each of ``regions``.

    ``target`` is a URL (http), ``host:port`` (tcp, tls), or a name (dns);
    heartbeat monitors have none: the service calls them. ``options`` holds the
    kind's own settings (method, headers, body, record type, grace…).
    """

    id: str
    page_id: str
    component_id: str | None
    name: str
    kind: MonitorKind
    target: str = ""
    interval_s: float = 60.0
    timeout_s: float = 10.0
    regions: tuple[str, ...] = (LOCAL_REGION,)
    conditions: tuple[str, ...] = ()
    failure_threshold: int = 3
    success_threshold: int = 2
    degraded_ms: float | None = None
    options: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What one run of a probe saw, before any condition is applied.

    Every field a condition placeholder can read is here; what a probe kind
    does not measure stays None. ``error`` is set when the target could not be
    reached or answered nonsense (``timeout``, ``connection_refused``,
    ``dns_failure``, ``tls_error``, ``body_too_large``…).
    """

    started_at: datetime
    duration_ms: float
    connected: bool = False
    status: int | None = None
    body: bytes | None = None
    headers: dict[str, str] | None = None
    ip: str | None = None
    certificate_expires_at: datetime | None = None
    dns_rcode: str | None = None
    dns_answers: tuple[str, ...] = ()
    error: str | None = None
    error_detail: str | None = None


@dataclass(frozen=True, slots=True)
class ConditionResult:
    condition: str
    ok: bool
    # What the left side was (shortened), so a person sees why it failed.
    actual: str = ""


@dataclass(frozen=True, slots=True)
class Observation:
    """One result of one monitor run in one region, as stored.

    ``id`` is made where the probe ran, so a batch sent twice is stored once;
    ``at`` is the prober's clock, ``received_at`` the server's.
    """

    id: str
    monitor_id: str
    region: str
    at: datetime
    ok: bool
    duration_ms: float
    error: str | None = None
    error_detail: str | None = None
    status: int | None = None
    conditions: tuple[ConditionResult, ...] = ()
    received_at: datetime | None = None
