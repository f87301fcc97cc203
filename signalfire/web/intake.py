"""``POST /api/v1/reports``: one user's "I have a problem", as fast as it can be taken.

A bare ASGI layer, like the public read side: during an outage this is the
endpoint everyone hits at once. It accepts JSON (apps, scripts) and form posts
(the "is it down?" page without JavaScript, answered with a redirect), checks
every field by hand, limits each client's rate, and answers only once the
report is committed (group commit, see ``engine/intake.py``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from signalfire.domain.crowd import Report
from signalfire.engine.intake import ReportWriter
from signalfire.reports.geo import ClientAddress, CountryLookup, is_country
from signalfire.reports.identity import ReporterKeys
from signalfire.reports.limits import RateLimiter
from signalfire.store import Store
from signalfire.web.public import PageDirectory

PATH = "/api/v1/reports"
MAX_BODY = 4096
FIELDS = {"page", "category", "component", "country", "website"}
HONEYPOT = "website"  # hidden in the form: people leave it empty, simple bots fill it


class _Reject(Exception):
    def __init__(self, status: int, message: str, field: str | None = None,
                 headers: list[tuple[bytes, bytes]] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field
        self.headers = headers or []


class CrowdDirectory:
    """Each page's categories and components, re-read at most every ``ttl_s``."""

    def __init__(self, store: Store, pages: PageDirectory, *, ttl_s: float = 15.0) -> None:
        self.store, self.pages, self.ttl_s = store, pages, ttl_s
        self._cache: dict[str, tuple[float, set[str], dict[str, str]]] = {}

    def page(self, ref: str) -> tuple[Any, set[str], dict[str, str]] | None:
        page = self.pages.lookup_any(ref)
        if page is None:
            return None
        entry = self._cache.get(page.id)
        if entry is None or time.monotonic() - entry[0] > self.ttl_s:
            categories = {slug for slug, _ in self.store.report_categories(page.id)}
            components: dict[str, str] = {}
            for c in self.store.list_components(page.id):
                components[c.id] = c.id
                components[c.name.lower()] = c.id
            entry = (time.monotonic(), categories, components)
            self._cache[page.id] = entry
        return page, entry[1], entry[2]


