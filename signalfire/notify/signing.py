"""Signed webhooks, as the Standard Webhooks specification has them.

Each request carries ``webhook-id`` (the same on every retry, so a receiver can
drop duplicates), ``webhook-timestamp`` (seconds since the epoch) and
``webhook-signature``: ``v1,`` and the base64 HMAC-SHA256 of
``{id}.{timestamp}.{body}`` under the subscriber's secret. Secrets look like
``whsec_<base64>``; any Standard Webhooks library verifies these requests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, msg_id, timestamp, body)}


def verify(secret: str, msg_id: str, timestamp: int, body: bytes, signature: str) -> bool:
    """Whether any of the space-separated signatures is ours (for receivers)."""
    expected = sign(secret, msg_id, timestamp, body)
    return any(hmac.compare_digest(expected, s) for s in signature.split())


def mask(url: str) -> str:
    """A URL fit to show or log. Web addresses keep their scheme and host; chat
    and push URLs (which carry tokens anywhere, host included) are shown the way
    Apprise masks them, or as their scheme alone."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "***"
    if scheme in ("http", "https"):
        return f"{scheme}://{rest.split('/', 1)[0].rsplit('@', 1)[-1]}/***"
    try:
        import apprise

        plugin = apprise.Apprise.instantiate(url)
        if plugin:
            return str(plugin.url(privacy=True)).split("?", 1)[0]
    except Exception:  # a URL Apprise cannot read: show nothing of it
        pass
    return f"{scheme}://***"
