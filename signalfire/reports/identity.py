"""Reporter keys: the same person gives the same key for a day, and no key gives
back an address.

key = HMAC(salt_of_the_day, address | user agent), where salt_of_the_day =
HMAC(instance secret, date). The salt rotates at midnight UTC, so keys cannot be
joined across days; raw addresses are never stored or logged.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime


class ReporterKeys:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._salts: dict[str, bytes] = {}

    def _salt(self, day: str) -> bytes:
        salt = self._salts.get(day)
        if salt is None:
            if len(self._salts) > 4:
                self._salts.clear()
            salt = self._salts[day] = hmac.new(self._secret, f"reporter-salt:{day}".encode(),
                                               hashlib.sha256).digest()
        return salt

    def key(self, address: str, user_agent: str, *, now: datetime) -> str:
        salt = self._salt(now.strftime("%Y-%m-%d"))
        return hmac.new(salt, f"{address}|{user_agent}".encode(), hashlib.sha256).hexdigest()[:32]

    def collector_key(self, collector_id: str, reporter: str, *, now: datetime) -> str:
        """A collector's own reporter id (an app install, a session), keyed again."""
        return self.key(f"collector:{collector_id}", reporter, now=now)
