"""The HTTP probe against a loopback server that misbehaves in every way we know."""

from __future__ import annotations

import json
import time
import tracemalloc
from datetime import UTC, datetime

import pytest
from probe_servers import http_handler, serve, server_ssl_context

from signalfire.domain.probe import MonitorKind
from signalfire.probes import ProbeContext, http

pytestmark = pytest.mark.anyio


async def probe(ctx, make_monitor, url, **options):
    return await http.run(make_monitor(MonitorKind.HTTP, url, options=options), ctx)


async def test_it_reads_status_headers_body_and_ip(ctx, clock, make_monitor, http_server):
    result = await probe(ctx, make_monitor, f"{http_server}/ok")

    assert result.error is None, result.error_detail
    assert result.connected
    assert result.status == 200
    assert result.body == b'{"status": "UP"}'
    assert result.headers["x-probe-test"] == "yes"
    assert result.headers["content-type"] == "application/json"
    assert result.ip == "127.0.0.1"
    assert result.started_at == clock.now
    assert 0 < result.duration_ms < 1000


async def test_a_server_error_is_a_status_not_an_error(ctx, make_monitor, http_server):
    result = await probe(ctx, make_monitor, f"{http_server}/error")

    assert (result.error, result.status, result.body) == (None, 500, b"oops")


async def test_it_sends_method_headers_and_body(ctx, make_monitor, http_server):
    result = await probe(ctx, make_monitor, f"{http_server}/echo", method="post",
                         headers={"X-Token": "abc", "User-Agent": "custom"}, body="héllo")

    seen = json.loads(result.body)
    assert seen["method"] == "POST"
    assert seen["body"] == "héllo"
    assert seen["headers"]["x-token"] == "abc"
    assert seen["headers"]["user-agent"] == "custom"


async def test_it_identifies_itself_by_default(ctx, make_monitor, http_server):
    result = await probe(ctx, make_monitor, f"{http_server}/echo")

    assert json.loads(result.body)["headers"]["user-agent"].startswith("Signalfire/")


async def test_it_follows_redirects_by_default(ctx, make_monitor, http_server):
    result = await probe(ctx, make_monitor, f"{http_server}/redirect")

    assert (result.status, result.body) == (200, b'{"status": "UP"}')


async def test_it_reports_the_redirect_when_told_not_to_follow(ctx, make_monitor, http_server):
    result = await probe(ctx, make_monitor, f"{http_server}/redirect", follow_redirects=False)

    assert result.status == 302
    assert result.headers["location"] == "/ok"


async def test_a_redirect_loop_is_an_error(ctx, make_monitor, http_server):
    result = await probe(ctx, make_monitor, f"{http_server}/loop")

    assert result.error == "too_many_redirects"


async def test_a_slow_server_times_out_within_the_timeout(ctx, make_monitor, http_server):
    start = time.monotonic()
    result = await probe(ctx, make_monitor, f"{http_server}/slow")
    elapsed = time.monotonic() - start

    assert result.error == "timeout"
    assert result.connected
    assert result.status is None
    assert "1 s" in result.error_detail
    assert 0.9 < elapsed < 2.0


async def test_a_body_that_hangs_times_out_and_keeps_the_status(ctx, make_monitor, http_server):
    start = time.monotonic()
    result = await probe(ctx, make_monitor, f"{http_server}/hang-after-headers")

    assert result.error == "timeout"
    assert "after the response headers" in result.error_detail
    assert result.status == 200
    assert result.body == b"partial"
    assert time.monotonic() - start < 2.0


async def test_a_reset_connection_is_connection_reset(ctx, make_monitor, http_server):
    result = await probe(ctx, make_monitor, f"{http_server}/reset")

    assert result.error == "connection_reset", result.error_detail
    assert result.connected


async def test_garbage_is_an_invalid_response(ctx, make_monitor, http_server):
    result = await probe(ctx, make_monitor, f"{http_server}/garbage")

    assert result.error == "invalid_response", result.error_detail
    assert result.connected
    assert result.status is None


