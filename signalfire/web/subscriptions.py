"""Subscribing by email from the status page, and the links in every message.

- ``POST /api/v1/subscriptions`` (JSON, or the status page's form without
  JavaScript): an address, optionally some components. The answer never says
  whether the address was known already; a confirmation message goes out, and
  nothing else is sent until its link is followed (double opt-in).
- ``/subscriptions/confirm|manage|unsubscribe?token=…``: the links. Links only
  *show* a page on GET, because mail scanners open links on their own; the
  change itself is a POST (one click in a mail client, RFC 8058, or the page's
  button).
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from signalfire.errors import InputError, NotFound, TooManyRequests
from signalfire.publish.html import HtmlRenderer
from signalfire.web.admin import _ERRORS, services

router = APIRouter(responses=_ERRORS, tags=["subscriptions"])

# Deliberately loose: the confirmation message is the real test of an address.
_EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[^@\s<>\"',;]+\.[^@\s<>\"',;]{2,}$")
HONEYPOT = "website"
Token = Annotated[str, Query(max_length=200, description="The token from the link")]


def _html(request: Request) -> HtmlRenderer:
    return request.app.state.services.publisher.html  # type: ignore[no-any-return]


async def _fields(request: Request) -> tuple[dict[str, Any], bool]:
    """The body as fields, and whether it was a form (answered with a redirect)."""
    body = await request.body()
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/x-www-form-urlencoded"):
        try:
            parsed = parse_qs(body.decode(), keep_blank_values=True)
        except UnicodeDecodeError:
            raise InputError("the body is not UTF-8", field="body") from None
        fields: dict[str, Any] = {k: v[0] for k, v in parsed.items() if k != "component"}
        fields["components"] = parsed.get("component")
        return fields, True
    if ctype.startswith("application/json"):
        try:
            doc = json.loads(body or b"{}")
        except ValueError as exc:
            raise InputError(f"malformed JSON: {exc}", field="body") from None
        if not isinstance(doc, dict):
            raise InputError("the body must be an object", field="body")
        return doc, False
    raise InputError("send application/json or a form", field="content-type")


@router.post("/api/v1/subscriptions", status_code=202, responses={
    202: {"description": "A confirmation message is on its way (if the address works)"},
    303: {"description": "Form posts are sent to the page that says so"}},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"type": "object", "additionalProperties": False, "required": ["page", "email"],
                   "properties": {"page": {"type": "string", "maxLength": 64},
                                  "email": {"type": "string", "maxLength": 254},
                                  "components": {"type": "array", "maxItems": 200,
                                                 "items": {"type": "string", "maxLength": 32}},
                                  "website": {"type": "string", "maxLength": 200}}}}}}})
async def subscribe(request: Request) -> Response:
    """Subscribe an email address to a page's incidents and maintenance."""
    svc = services(request)
    if not request.app.state.email_subscriptions:
        raise InputError("this server sends no email (no SMTP server is set up); follow "
                         "the page's Atom feed instead", field="email")
    fields, is_form = await _fields(request)
    unknown = set(fields) - {"page", "email", "components", HONEYPOT}
    if unknown:
        raise InputError(f"unknown field {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    page_ref = fields.get("page")
    if not isinstance(page_ref, str) or not page_ref:
        raise InputError("field required", field="page")
    page = svc.pages.lookup_any(page_ref[:64])
    if page is None:
        raise InputError(f"no page {page_ref[:64]!r}", field="page")
    address = fields.get("email")
    if not isinstance(address, str) or not _EMAIL.match(address.strip()) or len(address) > 254:
        raise InputError("not an email address", field="email")
    components = fields.get("components")
    if components is not None and (not isinstance(components, list) or not all(
            isinstance(c, str) for c in components) or len(components) > 200):
        raise InputError("must be a list of component ids", field="components")
    limiter = request.app.state.subscribe_limiter
    if not limiter.allow(request.client.host if request.client else ""):
        raise TooManyRequests("too many subscriptions from this address; try again in a "
                              "minute")
    if not fields.get(HONEYPOT):  # bots fill the hidden field: look accepted, do nothing
        svc.store.subscribe(page.id, kind="email", address=address.strip().lower(),
                            component_ids=components or None, now=svc.clock())
        request.app.state.wake_dispatcher()
    if is_form:
        return RedirectResponse(f"/subscriptions/pending?page={page.slug}", status_code=303)
    return Response('{"pending":true}', status_code=202, media_type="application/json")


@router.get("/subscriptions/pending", response_class=HTMLResponse, include_in_schema=False)
def pending(request: Request, page: Annotated[str, Query(max_length=64)]) -> HTMLResponse:
    svc = services(request)
    found = svc.pages.lookup_any(page)
    if found is None:
        raise NotFound(f"no page {page!r}", field="page")
    return HTMLResponse(_html(request).subscription_page(
        found, base=svc.publisher.page_url(found, svc.pages.default_id), state="pending"))


def _page_of(request: Request, token: str) -> tuple[Any, Any, dict[str, Any]]:
    svc = services(request)
    sid = request.app.state.link_tokens.subscriber_id(token)
    subscriber = svc.store.get_subscriber(sid)
    page = svc.store.get_page(subscriber.page_id)
    base = svc.publisher.page_url(page, svc.pages.default_id)
    links = {"manage_url": f"/subscriptions/manage?token={token}",
             "unsubscribe_url": f"/subscriptions/unsubscribe?token={token}"}
    return subscriber, page, {"base": base, **links}


@router.get("/subscriptions/confirm", response_class=HTMLResponse, include_in_schema=False)
def confirm(request: Request, token: Token) -> HTMLResponse:
    svc = services(request)
    subscriber, page, ctx = _page_of(request, token)
    # Confirming is safe to do on GET: a scanner that follows the link only
    # confirms what the owner asked for, and the owner can leave in one click.
    subscriber = svc.store.confirm_subscriber(subscriber.id, now=svc.clock())
    names = {c.id: c.name for c in svc.store.list_components(page.id)}
    return HTMLResponse(_html(request).subscription_page(
        page, state="confirmed", subscriber=subscriber,
        chosen=[names.get(c, c) for c in subscriber.component_ids or ()], **ctx))


@router.get("/subscriptions/manage", response_class=HTMLResponse, include_in_schema=False)
def manage(request: Request, token: Token) -> HTMLResponse:
    subscriber, page, ctx = _page_of(request, token)
    return HTMLResponse(_html(request).subscription_page(
        page, state="manage", subscriber=subscriber,
        components=services(request).store.list_components(page.id), **ctx))


@router.post("/subscriptions/manage", response_class=HTMLResponse, include_in_schema=False)
async def save(request: Request, token: Token) -> HTMLResponse:
    svc = services(request)
    subscriber, page, ctx = _page_of(request, token)
    fields, _ = await _fields(request)
    chosen = fields.get("components") or []
    some = fields.get("scope") == "some" and chosen
    subscriber = svc.store.subscribe(page.id, kind=subscriber.kind, address=subscriber.address,
                                     component_ids=chosen if some else None, now=svc.clock(),
                                     confirmed=True)
    return HTMLResponse(_html(request).subscription_page(
        page, state="saved", subscriber=subscriber,
        components=svc.store.list_components(page.id), **ctx))


@router.get("/subscriptions/unsubscribe", response_class=HTMLResponse, include_in_schema=False)
def unsubscribe_page(request: Request, token: Token) -> HTMLResponse:
    subscriber, page, ctx = _page_of(request, token)
    return HTMLResponse(_html(request).subscription_page(
        page, state="unsubscribe", subscriber=subscriber, **ctx))


@router.post("/subscriptions/unsubscribe", include_in_schema=False)
async def unsubscribe(request: Request, token: Token) -> Response:
    svc = services(request)
    try:
        subscriber, page, ctx = _page_of(request, token)
    except NotFound:
        # Already gone (a second click, a mail client retrying): that is success.
        return Response("unsubscribed\n", media_type="text/plain")
    svc.store.unsubscribe(subscriber.id)
    if (await request.body()).strip() == b"List-Unsubscribe=One-Click":
        return Response("unsubscribed\n", media_type="text/plain")  # RFC 8058, from a mail client
    return HTMLResponse(_html(request).subscription_page(page, state="unsubscribed", **ctx))
