"""The ways a message leaves: signed webhooks, email over SMTP, and Apprise for
the long tail (Slack, Discord, Teams, Telegram, ntfy, Pushover, Matrix, SMS…).

One contract: ``await transport.send(delivery)`` returns once the message is
accepted by the other side, or raises ``TransportError`` whose ``permanent``
says whether trying again could help. Secrets never appear in an error: URLs
are masked.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import Header
from email.utils import format_datetime, formataddr
from typing import Any, Protocol

import aiohttp

from signalfire.errors import TransportError
from signalfire.notify import signing
from signalfire.notify.messages import Messages
from signalfire.store.notifications import Delivery

USER_AGENT = "Signalfire-Webhooks/1"


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Where email goes: an SMTP server (``SIGNALFIRE_SMTP_*``)."""

    host: str
    port: int = 25
    sender: str = "status@localhost"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    security: str = "none"  # none | starttls | tls

    def options(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.port, "sender": self.sender,
                "username": self.username, "password": self.password,
                "use_tls": self.security == "tls",
                "start_tls": True if self.security == "starttls" else False}


class Transport(Protocol):
    async def send(self, d: Delivery) -> None: ...


class WebhookTransport:
    """POST the Statuspage-shaped payload, signed when the target has a secret.

    aiohttp, not httpx, carries these: a fan-out to 10,000 receivers cost 3.5 ms
    of CPU per request in httpx's connection pool and 0.3 ms in aiohttp."""

    def __init__(self, session: aiohttp.ClientSession, messages: Messages,
                 clock: Callable[[], datetime], *, timeout_s: float = 10.0) -> None:
        self.session, self.messages, self.clock = session, messages, clock
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def send(self, d: Delivery) -> None:
        body = json.dumps(self.messages.webhook_body(d), separators=(",", ":")).encode()
        headers = {"content-type": "application/json", "user-agent": USER_AGENT}
        if d.secret:
            # The id is the delivery's: the same on every retry, so a receiver
            # that saw it already can drop the copy.
            headers.update(signing.headers(d.secret, f"msg_{d.id}",
                                           int(self.clock().timestamp()), body))
        where = signing.mask(d.address)
        try:
            async with self.session.post(d.address, data=body, headers=headers,
                                         timeout=self.timeout, allow_redirects=False) as r:
                status = r.status
                await r.read()
        except (aiohttp.InvalidURL, ValueError) as exc:
            raise TransportError(f"{where}: not a usable URL ({type(exc).__name__})",
                                 permanent=True) from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise TransportError(f"{where}: {type(exc).__name__}") from None
        if 200 <= status < 300:
            return
        # 408 and 429 say "later"; other 4xx say this will never work (410 Gone:
        # the receiver asks to be forgotten); 5xx and the rest are worth a retry.
        permanent = 400 <= status < 500 and status not in (408, 425, 429)
        raise TransportError(f"{where}: HTTP {status}", permanent=permanent)


def webhook_session(*, connections: int = 100) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections),
                                 headers={"user-agent": USER_AGENT})


