"""API tokens. Only a hash is kept: a leaked database gives no working token."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select, update

from signalfire.errors import AuthError, NotFound
from signalfire.store import schema as t

if TYPE_CHECKING:
    from signalfire.store.store import Store

TOKEN_PREFIX = "sf_"


def hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a plain digest is enough; no slow KDF
    # is needed, and checking one stays cheap on every admin request.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None


class TokensMixin:
    def create_token(self: Store, name: str, *, now: datetime) -> tuple[ApiToken, str]:
        """A new token: its record and the secret, which is shown once and never stored."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = self.new_id()
        with self._write() as conn:
            conn.execute(insert(t.api_tokens).values(
                id=token_id, name=name, token_hash=hash_token(secret), created_at=now))
        return ApiToken(token_id, name, now, None), secret

    def authenticate(self: Store, secret: str, *, now: datetime) -> ApiToken:
        with self._read() as conn:
            row = conn.execute(select(t.api_tokens)
                               .where(t.api_tokens.c.token_hash == hash_token(secret))).first()
        if row is None:
            raise AuthError("the API token is not valid", field="Authorization")
        # last_used_at is a hint for operators cleaning up tokens; a minute's
        # precision is enough, so most requests write nothing.
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            with self.engine.begin() as conn:
                conn.execute(update(t.api_tokens).where(t.api_tokens.c.id == row.id)
                             .values(last_used_at=now))
        return ApiToken(row.id, row.name, row.created_at, row.last_used_at)

    def list_tokens(self: Store) -> list[ApiToken]:
        with self._read() as conn:
            return [ApiToken(r.id, r.name, r.created_at, r.last_used_at)
                    for r in conn.execute(select(t.api_tokens).order_by(t.api_tokens.c.created_at))]

    def revoke_token(self: Store, token_id: str) -> None:
        with self.engine.begin() as conn:
            if conn.execute(delete(t.api_tokens).where(t.api_tokens.c.id == token_id)).rowcount != 1:
                raise NotFound(f"no token {token_id!r}", field="token_id")
