"""``host:port`` targets, and closing a connection without letting it hang."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re

# A DNS name as people write it: labels of letters, digits, '-' and '_'.
_HOSTNAME = re.compile(r"^(?=.{1,253}\.?$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*"
                       r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?$")


def split_host_port(value: str, *, default_port: int | None) -> tuple[str, int]:
    """``host:port``, ``[v6]:port``, or (with a ``default_port``) ``host`` / bare IPv6.

    Raises ValueError with a message for a person.
    """
    if value.startswith("["):
        host, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"{value!r}: expected [IPv6]:port")
        port_text = rest[1:] if rest else None
    elif value.count(":") == 1:
        host, _, port_text = value.partition(":")
    elif value.count(":") > 1:
        # A bare IPv6 address; with a port it must be written [addr]:port.
        host, port_text = value, None
    else:
        host, port_text = value, None
    if port_text is None:
        if default_port is None:
            raise ValueError(f"{value!r}: expected host:port")
        port = default_port
    elif not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"{value!r}: the port must be an integer from 1 to 65535")
    else:
        port = int(port_text)
    if not host:
        raise ValueError(f"{value!r}: the host is empty")
    return host, port


def host_problem(host: str) -> str | None:
    """Why ``host`` is neither an IP address nor a DNS name, or None."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOSTNAME.match(host):
            return f"{host!r} is not a host name or IP address"
    return None


def validate_host_port(target: str, *, default_port: int | None) -> str | None:
    try:
        host, _ = split_host_port(target, default_port=default_port)
    except ValueError as exc:
        return str(exc)
    return host_problem(host)


async def close_quietly(writer: asyncio.StreamWriter, *, timeout_s: float) -> None:
    """Close a connection the probe is done with, within ``timeout_s``.

    A graceful close waits for the peer (a TLS close_notify), and a peer that
    never answers must not hold a probe slot: after the bound, abort.
    Errors while closing say nothing about the target's health, so they are dropped.
    """
    writer.close()
    try:
        async with asyncio.timeout(timeout_s):
            await writer.wait_closed()
    except (TimeoutError, OSError):
        writer.transport.abort()
        with contextlib.suppress(OSError, TimeoutError):
            await writer.wait_closed()
