"""Probes: the I/O edge that checks targets. One module per kind, one line each here.

Each kind's ``run(monitor, ctx)`` returns a ``ProbeResult`` and never raises
for a target's problems: a target down is data, with ``error`` set to a stable
kind (see ``signalfire.probes.failures``). ``validate_options`` and
``validate_target`` let config loading reject a bad monitor up front.
"""

from __future__ import annotations

from signalfire.domain.probe import MonitorKind
from signalfire.probes import dns, heartbeat, http, tcp, tls
from signalfire.probes.context import ProbeContext
from signalfire.probes.kind import Option, ProbeKind

PROBES: dict[MonitorKind, ProbeKind] = {
    MonitorKind.HTTP: http.KIND,
    MonitorKind.TCP: tcp.KIND,
    MonitorKind.DNS: dns.KIND,
    MonitorKind.TLS: tls.KIND,
    MonitorKind.HEARTBEAT: heartbeat.KIND,
}

__all__ = ["PROBES", "Option", "ProbeContext", "ProbeKind"]
