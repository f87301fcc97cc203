"""HTTP(S) check: one request, the status, headers and a bounded prefix of the body.

For ``https://`` targets the certificate's expiry is reported too, so one
monitor can check ``[STATUS]`` and ``[CERTIFICATE_EXPIRATION]``.

The whole check — connect, TLS, headers and body — is bounded by the monitor's
timeout, and the body is read as a stream and only up to ``max_body_bytes``:
a target answering with an endless body must cost neither memory nor time.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from signalfire.domain.probe import Monitor, MonitorKind, ProbeResult
from signalfire.probes import certificates
from signalfire.probes import kind as k
from signalfire.probes.context import ProbeContext
from signalfire.probes.failures import classify

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
DEFAULT_MAX_BODY_BYTES = 64 * 1024
# Conditions read the body; anything bigger than this belongs in a real test.
MAX_BODY_BYTES_LIMIT = 10 * 1024 * 1024

OPTIONS = {
    "method": k.Option("HTTP method: one of " + ", ".join(METHODS) + ".", "GET", k.one_of(*METHODS)),
    "headers": k.Option("Request headers, a mapping of names to strings. A `User-Agent` here "
                        "replaces Signalfire's.", {}, k.header_map),
    "body": k.Option("Request body, sent as UTF-8.", None, k.text),
    "follow_redirects": k.Option("Follow 3xx redirects (at most 20); the result is the last "
                                 "response's.", True, k.boolean),
    "verify_tls": k.Option("Check the certificate chain and host name of `https://` targets.",
                           True, k.boolean),
    "http2": k.Option("Offer HTTP/2 (ALPN) on `https://` targets; plain `http://` stays HTTP/1.1.",
                      False, k.boolean),
    "max_body_bytes": k.Option(
        "Bytes of the (decoded) body kept for conditions; the rest is not read. 0 reads none.",
        DEFAULT_MAX_BODY_BYTES, k.integer(minimum=0, maximum=MAX_BODY_BYTES_LIMIT)),
}


def validate_target(target: str) -> str | None:
    try:
        url = httpx.URL(target)
    except httpx.InvalidURL as exc:
        return f"not a URL: {exc}"
    if url.scheme not in ("http", "https"):
        return "must be an http:// or https:// URL"
    if not url.host:
        return "the URL has no host"
    return None


@dataclass(slots=True)
class _Seen:
    """What the check saw so far, kept when it fails half-way (a body that hangs)."""

    connected: bool = False
    ip: str | None = None
    certificate_expires_at: datetime | None = None
    status: int | None = None
    headers: dict[str, str] | None = None
    body: bytearray = field(default_factory=bytearray)

    async def trace(self, event: str, info: dict[str, Any]) -> None:
        # httpcore's trace hook: the only way to learn a connection was made
        # when the answer then turns out to be garbage or never comes.
        if event == "connection.connect_tcp.complete":
            self.connected = True
            self.ip = _server_ip(info.get("return_value")) or self.ip
        elif event == "connection.start_tls.complete":
            self.see_certificate(info.get("return_value"))

    def see_certificate(self, stream: Any) -> None:
        # The last connection's certificate counts (after a redirect to
        # http://, none). One that does not parse is left out: it is the TLS
        # check's business, not a reason to fail an HTTP check.
        try:
            self.certificate_expires_at = certificates.expires_at(_extra_info(stream, "ssl_object"))
        except ValueError:
            self.certificate_expires_at = None


async def run(monitor: Monitor, ctx: ProbeContext) -> ProbeResult:
    started_at = ctx.clock()
    start = ctx.monotonic()

    def result(seen: _Seen, error: str | None = None, detail: str | None = None) -> ProbeResult:
        return ProbeResult(
            started_at=started_at, duration_ms=(ctx.monotonic() - start) * 1000,
            connected=seen.connected, status=seen.status, headers=seen.headers,
            certificate_expires_at=seen.certificate_expires_at,
            body=bytes(seen.body) if seen.status is not None else None, ip=seen.ip,
            error=error, error_detail=detail)

    problems = KIND.validate_options(monitor.options)
    if problems:
        return result(_Seen(), "invalid_options", "; ".join(problems))
    problem = validate_target(monitor.target)
    if problem:
        return result(_Seen(), "invalid_target", problem)

    options = KIND.resolve_options(monitor.options)
    seen = _Seen()
    try:
        async with asyncio.timeout(monitor.timeout_s):
            await _fetch(monitor, ctx, options, seen)
    except Exception as exc:
        error, detail = classify(exc, timeout_s=monitor.timeout_s)
        if seen.status is not None:
            detail = f"{detail} (after the response headers)"
        return result(seen, error, detail)
    return result(seen)


async def _fetch(monitor: Monitor, ctx: ProbeContext, options: dict[str, Any], seen: _Seen) -> None:
    client = ctx.http_client(verify_tls=options["verify_tls"], http2=options["http2"])
    method = options["method"].upper()
    body = options["body"]
    cap = options["max_body_bytes"]
    async with client.stream(
        method, monitor.target,
        headers=options["headers"],
        content=body.encode() if body is not None else None,
        follow_redirects=options["follow_redirects"],
        # The same bound as the asyncio timeout around the check; this one
        # names the phase (connect, read) in the error it raises.
        timeout=monitor.timeout_s,
        extensions={"trace": seen.trace},
    ) as response:
        seen.connected = True
        stream = response.extensions.get("network_stream")
        if stream is not None:  # None only under a mock transport
            seen.ip = _server_ip(stream) or seen.ip
            seen.see_certificate(stream)
        seen.status = response.status_code
        seen.headers = dict(response.headers.items())  # names come lowercased
        if cap == 0 or method == "HEAD":
            return
        async with contextlib.aclosing(response.aiter_bytes()) as chunks:
            async for chunk in chunks:
                seen.body += chunk[: cap - len(seen.body)]
                if len(seen.body) >= cap:
                    # Leaving the stream unread closes the connection rather
                    # than returning it to the pool, which is what we want.
                    break


def _extra_info(stream: Any, name: str) -> Any:
    get_extra_info = getattr(stream, "get_extra_info", None)
    return get_extra_info(name) if get_extra_info else None


def _server_ip(stream: Any) -> str | None:
    address = _extra_info(stream, "server_addr")
    return str(address[0]) if address else None


KIND = k.ProbeKind(kind=MonitorKind.HTTP, run=run, options=OPTIONS, validate_target=validate_target)
