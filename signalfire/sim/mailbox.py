"""The demo's mailbox: a local SMTP server (aiosmtpd) that keeps what Signalfire
sends, and a page at ``/_demo/mail`` that shows it, links included, so a
visitor can subscribe, confirm and unsubscribe without a real mail account.

It is a webhook receiver too: subscribe ``http://<demo>/_demo/mail/hooks/<any
name>`` as a webhook (admin API) and the calls it gets show on the same page."""

from __future__ import annotations

import email
import email.policy
import html
import socket
import threading
from collections import deque
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route


class Mailbox:
    def __init__(self, *, keep: int = 200) -> None:
        self.messages: deque[tuple[datetime, Any]] = deque(maxlen=keep)
        self.hooks: deque[tuple[datetime, str, dict[str, str], str]] = deque(maxlen=keep)
        self._lock = threading.Lock()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._controller: Any = None

    def start(self) -> Mailbox:
        from aiosmtpd.controller import Controller

        box = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
                msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
                with box._lock:
                    box.messages.appendleft((datetime.now(UTC), msg))
                return "250 Message accepted"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()

    def app(self, *, prefix: str = "/_demo/mail") -> Starlette:
        async def index(request: Request) -> Response:
            with self._lock:
                items = list(self.messages)
            rows = []
            for i, (at, msg) in enumerate(items):
                rows.append(f"<tr><td>{at:%H:%M:%S}</td><td>{html.escape(str(msg['To']))}</td>"
                            f"<td><a href='{prefix}/{i}'>{html.escape(str(msg['Subject']))}"
                            "</a></td></tr>")
            body = "".join(rows) or "<tr><td colspan=3>Nothing yet. Subscribe on the status " \
                                    "page, then break something.</td></tr>"
            with self._lock:
                calls = list(self.hooks)
            hook_rows = "".join(
                f"<tr><td>{at:%H:%M:%S}</td><td>{html.escape(name)}</td>"
                f"<td>{html.escape(headers.get('webhook-id', ''))}</td>"
                f"<td><details><summary>{html.escape(summary)}</summary><pre>"
                f"{html.escape(payload)}</pre></details></td></tr>"
                for at, name, headers, payload in calls
                for summary in [_summary(payload)]) or (
                "<tr><td colspan=4>None yet. Add a webhook subscriber with the admin API "
                f"pointing at {prefix}/hooks/&lt;name&gt; on this server.</td></tr>")
            return HTMLResponse(
                "<!doctype html><meta charset=utf-8><title>Demo mailbox</title>"
                "<style>body{font:15px system-ui;margin:2em}td,th{padding:6px 10px;text-align:"
                "left}</style><h1>Demo mailbox</h1><p>Every email the demo sent, newest first "
                f"(SMTP on 127.0.0.1:{self.port}). <a href='/'>Status page</a> · "
                "<a href='/_demo/'>Break the demo service</a></p>"
                f"<table><tr><th>At</th><th>To</th><th>Subject</th></tr>{body}</table>"
                "<h2>Webhook calls</h2><table><tr><th>At</th><th>Receiver</th>"
                f"<th>webhook-id</th><th>Payload</th></tr>{hook_rows}</table>")

        async def hook(request: Request) -> Response:
            payload = (await request.body())[:100_000].decode("utf-8", "replace")
            with self._lock:
                self.hooks.appendleft((datetime.now(UTC), request.path_params["name"],
                                       dict(request.headers), payload))
            return Response(status_code=204)

        async def one(request: Request) -> Response:
            with self._lock:
                items = list(self.messages)
            index_ = int(request.path_params["n"])
            if index_ >= len(items):
                return HTMLResponse("no such message", status_code=404)
            _, msg = items[index_]
            part = msg.get_body(("html", "plain"))
            content = part.get_content() if part is not None else ""
            if part is not None and part.get_content_type() == "text/plain":
                content = f"<pre>{html.escape(content)}</pre>"
            headers = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                              for k, v in msg.items() if k in (
                                  "From", "To", "Subject", "Date", "List-Unsubscribe"))
            return HTMLResponse(
                f"<!doctype html><meta charset=utf-8><title>{html.escape(str(msg['Subject']))}"
                f"</title><p><a href='{prefix}'>← Mailbox</a></p><table>{headers}</table><hr>"
                f"{content}")

        return Starlette(routes=[Route(prefix, index), Route(f"{prefix}/{{n:int}}", one),
                                 Route(f"{prefix}/hooks/{{name}}", hook, methods=["POST"])])


def _summary(payload: str) -> str:
    """What a webhook call was about, in a few words."""
    import json

    try:
        doc = json.loads(payload)
    except ValueError:
        return payload[:80]
    event = doc.get("meta", {}).get("event", "")
    about = doc.get("incident", {}).get("name") or doc.get("component", {}).get("name", "")
    return f"{event}: {about}"