async def test_an_endless_body_is_cut_at_max_body_bytes(ctx, make_monitor, http_server):
    tracemalloc.start()
    try:
        start = time.monotonic()
        result = await probe(ctx, make_monitor, f"{http_server}/huge", max_body_bytes=100_000)
        elapsed = time.monotonic() - start
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.error is None
    assert result.status == 200
    assert result.body == b"x" * 100_000
    assert elapsed < 1.0  # well inside the timeout: it stopped reading
    # The server would send forever; what the probe held stayed near the cap.
    assert peak_bytes < 5_000_000


async def test_the_default_cap_is_64_kib(ctx, make_monitor, http_server):
    result = await probe(ctx, make_monitor, f"{http_server}/huge")

    assert len(result.body) == 64 * 1024


async def test_max_body_bytes_zero_reads_no_body(ctx, make_monitor, http_server):
    result = await probe(ctx, make_monitor, f"{http_server}/ok", max_body_bytes=0)

    assert (result.status, result.body) == (200, b"")


async def test_a_closed_port_is_connection_refused(ctx, make_monitor, closed_port):
    result = await probe(ctx, make_monitor, f"http://127.0.0.1:{closed_port}/")

    assert result.error == "connection_refused", result.error_detail
    assert not result.connected
    assert result.status is None and result.body is None


async def test_https_with_a_trusted_certificate(ctx, make_monitor, https_server):
    result = await probe(ctx, make_monitor, f"{https_server}/ok")

    assert (result.error, result.status) == (None, 200)


async def test_https_reports_when_the_certificate_expires(ctx, make_monitor, ca):
    expires_at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    cert = ca.issue_cert("localhost", not_after=expires_at)
    async with serve(http_handler, ssl_context=server_ssl_context(cert)) as server:
        result = await probe(ctx, make_monitor, f"https://localhost:{server.port}/redirect")

    assert (result.error, result.status) == (None, 200)
    assert result.certificate_expires_at == expires_at


async def test_plain_http_has_no_certificate(ctx, make_monitor, http_server):
    result = await probe(ctx, make_monitor, f"{http_server}/ok")

    assert result.certificate_expires_at is None


async def test_https_with_an_untrusted_certificate_is_a_tls_error(clock, make_monitor, https_server):
    async with ProbeContext(clock=clock) as default_trust:  # certifi: the test CA is unknown
        result = await probe(default_trust, make_monitor, f"{https_server}/ok")

    assert result.error == "tls_error", result.error_detail
    assert "certificate" in result.error_detail
    assert result.connected


async def test_verify_tls_false_accepts_an_untrusted_certificate(clock, make_monitor, https_server):
    async with ProbeContext(clock=clock) as default_trust:
        result = await probe(default_trust, make_monitor, f"{https_server}/ok", verify_tls=False)

    assert (result.error, result.status) == (None, 200)


async def test_clients_are_made_once_per_setting_and_reused(ctx, make_monitor, http_server):
    await probe(ctx, make_monitor, f"{http_server}/ok")
    first = ctx.http_client(verify_tls=True, http2=False)
    await probe(ctx, make_monitor, f"{http_server}/ok")

    assert ctx.http_client(verify_tls=True, http2=False) is first
    assert ctx.http_client(verify_tls=True, http2=True) is not first
    assert ctx.http_client(verify_tls=False, http2=False) is not first


async def test_a_bad_target_is_invalid_target_without_a_request(ctx, make_monitor):
    result = await probe(ctx, make_monitor, "ftp://example.com/file")

    assert result.error == "invalid_target"
    assert not result.connected


async def test_bad_options_at_run_time_are_reported_not_raised(ctx, make_monitor, http_server):
    result = await probe(ctx, make_monitor, f"{http_server}/ok", methd="GET")

    assert result.error == "invalid_options"
    assert "options.methd" in result.error_detail


async def test_a_mock_transport_replaces_the_network(clock, make_monitor):
    import httpx

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "5"}, content=b"down")

    async with ProbeContext(clock=clock, http_transport=httpx.MockTransport(answer)) as mocked:
        result = await probe(mocked, make_monitor, "https://example.com/health")

    assert (result.status, result.body, result.headers["retry-after"]) == (503, b"down", "5")
    assert result.ip is None
