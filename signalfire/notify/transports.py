"""The ways a message leaves: signed webhooks, email over SMTP, and Apprise for
the long tail (Slack, Discord, Teams, Telegram, ntfy, Pushover, Matrix, SMS…).

One contract: ``await transport.send(delivery)`` returns once the message is
accepted by the other side, or raises ``TransportError`` whose ``permanent``
says whether trying again could help. Secrets never appear in an error: URLs
are masked.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any, Protocol

import httpx

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
    """POST the Statuspage-shaped payload, signed when the target has a secret."""

    def __init__(self, client: httpx.AsyncClient, messages: Messages,
                 clock: Callable[[], datetime], *, timeout_s: float = 10.0) -> None:
        self.client, self.messages, self.clock, self.timeout_s = client, messages, clock, timeout_s

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
            response = await self.client.post(d.address, content=body, headers=headers,
                                              timeout=self.timeout_s)
        except httpx.InvalidURL as exc:
            raise TransportError(f"{where}: not a usable URL ({exc})", permanent=True) from None
        except httpx.HTTPError as exc:
            raise TransportError(f"{where}: {type(exc).__name__}") from None
        status = response.status_code
        if 200 <= status < 300:
            return
        # 408 and 429 say "later"; other 4xx say this will never work (410 Gone:
        # the receiver asks to be forgotten); 5xx and the rest are worth a retry.
        permanent = 400 <= status < 500 and status not in (408, 425, 429)
        raise TransportError(f"{where}: HTTP {status}", permanent=permanent)


class EmailTransport:
    """SMTP with a few connections kept open and reused (aiosmtplib)."""

    def __init__(self, messages: Messages, *, host: str, port: int, sender: str,
                 username: str | None = None, password: str | None = None,
                 use_tls: bool = False, start_tls: bool | None = None,
                 connections: int = 4, timeout_s: float = 30.0) -> None:
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

    async def send(self, d: Delivery) -> None:
        import aiosmtplib

        mail = self.messages.email(d)
        msg = EmailMessage()
        msg["From"] = formataddr((mail.sender_name, self.sender))
        msg["To"] = d.address
        msg["Subject"] = mail.subject
        msg["Date"] = format_datetime(d.event_at)
        # Stable per delivery: a copy sent again after a crash is recognisably the same.
        msg["Message-ID"] = f"<delivery-{d.id}@{self._domain}>"
        for name, value in mail.headers.items():
            msg[name] = value
        msg.set_content(mail.text)
        msg.add_alternative(mail.html, subtype="html")
        try:
            smtp = await self._take()
        except (OSError, aiosmtplib.SMTPException) as exc:
            raise TransportError(f"smtp {self.host}:{self.port}: {type(exc).__name__}") from None
        assert self._idle is not None
        keep: object = smtp
        try:
            await smtp.send_message(msg)
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
