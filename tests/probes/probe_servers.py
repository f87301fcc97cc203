"""Loopback servers for the probe tests, by hand so they can misbehave on purpose.

Used by this folder's conftest and by tests that need a server of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import trustme


def server_ssl_context(cert: trustme.LeafCert, *, alpn: list[str] | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    if alpn:
        context.set_alpn_protocols(alpn)
    return context


# --- a loopback server that owns its connection tasks ------------------------

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class LoopbackServer:
    host: str
    port: int
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


@contextlib.asynccontextmanager
async def serve(handler: Handler, *, ssl_context: ssl.SSLContext | None = None,
                ) -> AsyncIterator[LoopbackServer]:
    """Serve ``handler`` on 127.0.0.1; on exit, cancel the connections still open.

    A slow or endless endpoint outlives the probe that gave up on it, and a
    handler left pending would be destroyed with the loop, which warns.
    """
    tasks: set[asyncio.Task[None]] = set()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            if ssl_context is not None:
                # The handshake here rather than in start_server: a client that
                # rejects our certificate (as some tests want) is then a handled
                # error of this connection, not a loop-level error in debug mode.
                try:
                    await writer.start_tls(ssl_context)
                except (OSError, ssl.SSLError):
                    # The stream's protocol was swapped for the TLS one, so
                    # wait_closed() would never return: just drop the socket.
                    writer.transport.abort()
                    return
            await handler(reader, writer)
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError):
            pass  # the probe hung up: that is its right
        except asyncio.CancelledError:
            # Cancelled by serve()'s exit; finishing quietly keeps asyncio from
            # logging the cancellation as an error of the connection callback.
            pass
        finally:
            if not writer.is_closing():
                writer.close()
                with contextlib.suppress(OSError, ssl.SSLError, asyncio.CancelledError,
                                         TimeoutError):
                    await asyncio.wait_for(writer.wait_closed(), 1)
            tasks.discard(task)

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield LoopbackServer("127.0.0.1", port, tasks)
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


# --- HTTP/1.1 by hand, to misbehave on purpose -------------------------------

OK_BODY = b'{"status": "UP"}'


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes]:
    method, path, _ = (await reader.readline()).decode().split(" ", 2)
    headers = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return method, path, headers, body


def _head(status: str, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode()


async def http_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    method, path, headers, body = await _read_request(reader)
    close = {"Connection": "close"}
    if path == "/ok":
        writer.write(_head("200 OK", {"Content-Type": "application/json", "X-Probe-Test": "yes",
                                      "Content-Length": str(len(OK_BODY)), **close}) + OK_BODY)
    elif path == "/error":
        writer.write(_head("500 Internal Server Error", {"Content-Length": "4", **close}) + b"oops")
    elif path == "/echo":
        doc = json.dumps({"method": method, "headers": headers, "body": body.decode()}).encode()
        writer.write(_head("200 OK", {"Content-Length": str(len(doc)), **close}) + doc)
    elif path == "/redirect":
        writer.write(_head("302 Found", {"Location": "/ok", "Content-Length": "0", **close}))
    elif path == "/loop":
        writer.write(_head("302 Found", {"Location": "/loop", "Content-Length": "0", **close}))
    elif path == "/slow":
        await asyncio.sleep(30)  # past every timeout; cancelled when the test ends
        writer.write(_head("200 OK", {"Content-Length": "0", **close}))
    elif path == "/hang-after-headers":
        writer.write(_head("200 OK", {"Content-Length": "1000", **close}) + b"partial")
        await writer.drain()
        await asyncio.sleep(30)
    elif path == "/reset":
        # SO_LINGER 0 makes close() send RST instead of FIN.
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
        return
    elif path == "/garbage":
        writer.write(b"\x00\x17 this is not HTTP at all \xff\xfe\r\n\r\n")
    elif path == "/huge":
        # An endless body: the probe must stop reading at its cap.
        writer.write(_head("200 OK", {"Content-Type": "application/octet-stream", **close}))
        chunk = b"x" * 65536
        while True:
            writer.write(chunk)
            await writer.drain()
    else:
        writer.write(_head("404 Not Found", {"Content-Length": "0", **close}))
    await writer.drain()
