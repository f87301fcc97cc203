"""Real servers on 127.0.0.1 for the probe tests: HTTP(S) with misbehaving
endpoints, a DNS server, and a CA made on the spot. Nothing leaves the machine."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import trustme
from dnslib import QTYPE, RCODE, RR, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer
from probe_servers import http_handler, serve, server_ssl_context

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


@pytest.fixture
async def ctx(clock, ca_file: str) -> AsyncIterator[ProbeContext]:
    """A context that trusts the test CA, as an operator with a private CA would set it."""
    async with ProbeContext(clock=clock, ca_certs=ca_file) as context:
        yield context


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
        yield f"127.0.0.1:{server.server.server_address[1]}"
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
