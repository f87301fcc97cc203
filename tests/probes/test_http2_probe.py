"""HTTP/2 through the shared client: a TLS server that offers h2 and HTTP/1.1 by ALPN."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import h2.config
import h2.connection
import h2.events
import pytest
from probe_servers import OK_BODY, http_handler, serve, server_ssl_context

from signalfire.domain.probe import MonitorKind
from signalfire.probes import http

pytestmark = pytest.mark.anyio


H2_BODY = b"spoken over h2"


async def h2_or_http1(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer every HTTP/2 request with 200 and ``H2_BODY``; HTTP/1.1 goes to the usual handler."""
    if writer.get_extra_info("ssl_object").selected_alpn_protocol() != "h2":
        await http_handler(reader, writer)
        return
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    conn.initiate_connection()
    writer.write(conn.data_to_send())
    while data := await reader.read(65536):
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.RequestReceived):
                conn.send_headers(event.stream_id, [(":status", "200"),
                                                    ("content-length", str(len(H2_BODY)))])
                conn.send_data(event.stream_id, H2_BODY, end_stream=True)
            elif isinstance(event, h2.events.ConnectionTerminated):
                return
        writer.write(conn.data_to_send())
        await writer.drain()


@pytest.fixture
async def h2_server(server_cert) -> AsyncIterator[str]:
    context = server_ssl_context(server_cert, alpn=["h2", "http/1.1"])
    async with serve(h2_or_http1, ssl_context=context) as server:
        yield f"https://localhost:{server.port}"


async def test_http2_true_speaks_http2(ctx, make_monitor, h2_server):
    monitor = make_monitor(MonitorKind.HTTP, f"{h2_server}/ok", options={"http2": True})

    result = await http.run(monitor, ctx)

    assert (result.error, result.status, result.body) == (None, 200, H2_BODY)


async def test_http2_is_off_by_default(ctx, make_monitor, h2_server):
    result = await http.run(make_monitor(MonitorKind.HTTP, f"{h2_server}/ok"), ctx)

    assert (result.error, result.status, result.body) == (None, 200, OK_BODY)