class EmailTransport:
    """SMTP with a few connections kept open and reused (aiosmtplib)."""

    def __init__(self, messages: Messages, *, host: str, port: int, sender: str,
                 username: str | None = None, password: str | None = None,
                 use_tls: bool = False, start_tls: bool | None = None,
                 connections: int = 8, timeout_s: float = 30.0) -> None:
        self.messages = messages
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password = username, password
        self.use_tls, self.start_tls, self.timeout_s = use_tls, start_tls, timeout_s
        self._idle: asyncio.Queue[object] | None = None
        self._connections = connections
        self._domain = sender.rpartition("@")[2] or socket.getfqdn()

    async def _take(self):  # type: ignore[no-untyped-def]
        import aiosmtplib

        if self._idle is None:
            self._idle = asyncio.Queue()
            for _ in range(self._connections):
                self._idle.put_nowait(None)  # a slot; connected on first use
        smtp = await self._idle.get()
        if smtp is None or not smtp.is_connected:  # type: ignore[attr-defined]
            smtp = aiosmtplib.SMTP(hostname=self.host, port=self.port, use_tls=self.use_tls,
                                   start_tls=self.start_tls, timeout=self.timeout_s,
                                   username=self.username, password=self.password)
            try:
                await smtp.connect()
            except Exception:
                self._idle.put_nowait(None)
                raise
        return smtp

    def compose(self, d: Delivery) -> bytes:
        """The message as bytes, put together by hand: the standard library's email
        package spends ~2 ms of CPU on the headers of each message, which is what
        limited a fan-out to 100,000 subscribers."""
        mail = self.messages.email(d)
        boundary = f"=_sf{d.id:x}_{secrets.token_hex(6)}"
        headers = [
            ("From", formataddr((mail.sender_name, self.sender))),
            ("To", d.address),
            ("Subject", _header(mail.subject)),
            ("Date", format_datetime(d.event_at.astimezone(UTC))),
            # Stable per delivery: a copy sent again after a crash is recognisably the same.
            ("Message-ID", f"<delivery-{d.id}@{self._domain}>"),
            ("MIME-Version", "1.0"),
            *mail.headers.items(),
            ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
        ]
        head = "".join(f"{k}: {v}\r\n" for k, v in headers)
        return (f"{head}\r\n--{boundary}\r\n{_part('plain', mail.text)}"
                f"--{boundary}\r\n{_part('html', mail.html)}--{boundary}--\r\n").encode()

    async def send(self, d: Delivery) -> None:
        import aiosmtplib

        try:
            raw = self.compose(d)
        except ValueError as exc:  # an address that cannot be written into a header
            raise TransportError(f"cannot write this message: {exc}", permanent=True) from None
        try:
            smtp = await self._take()
        except (OSError, aiosmtplib.SMTPException) as exc:
            raise TransportError(f"smtp {self.host}:{self.port}: {type(exc).__name__}") from None
        assert self._idle is not None
        keep: object = smtp
        try:
            await smtp.sendmail(self.sender, [d.address], raw)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise TransportError(f"the address was refused: {exc}", permanent=True) from None
        except aiosmtplib.SMTPResponseException as exc:
            # 5xx: the server will never take it (a bad address); 4xx: later.
            raise TransportError(f"smtp {exc.code}: {exc.message}",
                                 permanent=500 <= exc.code < 600) from None
        except (OSError, aiosmtplib.SMTPException) as exc:
            keep = None
            raise TransportError(f"smtp {self.host}:{self.port}: {type(exc).__name__}") from None
        finally:
            self._idle.put_nowait(keep)

    async def close(self) -> None:
        while self._idle is not None and not self._idle.empty():
            smtp = self._idle.get_nowait()
            if smtp is not None:
                try:
                    await smtp.quit()  # type: ignore[attr-defined]
                except Exception:  # already gone: nothing to close
                    pass
        self._idle = None


def _header(value: str) -> str:
    """A header value, RFC 2047-encoded when it is not plain ASCII."""
    if value.isascii() and "\n" not in value and "\r" not in value:
        return value
    return Header(value.replace("\r", " ").replace("\n", " "), "utf-8").encode()


def _part(subtype: str, body: str) -> str:
    encoded = base64.encodebytes(body.encode()).decode().replace("\n", "\r\n")
    return (f"Content-Type: text/{subtype}; charset=utf-8\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{encoded}")


class AppriseTransport:
    """Any of Apprise's 100+ services, by URL (``slack://…``, ``tgram://…``, ``ntfy://…``)."""

    def __init__(self, messages: Messages) -> None:
        self.messages = messages

    async def send(self, d: Delivery) -> None:
        import apprise

        title, body = self.messages.chat_text(d)
        sender = apprise.Apprise()
        if not sender.add(d.address):
            raise TransportError(f"{signing.mask(d.address)}: not a URL Apprise knows",
                                 permanent=True)
        if not await sender.async_notify(body=body, title=title):
            raise TransportError(f"{signing.mask(d.address)}: the service did not take it")
