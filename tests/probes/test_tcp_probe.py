"""The TCP probe against a loopback listener and a closed port."""

from __future__ import annotations

import asyncio

import pytest
from probe_servers import serve

from signalfire.domain.probe import MonitorKind
from signalfire.probes import tcp

pytestmark = pytest.mark.anyio


async def test_an_open_port_is_connected(ctx, clock, make_monitor):
    accepted = asyncio.Event()

    async def accept(reader, writer):
        accepted.set()
        await reader.read()  # until the probe closes

    async with serve(accept) as server:
        result = await tcp.run(make_monitor(MonitorKind.TCP, f"127.0.0.1:{server.port}"), ctx)
        await asyncio.wait_for(accepted.wait(), 1)

    assert result.error is None
    assert result.connected
    assert result.ip == "127.0.0.1"
    assert result.started_at == clock.now
    assert result.duration_ms >= 0


async def test_a_closed_port_is_connection_refused(ctx, make_monitor, closed_port):
    result = await tcp.run(make_monitor(MonitorKind.TCP, f"127.0.0.1:{closed_port}"), ctx)

    assert result.error == "connection_refused"
    assert result.error_detail == "connection refused"
    assert not result.connected


async def test_a_target_without_a_port_is_invalid(ctx, make_monitor):
    result = await tcp.run(make_monitor(MonitorKind.TCP, "127.0.0.1"), ctx)

    assert result.error == "invalid_target"
    assert "host:port" in result.error_detail
