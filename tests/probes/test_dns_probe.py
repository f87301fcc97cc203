"""The DNS probe against a real UDP nameserver on loopback (dnslib)."""

from __future__ import annotations

import time

import pytest

from signalfire.domain.probe import MonitorKind
from signalfire.probes import dns

pytestmark = pytest.mark.anyio


async def lookup(ctx, make_monitor, name, **options):
    return await dns.run(make_monitor(MonitorKind.DNS, name, options=options), ctx)


async def test_it_reads_a_records(ctx, clock, make_monitor, dns_server):
    result = await lookup(ctx, make_monitor, "app.test", resolver=dns_server)

    assert result.error is None, result.error_detail
    assert result.connected
    assert result.dns_rcode == "NOERROR"
    assert result.dns_answers == ("192.0.2.10", "192.0.2.11")
    assert result.started_at == clock.now


async def test_nxdomain_is_a_result_not_an_error(ctx, make_monitor, dns_server):
    result = await lookup(ctx, make_monitor, "missing.test", resolver=dns_server)

    assert result.error is None
    assert result.dns_rcode == "NXDOMAIN"
    assert result.dns_answers == ()


async def test_servfail_is_a_result_not_an_error(ctx, make_monitor, dns_server):
    result = await lookup(ctx, make_monitor, "fail.test", resolver=dns_server)

    assert (result.error, result.dns_rcode) == (None, "SERVFAIL")


async def test_no_record_of_the_type_is_noerror_without_answers(ctx, make_monitor, dns_server):
    result = await lookup(ctx, make_monitor, "app.test", resolver=dns_server, record_type="aaaa")

    assert (result.error, result.dns_rcode, result.dns_answers) == (None, "NOERROR", ())


async def test_a_silent_nameserver_times_out(ctx, make_monitor, silent_udp_port):
    start = time.monotonic()
    result = await dns.run(make_monitor(MonitorKind.DNS, "app.test", timeout_s=0.3,
                                        options={"resolver": f"127.0.0.1:{silent_udp_port}"}), ctx)

    assert result.error == "timeout"
    assert not result.connected
    assert result.dns_rcode is None
    assert time.monotonic() - start < 1.0


async def test_an_invalid_name_is_invalid_target(ctx, make_monitor):
    result = await lookup(ctx, make_monitor, "bad name.test", resolver="127.0.0.1")

    assert result.error == "invalid_target"
