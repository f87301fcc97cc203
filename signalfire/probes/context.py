"""What every probe run shares: HTTP clients, TLS settings, nameservers and the clocks.

One ``ProbeContext`` lives as long as the process that runs probes. Building
an ``httpx.AsyncClient`` (and its SSL context, which loads the CA bundle)
takes milliseconds, which at 10,000 monitors a minute is the whole CPU, so
clients are made lazily, one per (verify_tls, http2) pair, and reused.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from datetime import datetime
from http.cookiejar import CookieJar, CookiePolicy
from types import TracebackType
from typing import Any

import certifi
import dns.resolver
import httpx

from signalfire import __version__

# The engine's Clock, restated here: probes sit below the engine and must not import it.
Clock = Callable[[], datetime]

DEFAULT_USER_AGENT = f"Signalfire/{__version__} (uptime probe)"


class _RefuseCookies(CookiePolicy):
    """Clients are shared by every monitor: a cookie one target sets must not
    reach the next check (or another monitor of the same site)."""

    netscape = True
    rfc2965 = False
    hide_cookie2 = True

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def return_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def domain_return_ok(self, domain: str, request: Any) -> bool:
        return False

    def path_return_ok(self, path: str, request: Any) -> bool:
        return False


class ProbeContext:
    """Shared resources for probe runs; ``await close()`` (or ``async with``) when done.

    ``clock`` returns the aware UTC time a run started (``ProbeResult.started_at``);
    ``monotonic`` measures durations.

    ``ca_certs`` is a PEM file of the certificate authorities trusted when a
    check verifies TLS (default: certifi's bundle, as httpx uses); operators of
    private CAs set it. ``http_transport`` replaces the network for every HTTP
    client (an ``httpx.MockTransport`` in tests of code that runs probes).
    ``max_keepalive_connections`` above 0 lets checks reuse connections (then
    a check's duration may leave out connect and TLS); 0 opens one per check.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        monotonic: Callable[[], float] = time.monotonic,
        ca_certs: str | None = None,
        http_transport: httpx.AsyncBaseTransport | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        max_keepalive_connections: int = 0,
    ) -> None:
        self.clock = clock
        self.monotonic = monotonic
        self.user_agent = user_agent
        self._ca_certs = ca_certs
        self._http_transport = http_transport
        self._max_keepalive_connections = max_keepalive_connections
        self._clients: dict[tuple[bool, bool], httpx.AsyncClient] = {}
        self._tls_contexts: dict[bool, ssl.SSLContext] = {}
        self._nameservers: tuple[tuple[str, int], ...] | None = None
        self._closed = False

    def http_client(self, *, verify_tls: bool, http2: bool) -> httpx.AsyncClient:
        if self._closed:
            raise RuntimeError("ProbeContext is closed")
        key = (verify_tls, http2)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = self._new_http_client(verify_tls=verify_tls, http2=http2)
        return client

    def _new_http_client(self, *, verify_tls: bool, http2: bool) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            # A context of its own: httpcore sets the ALPN protocols on the
            # context it is given, so an HTTP/2 client and an HTTP/1.1-only
            # client sharing one would overwrite each other.
            verify=self.new_ssl_context(verify=verify_tls),
            http2=http2,
            transport=self._http_transport,
            # No connection cap: the scheduler bounds concurrency, and a check
            # queued behind a full pool would be charged the wait as latency.
            # No keep-alive by default: each check opens its own connection,
            # so its duration includes connect and TLS as a new visitor's
            # would, and a pooled connection the server dropped meanwhile
            # cannot fail a check that has nothing to do with it.
            limits=httpx.Limits(max_connections=None,
                                max_keepalive_connections=self._max_keepalive_connections,
                                keepalive_expiry=5.0),
            # Proxies, netrc credentials and SSL_CERT_FILE from the environment
            # would make a check measure something other than its target.
            trust_env=False,
            cookies=CookieJar(policy=_RefuseCookies()),
            headers={"User-Agent": self.user_agent},
        )

    def new_ssl_context(self, *, verify: bool) -> ssl.SSLContext:
        """A fresh client SSL context that trusts ``ca_certs`` (or checks nothing)."""
        context = ssl.create_default_context(cafile=self._ca_certs or certifi.where())
        if not verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def tls_context(self, *, verify: bool) -> ssl.SSLContext:
        """A shared client SSL context for raw TLS checks (no ALPN is set on it)."""
        context = self._tls_contexts.get(verify)
        if context is None:
            context = self._tls_contexts[verify] = self.new_ssl_context(verify=verify)
        return context

    def system_nameservers(self) -> tuple[tuple[str, int], ...]:
        """The host's resolvers as (ip, port), read once from the system configuration.

        Raises ``dns.resolver.NoResolverConfiguration`` when there is none.
        """
        if self._nameservers is None:
            resolver = dns.resolver.Resolver()
            self._nameservers = tuple(
                (ip, resolver.nameserver_ports.get(ip, resolver.port))
                for ip in resolver.nameservers if isinstance(ip, str))
        return self._nameservers

    async def close(self) -> None:
        self._closed = True
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    async def __aenter__(self) -> ProbeContext:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()
