"""Real peers on loopback for the notification tests: an SMTP server (aiosmtpd)
and an HTTP server that receives webhooks and Apprise's JSON posts, each
behaving as the test asks (fail first, answer 410, …)."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


class MailSink:
    """aiosmtpd on a free port; keeps every message it was given."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()
        self.refuse: set[str] = set()  # addresses answered with 550
        sink = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address,
                                  rcpt_options):  # type: ignore[no-untyped-def]
                if address in sink.refuse:
                    return "550 5.1.1 no such user"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
                msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
                with sink.lock:
                    sink.messages.append(msg)  # type: ignore[arg-type]
                return "250 Message accepted"

        with socket.socket() as probe:  # aiosmtpd wants a real port to check it is up
            probe.bind(("127.0.0.1", 0))
            self._port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self._port)

    def start(self) -> MailSink:
        self.controller.start()
        return self

    @property
    def port(self) -> int:
        return int(self._port)

    def stop(self) -> None:
        self.controller.stop()

    def to(self, address: str) -> list[email.message.EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


class HookReceiver:
    """An HTTP server; ``plan[path]`` lists the statuses to answer in turn (then 200)."""

    def __init__(self) -> None:
        self.received: dict[str, list[tuple[dict[str, str], bytes]]] = defaultdict(list)
        self.plan: dict[str, list[int]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver.lock:
                    statuses = receiver.plan.get(self.path, [])
                    status = statuses.pop(0) if statuses else 200
                    if status == 200:
                        receiver.received[self.path].append(
                            ({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # the default 5 refuses a dispatcher's burst

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> HookReceiver:
        self.thread.start()
        return self

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def bodies(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(b) for _, b in self.received[path]]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
