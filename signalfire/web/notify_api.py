"""Admin API for who hears what: subscribers, operator channels, deliveries.

Secrets are never shown back: webhook signing secrets once, when made; channel
URLs (which carry chat tokens) always masked.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field, HttpUrl, StringConstraints

from signalfire.domain.events import EventKind
from signalfire.errors import InputError
from signalfire.notify.signing import mask, new_secret
from signalfire.publish import statuspage as sp
from signalfire.store.notifications import Channel, Subscriber
from signalfire.web.admin import _ERRORS, Svc, require_token
from signalfire.web.schemas import Name, Strict

router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_token)], responses=_ERRORS,
                   tags=["notifications"])

ComponentId = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class SubscriberIn(Strict):
    kind: Literal["email", "webhook"]
    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3,
                                              max_length=2000)] = Field(
        description="the email address, or the webhook's https URL")
    components: list[ComponentId] | None = Field(
        default=None, max_length=200, description="only these components; null: all")
    confirmed: bool = Field(default=False, description="an email address you have consent "
                                                       "for (skips the confirmation message)")


class ChannelIn(Strict):
    name: Name
    kind: Literal["apprise", "webhook", "email"]
    target: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3,
                                             max_length=2000)] = Field(
        description="an Apprise URL (slack://…, tgram://…, ntfy://…), a webhook URL or an "
                    "email address")
    events: list[EventKind] | None = Field(default=None, description="null: every event")


class SubscriberOut(BaseModel):
    id: str
    kind: str
    address: str
    components: list[str] | None
    created_at: str
    confirmed_at: str | None
    disabled_at: str | None
    last_error: str | None
    secret: str | None = Field(default=None, description="a webhook's signing secret; shown "
                                                         "once, when it is made")


class ChannelOut(BaseModel):
    id: str
    name: str
    kind: str
    target: str = Field(description="masked: chat URLs carry tokens")
    events: list[str] | None
    created_at: str
    disabled_at: str | None
    last_error: str | None
    secret: str | None = None


class DeliveriesOut(BaseModel):
    counts: dict[str, int]
    subscribers: int
    failing_subscribers: list[SubscriberOut]
    failing_channels: list[ChannelOut]


def _subscriber_out(s: Subscriber, *, secret: str | None = None) -> dict[str, Any]:
    return {"id": s.id, "kind": s.kind,
            "address": s.address if s.kind == "email" else mask(s.address),
            "components": list(s.component_ids) if s.component_ids is not None else None,
            "created_at": sp.ts(s.created_at), "confirmed_at": sp.ts(s.confirmed_at),
            "disabled_at": sp.ts(s.disabled_at), "last_error": s.last_error, "secret": secret}


def _channel_out(c: Channel, *, secret: str | None = None) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "kind": c.kind,
            "target": c.target if c.kind == "email" else mask(c.target),
            "events": list(c.events) if c.events is not None else None,
            "created_at": sp.ts(c.created_at), "disabled_at": sp.ts(c.disabled_at),
            "last_error": c.last_error, "secret": secret}


def _check_url(value: str, field: str) -> None:
    try:
        url = HttpUrl(value)
    except ValueError:
        raise InputError("not an http(s) URL", field=field) from None
    if url.scheme not in ("http", "https"):
        raise InputError("not an http(s) URL", field=field)


@router.get("/pages/{page}/subscribers", response_model=list[SubscriberOut])
def list_subscribers(page: str, svc: Svc, kind: Literal["email", "webhook"] | None = None,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                     offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> list[dict[str, Any]]:
    """Subscribers of a page, oldest first, with the last delivery error of each."""
    p = svc.store.get_page(page)
    return [_subscriber_out(s) for s in svc.store.list_subscribers(p.id, kind=kind, limit=limit,
                                                                   offset=offset)]


@router.post("/pages/{page}/subscribers", response_model=SubscriberOut, status_code=201)
def add_subscriber(page: str, body: SubscriberIn, svc: Svc, request: Request) -> dict[str, Any]:
    """Add an email subscriber (asked to confirm unless ``confirmed``) or a webhook,
    whose signing secret is in this answer and never again."""
    p = svc.store.get_page(page)
    secret = None
    if body.kind == "webhook":
        _check_url(body.address, "address")
        secret = new_secret()
    s = svc.store.subscribe(p.id, kind=body.kind, address=body.address, now=svc.clock(),
                            component_ids=body.components, secret=secret,
                            confirmed=body.confirmed or body.kind == "webhook")
    request.app.state.wake_dispatcher()
    return _subscriber_out(s, secret=secret)


@router.delete("/subscribers/{subscriber_id}", status_code=204)
def remove_subscriber(subscriber_id: str, svc: Svc) -> Response:
    svc.store.unsubscribe(subscriber_id)
    return Response(status_code=204)


@router.get("/pages/{page}/channels", response_model=list[ChannelOut])
def list_channels(page: str, svc: Svc) -> list[dict[str, Any]]:
    """The operators' channels, URLs masked, with each one's last error."""
    p = svc.store.get_page(page)
    return [_channel_out(c) for c in svc.store.list_channels(p.id)]


@router.post("/pages/{page}/channels", response_model=ChannelOut, status_code=201)
def add_channel(page: str, body: ChannelIn, svc: Svc) -> dict[str, Any]:
    """An operator channel: it hears every event (automatic incidents waiting for
    confirmation included) unless ``events`` narrows it."""
    p = svc.store.get_page(page)
    secret = None
    if body.kind == "webhook":
        _check_url(body.target, "target")
        secret = new_secret()
    elif body.kind == "apprise":
        import apprise

        if apprise.Apprise.instantiate(body.target) is None:
            raise InputError("not a URL Apprise knows (see its list of services)",
                             field="target")
    c = svc.store.create_channel(p.id, name=body.name, kind=body.kind, target=body.target,
                                 now=svc.clock(), secret=secret,
                                 events=None if body.events is None else [e.value for e in
                                                                          body.events])
    return _channel_out(c, secret=secret)


@router.delete("/channels/{channel_id}", status_code=204)
def remove_channel(channel_id: str, svc: Svc) -> Response:
    svc.store.delete_channel(channel_id)
    return Response(status_code=204)


@router.post("/channels/{channel_id}/enable", response_model=ChannelOut)
def enable_channel(channel_id: str, svc: Svc) -> dict[str, Any]:
    """Start a channel again after a permanent failure stopped it."""
    return _channel_out(svc.store.enable_channel(channel_id))


@router.get("/pages/{page}/deliveries", response_model=DeliveriesOut)
def deliveries(page: str, svc: Svc) -> dict[str, Any]:
    """How the page's messages fare: counts by status, and who is failing and why."""
    p = svc.store.get_page(page)
    failing = svc.store.list_subscribers(p.id, failing=True, limit=100)
    return {"counts": svc.store.delivery_counts(p.id),
            "subscribers": svc.store.count_subscribers(p.id),
            "failing_subscribers": [_subscriber_out(s) for s in failing],
            "failing_channels": [_channel_out(c) for c in svc.store.list_channels(p.id)
                                 if c.last_error]}
