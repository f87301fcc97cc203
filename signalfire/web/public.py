"""The public read side, served straight from rendered bytes.

This sits in front of the FastAPI application as a bare ASGI layer: a GET of a
public document never goes through routing, validation or the database once it
is rendered, which is what keeps the page up when everyone opens it at once.
Every other request falls through to FastAPI.

URLs: the default page lives at ``/``; every page also lives at ``/p/<slug>/``.
"""

from __future__ import annotations

import gzip
import logging
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from signalfire.domain.model import Page
from signalfire.errors import NotFound, SignalfireError
from signalfire.publish.site import Publisher, Rendered
from signalfire.store import Store
from signalfire.web.cache import RenderCache

log = logging.getLogger("signalfire.web")

_NOT_FOUND_HTML = (b"<!doctype html><meta charset=utf-8><title>Not found</title>"
                   b"<p>There is nothing here. <a href='/'>Back to the status page</a>.")


_GZIP_MIN_BYTES = 1024


@dataclass(frozen=True, slots=True)
class Served:
    """A rendered document with its ASGI messages built once, plain and gzipped.

    Under a herd every microsecond per request counts: building headers and
    comparing ETags as bytes, once, keeps the hot path to a dict lookup and
    two ``send`` calls.
    """

    rendered: Rendered
    etag: bytes
    start: dict[str, Any]
    start_gzip: dict[str, Any] | None
    body: dict[str, Any]
    body_gzip: dict[str, Any] | None
    not_modified: dict[str, Any]

    @property
    def topics(self) -> frozenset[str]:
        return self.rendered.topics

    @property
    def max_age_s(self) -> int:
        return self.rendered.max_age_s

    @property
    def status(self) -> int:
        return self.rendered.status

    @staticmethod
    def of(r: Rendered) -> Served:
        etag = r.etag.encode()
        headers = [(b"content-type", r.content_type.encode()), (b"etag", etag),
                   (b"cache-control", b"public, max-age=10")]
        if r.content_type.startswith("text/html"):
            headers.append((b"x-content-type-options", b"nosniff"))
        else:
            # Dashboards and widgets on other sites read the JSON, feeds and badge.
            headers.append((b"access-control-allow-origin", b"*"))
        start_gzip = body_gzip = None
        if len(r.body) >= _GZIP_MIN_BYTES:
            headers.append((b"vary", b"accept-encoding"))
            packed = gzip.compress(r.body, compresslevel=6, mtime=0)
            start_gzip = {"type": "http.response.start", "status": r.status, "headers": [
                *headers, (b"content-encoding", b"gzip"),
                (b"content-length", str(len(packed)).encode())]}
            body_gzip = {"type": "http.response.body", "body": packed}
        start = {"type": "http.response.start", "status": r.status,
                 "headers": [*headers, (b"content-length", str(len(r.body)).encode())]}
        return Served(
            rendered=r, etag=etag, start=start, start_gzip=start_gzip,
            body={"type": "http.response.body", "body": r.body}, body_gzip=body_gzip,
            not_modified={"type": "http.response.start", "status": 304,
                          "headers": [(b"etag", etag)]})


_EMPTY_BODY = {"type": "http.response.body", "body": b""}


class PageDirectory:
    """Which pages exist, by slug, and which one is served at ``/``."""

    def __init__(self, store: Store, default_slug: str | None = None) -> None:
        self.store = store
        self.default_slug = default_slug
        self._lock = threading.Lock()
        self._by_slug: dict[str, Page] | None = None
        self._default: Page | None = None

    def refresh(self) -> None:
        pages = self.store.list_pages()
        by_slug = {p.slug: p for p in pages}
        default = by_slug.get(self.default_slug or "") or (pages[0] if pages else None)
        with self._lock:
            self._by_slug, self._default = by_slug, default

    def lookup(self, slug: str | None) -> Page | None:
        if self._by_slug is None:
            self.refresh()
        if slug is None:
            return self._default
        return (self._by_slug or {}).get(slug)

    def lookup_any(self, ref: str) -> Page | None:
        """A page by slug or by id."""
        page = self.lookup(ref)
        if page is None:
            page = next((p for p in (self._by_slug or {}).values() if p.id == ref), None)
        return page

    @property
    def default_id(self) -> str | None:
        if self._by_slug is None:
            self.refresh()
        return self._default.id if self._default else None


class Documents:
    """Public documents by cache key (``slug|path|history page number``)."""

    def __init__(self, publisher: Publisher, pages: PageDirectory, cache: RenderCache) -> None:
        self.publisher = publisher
        self.pages = pages
        self.cache = cache

    @staticmethod
    def key(slug: str | None, path: str, number: str = "") -> str:
        return f"{slug or ''}|{path}|{number}"

    def render(self, key: str) -> Served:
        slug, path, number = key.split("|")
        page = self.pages.lookup(slug or None)
        if page is None:
            raise NotFound("no such page")
        page_url = self.publisher.page_url(page, self.pages.default_id)
        return Served.of(self.publisher.render(page, path, {"page": number},
                                               page_url=page_url))

    def refresh(self, keys: list[str]) -> None:
        """Render again, right after a write, what the write made stale, so that
        the crowd arriving after an incident is posted never waits for a render."""
        for key in keys:
            generation = self.cache.generation
            try:
                rendered = self.render(key)
            except SignalfireError:
                continue  # gone (a deleted incident): the next request gets its 404
            self.cache.put_if_current(key, rendered, generation)


class PublicSite:
    def __init__(self, app: ASGIApp, *, documents: Documents) -> None:
        self.app = app
        self.documents = documents
        self.publisher = documents.publisher
        self.cache = documents.cache
        self.pages = documents.pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        slug = None
        if path.startswith("/p/"):
            slug, _, rest = path[3:].partition("/")
            path = "/" + rest
        if not self.publisher.is_public_path(path):
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        # Only the history's page number changes a document; any other query
        # (cache busters) maps to the same cached bytes.
        number = ""
        if path == "/history" and query:
            number = parse_qs(query.decode("latin-1")).get("page", [""])[0][:6]
        key = Documents.key(slug, path, number)
        rendered = self.cache.get(key)
        if rendered is None:
            try:
                rendered = await self.cache.get_or_render(key, lambda: self.documents.render(key))
            except NotFound as exc:
                await self._send_error(send, scope, 404, exc.message)
                return
            except SignalfireError as exc:
                await self._send_error(send, scope, exc.status_code, exc.message)
                return
        await self._send(scope, send, rendered)

    async def _send(self, scope: Scope, send: Send, served: Served) -> None:
        gzip_ok = False
        for name, value in scope["headers"]:
            if name == b"if-none-match" and value == served.etag:
                await send(served.not_modified)
                await send(_EMPTY_BODY)
                return
            if name == b"accept-encoding" and b"gzip" in value:
                gzip_ok = True
        if gzip_ok and served.start_gzip is not None:
            start, body = served.start_gzip, served.body_gzip
        else:
            start, body = served.start, served.body
        await send(start)
        await send(_EMPTY_BODY if scope["method"] == "HEAD" else body)

    async def _send_error(self, send: Send, scope: Scope, status: int, reason: str) -> None:
        if scope["path"].endswith(".json"):
            import json

            body = json.dumps({"error": reason, "field": None, "status": status}).encode()
            ctype = b"application/problem+json"
        else:
            body, ctype = _NOT_FOUND_HTML, b"text/html; charset=utf-8"
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", ctype), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
