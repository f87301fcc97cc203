"""The demo's mailbox: what it received by SMTP and by webhook, on one page."""

from __future__ import annotations

import json
import smtplib
from email.message import EmailMessage

from starlette.testclient import TestClient

from signalfire.sim.mailbox import Mailbox


def test_it_shows_the_mail_and_the_webhook_calls_it_received():
    box = Mailbox().start()
    try:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "s@example.com", "me@example.com", "Hello there"
        msg.set_content("Body text")
        with smtplib.SMTP("127.0.0.1", box.port) as smtp:
            smtp.send_message(msg)
        client = TestClient(box.app())
        call = {"meta": {"event": "incident.created"}, "incident": {"name": "Feed is down"}}
        r = client.post("/_demo/mail/hooks/mine", content=json.dumps(call),
                        headers={"webhook-id": "msg_7"})
        assert r.status_code == 204
        page = client.get("/_demo/mail").text
        assert "Hello there" in page and "me@example.com" in page
        assert "incident.created: Feed is down" in page and "msg_7" in page
        assert "Body text" in client.get("/_demo/mail/0").text
    finally:
        box.stop()
