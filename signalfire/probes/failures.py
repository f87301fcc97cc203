"""Turn what went wrong during a probe into a stable error kind and a short text.

The kinds are part of the product (conditions, alerts and the docs name
them), so they never change meaning:

    timeout              no complete answer within the monitor's timeout
    dns_failure          the target's host name did not resolve
    connection_refused   nothing listens on the port
    connection_reset     the peer reset (or broke) the connection
    connection_closed    the peer closed the connection without an answer
    connection_failed    any other network error (unreachable host, …)
    tls_error            handshake failed or the certificate is not trusted
    invalid_response     the answer is not valid HTTP / DNS
    too_many_redirects   an HTTP redirect loop
    invalid_target       the target cannot be probed (bad URL, scheme, name)
    probe_error          a failure that matches none of the above

and, set by the probes themselves rather than found here:

    invalid_options      the monitor's options do not validate (config let them through)
    not_an_active_probe  a push kind (heartbeat) was run
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator

import dns.exception
import httpx

MAX_DETAIL_CHARS = 200


def classify(exc: BaseException, *, timeout_s: float) -> tuple[str, str]:
    """``(error kind, detail)`` for ``exc``, looking through its causes.

    Libraries wrap the OS error several layers deep (httpx → httpcore → anyio →
    an ExceptionGroup of per-address attempts), and the innermost one says the
    most, so every cause is considered and the most specific kind wins.
    """
    chain = list(_causes(exc))
    for kind, match in _RULES:
        for item in chain:
            detail = match(item, timeout_s)
            if detail is not None:
                return kind, _shorten(detail)
    return "probe_error", _shorten(f"{type(exc).__name__}: {exc}")


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack = [exc]
    while stack:
        item = stack.pop(0)
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        if isinstance(item, BaseExceptionGroup):
            stack.extend(item.exceptions)
        stack.extend(e for e in (item.__cause__, item.__context__) if e is not None)


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_DETAIL_CHARS else text[: MAX_DETAIL_CHARS - 1] + "…"


def _text(exc: BaseException, fallback: str) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or fallback


def _timeout(exc: BaseException, timeout_s: float) -> str | None:
    if isinstance(exc, TimeoutError | httpx.TimeoutException | dns.exception.Timeout):
        return f"no complete answer within {timeout_s:g} s"
    return None


def _redirects(exc: BaseException, _: float) -> str | None:
    return str(exc) if isinstance(exc, httpx.TooManyRedirects) else None


def _target(exc: BaseException, _: float) -> str | None:
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return str(exc)
    return None


def _tls(exc: BaseException, _: float) -> str | None:
    if isinstance(exc, ssl.SSLCertVerificationError):
        # OpenSSL's short reason ("certificate has expired") is the useful part.
        reason = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or exc
        return f"certificate not trusted: {reason}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {getattr(exc, 'reason', None) or exc}"
    return None


def _dns(exc: BaseException, _: float) -> str | None:
    if isinstance(exc, socket.gaierror):
        return f"host name did not resolve: {_text(exc, 'unknown name')}"
    return None


def _refused(exc: BaseException, _: float) -> str | None:
    return "connection refused" if isinstance(exc, ConnectionRefusedError) else None


def _reset(exc: BaseException, _: float) -> str | None:
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return f"connection reset by the peer ({_text(exc, 'reset')})"
    return None


def _closed(exc: BaseException, _: float) -> str | None:
    # httpx's wording for a peer that hung up before sending a status line.
    if isinstance(exc, httpx.RemoteProtocolError) and "disconnected" in str(exc):
        return str(exc)
    return None


def _invalid(exc: BaseException, _: float) -> str | None:
    if isinstance(exc, httpx.RemoteProtocolError | httpx.DecodingError
                  | dns.exception.FormError):
        return f"invalid response: {exc}"
    return None


def _network(exc: BaseException, _: float) -> str | None:
    if isinstance(exc, httpx.TransportError | OSError):
        return _text(exc, type(exc).__name__)
    return None


_RULES: tuple[tuple[str, Callable[[BaseException, float], str | None]], ...] = (
    ("timeout", _timeout),
    ("too_many_redirects", _redirects),
    ("invalid_target", _target),
    ("tls_error", _tls),
    ("dns_failure", _dns),
    ("connection_refused", _refused),
    ("connection_reset", _reset),
    ("connection_closed", _closed),
    ("invalid_response", _invalid),
    ("connection_failed", _network),
)

# Every error kind a probe result can carry (docs and tests read this).
ERROR_KINDS = (*(kind for kind, _ in _RULES), "probe_error", "invalid_options", "not_an_active_probe")
