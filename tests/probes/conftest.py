"""Real servers on 127.0.0.1 for the probe tests: HTTP(S) with misbehaving
endpoints, a DNS server, and a CA made on the spot. Nothing leaves the machine."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import trustme
from dnslib import QTYPE, RCODE, RR, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from signalfire.domain.probe import Monitor, MonitorKind
from signalfire.probes import ProbeContext

TIMEOUT_S = 1.0  # every probe test's monitor timeout: short, the machine is shared


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _make_monitor(kind: MonitorKind, target: str, **fields: Any) -> Monitor:
    fields.setdefault("timeout_s", TIMEOUT_S)
    return Monitor(id="m1", page_id="p1", component_id=None, name="check", kind=kind,
                   target=target, **fields)


@pytest.fixture
def make_monitor() -> Callable[..., Monitor]:
    """``make_monitor(kind, target, **fields)``: a Monitor with a short timeout."""
    return _make_monitor


# --- TLS material ----------------------------------------------------------

@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="session")
def server_cert(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert("localhost", "127.0.0.1")


def server_ssl_context(cert: trustme.LeafCert, *, alpn: list[str] | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    if alpn:
        context.set_alpn_protocols(alpn)
    return context


@pytest.fixture
async def ctx(clock, ca_file: str) -> AsyncIterator[ProbeContext]:
    """A context that trusts the test CA, as an operator with a private CA would set it."""
    async with ProbeContext(clock=clock, ca_certs=ca_file) as context:
        yield context


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
            with contextlib.suppress(OSError, ssl.SSLError, asyncio.CancelledError):
                await asyncio.wait_for(writer.wait_closed(), 1)
            tasks.discard(task)

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0, ssl=ssl_context)
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


@pytest.fixture
async def http_server() -> AsyncIterator[str]:
    async with serve(http_handler) as server:
        yield f"http://{server.host}:{server.port}"


@pytest.fixture
async def https_server(server_cert: trustme.LeafCert) -> AsyncIterator[str]:
    async with serve(http_handler, ssl_context=server_ssl_context(server_cert)) as server:
        yield f"https://localhost:{server.port}"


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- DNS ------------------------------------------------------------------

class _ZoneResolver(BaseResolver):
    """app.test. has an A record; fail.test. answers SERVFAIL; everything else NXDOMAIN."""

    def resolve(self, request: Any, handler: Any) -> Any:
        reply = request.reply()
        name = str(request.q.qname)
        if name == "app.test." and request.q.qtype == QTYPE.A:
            reply.add_answer(RR("app.test.", QTYPE.A, rdata=A("192.0.2.10"), ttl=60))
            reply.add_answer(RR("app.test.", QTYPE.A, rdata=A("192.0.2.11"), ttl=60))
        elif name == "fail.test.":
            reply.header.rcode = RCODE.SERVFAIL
        elif name != "app.test.":
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


class _QuietLogger(DNSLogger):
    def __init__(self) -> None:
        super().__init__(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False,
                         logf=lambda _: None)


@pytest.fixture(scope="module")
def dns_server() -> Iterator[str]:
    """A real UDP nameserver on loopback (dnslib, in a thread); yields ``ip:port``."""
    server = DNSServer(_ZoneResolver(), address="127.0.0.1", port=0, logger=_QuietLogger())
    server.start_thread()
    try:
        yield "127.0.0.1:%d" % server.server.server_address[1]
    finally:
        server.stop()
        server.server.server_close()
        server.thread.join(timeout=5)


@pytest.fixture
def silent_udp_port() -> Iterator[int]:
    """A UDP port that receives queries and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
