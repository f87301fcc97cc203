"""TLS check: handshake with ``host:port`` and read when the certificate expires.

With ``verify: true`` (default) an untrusted, expired or misnamed certificate is
a ``tls_error``. With ``verify: false`` the handshake accepts any certificate
and the expiry is still reported, so conditions such as
``[CERTIFICATE_EXPIRATION] > 72h`` work for self-signed endpoints too.
"""

from __future__ import annotations

import asyncio

from signalfire.domain.probe import Monitor, MonitorKind, ProbeResult
from signalfire.probes import certificates
from signalfire.probes import kind as k
from signalfire.probes.connection import (
    close_quietly,
    host_problem,
    split_host_port,
    validate_host_port,
)
from signalfire.probes.context import ProbeContext
from signalfire.probes.failures import classify

DEFAULT_PORT = 443
# How long closing may take once the check is decided; it is not measured.
CLOSE_TIMEOUT_S = 1.0

OPTIONS = {
    "verify": k.Option("Check the certificate chain and that it names the host.", True, k.boolean),
    "server_name": k.Option("Host name sent as SNI and checked against the certificate "
                            "(for a target given as an IP address).", None,
                            lambda value: k.text(value) or host_problem(value)),
}


def validate_target(target: str) -> str | None:
    return validate_host_port(target, default_port=DEFAULT_PORT)


async def run(monitor: Monitor, ctx: ProbeContext) -> ProbeResult:
    started_at = ctx.clock()
    start = ctx.monotonic()

    def failed(error: str, detail: str, *, connected: bool = False) -> ProbeResult:
        return ProbeResult(started_at=started_at, duration_ms=(ctx.monotonic() - start) * 1000,
                           connected=connected, error=error, error_detail=detail)

    problems = KIND.validate_options(monitor.options)
    if problems:
        return failed("invalid_options", "; ".join(problems))
    problem = validate_target(monitor.target)
    if problem:
        return failed("invalid_target", problem)
    options = KIND.resolve_options(monitor.options)
    host, port = split_host_port(monitor.target, default_port=DEFAULT_PORT)
    try:
        async with asyncio.timeout(monitor.timeout_s):
            _, writer = await asyncio.open_connection(
                host, port, ssl=ctx.tls_context(verify=options["verify"]),
                server_hostname=options["server_name"] or host,
                ssl_shutdown_timeout=CLOSE_TIMEOUT_S)
    except Exception as exc:
        error, detail = classify(exc, timeout_s=monitor.timeout_s)
        # A handshake only fails once TCP has connected.
        return failed(error, detail, connected=error == "tls_error")
    duration_ms = (ctx.monotonic() - start) * 1000
    try:
        peer = writer.get_extra_info("peername")
        try:
            expires_at = certificates.expires_at(writer.get_extra_info("ssl_object"))
        except ValueError as exc:
            return failed("tls_error", f"unreadable certificate: {exc}", connected=True)
        if expires_at is None:
            return failed("tls_error", "the server sent no certificate", connected=True)
    finally:
        await close_quietly(writer, timeout_s=CLOSE_TIMEOUT_S)
    return ProbeResult(started_at=started_at, duration_ms=duration_ms, connected=True,
                       ip=str(peer[0]) if peer else None, certificate_expires_at=expires_at)


KIND = k.ProbeKind(kind=MonitorKind.TLS, run=run, options=OPTIONS, validate_target=validate_target)
