"""The TLS probe against a loopback TLS server with certificates from a test CA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from probe_servers import serve, server_ssl_context

from signalfire.domain.probe import MonitorKind
from signalfire.probes import ProbeContext, tls

pytestmark = pytest.mark.anyio

EXPIRES_AT = datetime(2031, 5, 4, 3, 2, 1, tzinfo=UTC)


async def idle(reader, writer):
    await reader.read()  # until the probe closes


async def tls_check(ctx, make_monitor, cert, **options):
    async with serve(idle, ssl_context=server_ssl_context(cert)) as server:
        monitor = make_monitor(MonitorKind.TLS, f"localhost:{server.port}", options=options)
        return await tls.run(monitor, ctx)


async def test_it_reads_when_the_certificate_expires(ctx, clock, make_monitor, ca):
    cert = ca.issue_cert("localhost", not_after=EXPIRES_AT)

    result = await tls_check(ctx, make_monitor, cert)

    assert result.error is None, result.error_detail
    assert result.connected
    assert result.certificate_expires_at == EXPIRES_AT
    assert result.certificate_expires_at.tzinfo is not None
    assert result.ip == "127.0.0.1"
    assert result.started_at == clock.now


async def test_an_untrusted_certificate_is_a_tls_error(clock, make_monitor, server_cert):
    async with ProbeContext(clock=clock) as default_trust:  # certifi does not know the test CA
        result = await tls_check(default_trust, make_monitor, server_cert)

    assert result.error == "tls_error"
    assert "unable to get local issuer certificate" in result.error_detail
    assert result.connected  # TCP was up; the handshake failed
    assert result.certificate_expires_at is None


async def test_an_expired_certificate_is_a_tls_error(ctx, make_monitor, ca):
    expired = ca.issue_cert("localhost", not_before=datetime.now(UTC) - timedelta(days=30),
                            not_after=datetime.now(UTC) - timedelta(days=1))

    result = await tls_check(ctx, make_monitor, expired)

    assert result.error == "tls_error"
    assert "expired" in result.error_detail


async def test_a_certificate_for_another_name_is_a_tls_error(ctx, make_monitor, ca):
    other = ca.issue_cert("other.example")

    result = await tls_check(ctx, make_monitor, other)

    assert result.error == "tls_error"
    assert "mismatch" in result.error_detail or "match" in result.error_detail


async def test_verify_false_still_reports_the_expiry_of_an_expired_certificate(clock, make_monitor, ca):
    ended = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    expired = ca.issue_cert("localhost", not_before=ended - timedelta(days=90), not_after=ended)

    async with ProbeContext(clock=clock) as default_trust:
        result = await tls_check(default_trust, make_monitor, expired, verify=False)

    assert result.error is None, result.error_detail
    assert result.connected
    assert result.certificate_expires_at == ended


async def test_server_name_checks_an_ip_target_against_a_name(ctx, make_monitor, ca):
    cert = ca.issue_cert("status.internal")
    async with serve(idle, ssl_context=server_ssl_context(cert)) as server:
        monitor = make_monitor(MonitorKind.TLS, f"127.0.0.1:{server.port}",
                               options={"server_name": "status.internal"})
        result = await tls.run(monitor, ctx)

    assert result.error is None, result.error_detail


async def test_a_plain_tcp_server_is_a_tls_error_not_a_hang(ctx, make_monitor):
    async def not_tls(reader, writer):
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    async with serve(not_tls) as server:
        result = await tls.run(make_monitor(MonitorKind.TLS, f"127.0.0.1:{server.port}"), ctx)

    assert result.error == "tls_error", result.error_detail


async def test_a_closed_port_is_connection_refused(ctx, make_monitor, closed_port):
    result = await tls.run(make_monitor(MonitorKind.TLS, f"127.0.0.1:{closed_port}"), ctx)

    assert result.error == "connection_refused"


async def test_a_server_that_never_answers_the_handshake_times_out(ctx, make_monitor):
    async with serve(idle) as server:  # plain TCP: the ClientHello gets no answer
        result = await tls.run(make_monitor(MonitorKind.TLS, f"127.0.0.1:{server.port}",
                                            timeout_s=0.3), ctx)

    assert result.error == "timeout"
