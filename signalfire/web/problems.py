"""The one place where errors become HTTP responses.

Every error body is ``{"error": "<reason>", "field": "<where>"|null, "status": <code>}``
with ``application/problem+json``-style content, so a client always learns what
to fix.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from signalfire.errors import AuthError, SignalfireError

log = logging.getLogger("signalfire.web")


def problem(status: int, message: str, field: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, "field": field, "status": status, **extra},
                        status_code=status, headers=headers,
                        media_type="application/problem+json")


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(SignalfireError)
    async def _signalfire_error(request: Request, exc: SignalfireError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthError) else None
        return problem(exc.status_code, exc.message, exc.field, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            loc = err.get("loc", ())
            where = _location(loc)
            if err.get("type") == "json_invalid":
                message = f"malformed JSON: {err.get('ctx', {}).get('error', 'cannot parse')}"
                where = "body"
            else:
                message = err.get("msg", "invalid")
            errors.append({"field": where, "error": message})
        first = errors[0] if errors else {"field": None, "error": "invalid request"}
        return problem(422, f"{first['field']}: {first['error']}", first["field"],
                       errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and "parsing the body" in str(exc.detail):
            return problem(400, "the body cannot be read: send UTF-8 encoded JSON", "body")
        return problem(exc.status_code, str(exc.detail), None, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("event=unhandled_error path=%s", request.url.path)
        return problem(500, "internal error", None)