class ReportIntake:
    def __init__(self, app: ASGIApp, *, writer: ReportWriter, crowd: CrowdDirectory,
                 keys: ReporterKeys, clock: Callable[[], datetime],
                 addresses: ClientAddress | None = None, countries: CountryLookup | None = None,
                 limiter: RateLimiter | None = None,
                 page_url: Callable[[Any], str] | None = None) -> None:
        self.app = app
        self.writer = writer
        self.crowd = crowd
        self.keys = keys
        self.clock = clock
        self.addresses = addresses or ClientAddress()
        self.countries = countries or CountryLookup()
        self.limiter = limiter or RateLimiter(per_minute=10, burst=5)
        self.page_url = page_url or (lambda page: "")
        self.accepted = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        is_form = headers.get(b"content-type", b"").startswith(
            b"application/x-www-form-urlencoded")
        try:
            body = await self._body(receive, headers)
            fields = self._fields(body, headers, is_form)
            report, page = self._report(scope, headers, fields)
            if report is None:  # the honeypot: look accepted, store nothing
                counted = False
            else:
                (counted,) = await self.writer.add([report])
                self.accepted += 1
        except _Reject as r:
            await _send_json(send, r.status, {"error": r.message, "field": r.field,
                                              "status": r.status}, r.headers,
                             ctype=b"application/problem+json")
            return
        if is_form:
            target = f"{self.page_url(page)}/is-it-down?reported=1".encode()
            await send({"type": "http.response.start", "status": 303, "headers": [
                (b"location", target), (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        start, body = _COUNTED if counted else _NOT_COUNTED
        await send(start)
        await send(body)

    async def _body(self, receive: Receive, headers: dict[bytes, bytes]) -> bytes:
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            raise _Reject(413, f"body larger than {MAX_BODY} bytes", "body")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Reject(400, "the client went away", "body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                raise _Reject(413, f"body larger than {MAX_BODY} bytes", "body")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _fields(self, body: bytes, headers: dict[bytes, bytes], is_form: bool) -> dict[str, str]:
        ctype = headers.get(b"content-type", b"")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise _Reject(400, "the body is not UTF-8", "body") from None
        if is_form:
            pairs = parse_qsl(text, keep_blank_values=True)
            raw: Any = dict(pairs)
            if len(raw) != len(pairs):
                raise _Reject(422, "a field is given twice", "body")
        elif ctype.startswith(b"application/json"):
            try:
                raw = json.loads(text)
            except ValueError as exc:
                raise _Reject(422, f"malformed JSON: {exc}", "body") from None
        else:
            raise _Reject(415, "send application/json or a form", "content-type")
        if not isinstance(raw, dict):
            raise _Reject(422, "the body must be an object", "body")
        for key, value in raw.items():
            if key not in FIELDS:
                raise _Reject(422, f"unknown field {key!r}", str(key)[:64])
            if value is not None and not isinstance(value, str):
                raise _Reject(422, "must be a string", key)
        return {k: v for k, v in raw.items() if v not in (None, "")} | (
            {HONEYPOT: raw[HONEYPOT]} if raw.get(HONEYPOT) else {})

    def _report(self, scope: Scope, headers: dict[bytes, bytes],
                fields: dict[str, str]) -> tuple[Report | None, Any]:
        ref = fields.get("page")
        if not ref:
            raise _Reject(422, "field required", "page")
        found = self.crowd.page(ref[:64])
        if found is None:
            raise _Reject(422, f"no page {ref[:64]!r}", "page")
        page, categories, components = found
        category = fields.get("category")
        if not category:
            raise _Reject(422, "field required", "category")
        if category not in categories:
            known = ", ".join(sorted(categories)) or "none configured"
            raise _Reject(422, f"unknown category {category[:64]!r} (known: {known})",
                          "category")
        component_id = None
        if "component" in fields:
            component_id = components.get(fields["component"].lower()[:200])
            if component_id is None:
                raise _Reject(422, f"no component {fields['component'][:64]!r} on this page",
                              "component")
        country = fields.get("country")
        if country is not None:
            country = country.upper()
            if not is_country(country):
                raise _Reject(422, f"not an ISO 3166-1 alpha-2 country code: {country[:8]!r}",
                              "country")
        peer = (scope.get("client") or ("", 0))[0]
        forwarded = headers.get(b"x-forwarded-for")
        address = self.addresses.of(peer, forwarded.decode("latin-1") if forwarded else None)
        now = self.clock()
        user_agent = headers.get(b"user-agent", b"").decode("latin-1")[:300]
        # The limiter's keys live in memory only, bounded, and are never written
        # anywhere, so the address itself can key it (one HMAC per request saved).
        if not self.limiter.allow(address):
            raise _Reject(429, "too many reports from this address; try again in a minute",
                          None, [(b"retry-after", b"60")])
        if fields.get(HONEYPOT):
            return None, page
        if country is None:
            country = self.countries.country(address)
        return Report(page_id=page.id, category=category, at=now, component_id=component_id,
                      country=country, reporter=self.keys.key(address, user_agent, now=now),
                      source="web"), page


def _created(counted: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    body = json.dumps({"accepted": True, "counted": counted}).encode()
    return ({"type": "http.response.start", "status": 201, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]},
        {"type": "http.response.body", "body": body})


# The answers to an accepted report are built once: this path runs thousands of
# times a second during an outage.
_COUNTED, _NOT_COUNTED = _created(True), _created(False)


async def _send_json(send: Send, status: int, doc: dict[str, Any],
                     extra: list[tuple[bytes, bytes]] | None = None, *,
                     ctype: bytes = b"application/json") -> None:
    body = json.dumps(doc).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", ctype), (b"content-length", str(len(body)).encode()),
        *(extra or [])]})
    await send({"type": "http.response.body", "body": body})
