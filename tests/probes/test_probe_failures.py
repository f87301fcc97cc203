"""Exceptions from deep inside the libraries map to the stable error kinds."""

from __future__ import annotations

import socket
import ssl

import dns.exception
import httpx
import pytest

from signalfire.probes.failures import MAX_DETAIL_CHARS, classify


def wrapped(outer: BaseException, inner: BaseException) -> BaseException:
    outer.__cause__ = inner
    return outer


def verify_error() -> ssl.SSLCertVerificationError:
    exc = ssl.SSLCertVerificationError(1, "certificate verify failed")
    exc.verify_message = "certificate has expired"
    return exc


CASES = [
    (TimeoutError(), "timeout"),
    (httpx.ReadTimeout("read"), "timeout"),
    (dns.exception.Timeout(), "timeout"),
    (wrapped(httpx.ConnectError("x"), socket.gaierror(-2, "Name or service not known")), "dns_failure"),
    (wrapped(httpx.ConnectError("All connection attempts failed"),
             ExceptionGroup("attempts", [ConnectionRefusedError(111, "refused")])), "connection_refused"),
    (wrapped(httpx.ReadError("x"), ConnectionResetError(104, "reset")), "connection_reset"),
    (wrapped(httpx.ConnectError("x"), verify_error()), "tls_error"),
    (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), "tls_error"),
    (httpx.RemoteProtocolError("Server disconnected without sending a response."), "connection_closed"),
    (httpx.RemoteProtocolError("illegal status line"), "invalid_response"),
    (httpx.TooManyRedirects("Exceeded maximum allowed redirects."), "too_many_redirects"),
    (httpx.UnsupportedProtocol("Request URL has an unsupported protocol 'ftp://'."), "invalid_target"),
    (OSError(113, "No route to host"), "connection_failed"),
    (ValueError("something else"), "probe_error"),
]


@pytest.mark.parametrize(("exc", "kind"), CASES)
def test_it_finds_the_most_specific_kind(exc, kind):
    assert classify(exc, timeout_s=2)[0] == kind


def test_timeouts_say_how_long_was_waited():
    assert classify(TimeoutError(), timeout_s=2.5) == ("timeout", "no complete answer within 2.5 s")


def test_certificate_problems_say_what_is_wrong():
    assert classify(verify_error(), timeout_s=1)[1] == "certificate not trusted: certificate has expired"


def test_details_are_short_and_on_one_line():
    kind, detail = classify(ValueError("line\n" + "x" * 1000), timeout_s=1)

    assert kind == "probe_error"
    assert len(detail) == MAX_DETAIL_CHARS
    assert "\n" not in detail
