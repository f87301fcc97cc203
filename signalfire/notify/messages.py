"""What a notification says: the webhook payload and the email, per event.

Messages are written when they are sent, from the state of the incident or
component at that moment, so a message that stood in for several quick
updates tells the latest. Everything common to one event is built once and
cached; only the links that belong to one subscriber are put in per message.

Webhook payloads follow Statuspage's webhook shape (``meta``, ``page``, and
``incident``, or ``component`` with ``component_update``), so receivers written
for Statuspage work unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from signalfire.domain.events import EventKind
from signalfire.domain.rules import page_indicator
from signalfire.errors import NotFound
from signalfire.publish import statuspage as sp
from signalfire.store import Store
from signalfire.store.notifications import Delivery

TEMPLATES = Path(__file__).resolve().parent / "templates"
_TOKEN = "@@SUBSCRIBER-TOKEN@@"  # stands for the subscriber's own link token


class LinkTokens:
    """Tokens in subscribers' links (confirm, manage, unsubscribe): the
    subscriber's id and an HMAC of it, so nothing needs storing and nobody can
    guess another subscriber's link."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def token(self, subscriber_id: str) -> str:
        mac = hmac.new(self._secret, subscriber_id.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{subscriber_id}.{mac}"

    def subscriber_id(self, token: str) -> str:
        sid = token.partition(".")[0]
        if not sid or not hmac.compare_digest(self.token(sid), token):
            raise NotFound("this link is not valid (it may have been cut short)",
                           field="token")
        return sid


@dataclass(frozen=True, slots=True)
class Email:
    sender_name: str
    subject: str
    text: str
    html: str
    headers: dict[str, str]


@dataclass(slots=True)
class _EventText:
    page: Any
    subject: str
    text: str  # with _TOKEN where the subscriber's token goes
    html: str
    payload: dict[str, Any]  # without meta


class Messages:
    def __init__(self, store: Store, *, base_url: str, links: LinkTokens,
                 cache_size: int = 64) -> None:
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.links = links
        self._cache: OrderedDict[int, _EventText] = OrderedDict()
        self._cache_size = cache_size
        self._env = Environment(loader=FileSystemLoader(TEMPLATES),
                                autoescape=select_autoescape(["html"]), trim_blocks=True,
                                lstrip_blocks=True)

    # -- links ------------------------------------------------------------------------

    def link(self, action: str, subscriber_id: str | None) -> str:
        token = self.links.token(subscriber_id) if subscriber_id else _TOKEN
        return f"{self.base_url}/subscriptions/{action}?token={token}"

    def _personal(self, text: str, subscriber_id: str | None) -> str:
        return text.replace(_TOKEN, self.links.token(subscriber_id)) if subscriber_id else text

    # -- per delivery -------------------------------------------------------------------

    def webhook_body(self, d: Delivery) -> dict[str, Any]:
        event = self._event(d)
        meta = {"unsubscribe": self.link("unsubscribe", d.subscriber_id) if d.subscriber_id
                else None,
                "documentation": f"{self.base_url}/api/docs",
                "event": d.event_kind.value, "generated_at": sp.ts(d.event_at)}
        return {"meta": meta, **event.payload}

    def email(self, d: Delivery) -> Email:
        event = self._event(d)
        headers: dict[str, str] = {}
        if d.subscriber_id and d.event_kind is not EventKind.SUBSCRIPTION_CONFIRM:
            # RFC 8058: mail clients show an "Unsubscribe" button that POSTs here.
            headers["List-Unsubscribe"] = f"<{self.link('unsubscribe', d.subscriber_id)}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return Email(f"{event.page.name} status", event.subject, self._personal(event.text, d.subscriber_id),
                     self._personal(event.html, d.subscriber_id), headers)

    def chat_text(self, d: Delivery) -> tuple[str, str]:
        """(title, body) for chat and push services."""
        event = self._event(d)
        return event.subject, event.text.split("\n--\n", 1)[0].strip()

    # -- per event ----------------------------------------------------------------------

    def _event(self, d: Delivery) -> _EventText:
        cached = self._cache.get(d.event_id)
        if cached is None:
            cached = self._build(d)
            self._cache[d.event_id] = cached
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return cached

    def _build(self, d: Delivery) -> _EventText:
        page = self.store.get_page(d.page_id)
        components = {c.id: c for c in self.store.list_components(page.id)}
        page_url = f"{self.base_url}/p/{page.slug}"
        context: dict[str, Any] = {"page": page, "page_url": page_url, "kind": d.event_kind,
                                   "manage_url": self.link("manage", None),
                                   "unsubscribe_url": self.link("unsubscribe", None),
                                   "confirm_url": self.link("confirm", None)}
        payload: dict[str, Any] = {}
        if d.event_kind is EventKind.SUBSCRIPTION_CONFIRM:
            subject = f"Confirm your subscription to {page.name} status"
            template = "confirm"
        elif d.event_kind is EventKind.COMPONENT_STATUS:
            component = components.get(d.subject_id)
            if component is None:
                raise NotFound(f"component {d.subject_id!r} is gone", field="component")
            old, new = d.data.get("old_status", ""), d.data.get("new_status",
                                                                 component.status.value)
            payload["component_update"] = {
                "created_at": sp.ts(d.event_at), "new_status": new, "old_status": old,
                "id": f"cu{d.event_id}", "component_id": component.id}
            payload["component"] = sp.component_doc(component)
            subject = f"[{page.name}] {component.name}: {_words(new)}"
            context.update(component=component, old=_words(old), new=_words(new))
            template = "component"
        else:
            incident = self.store.get_incident(d.subject_id)
            doc = sp.incident_doc(incident, components, base_url=page_url)
            payload["incident"] = doc
            latest = incident.updates[0] if incident.updates else None
            status = _words(incident.status.value)
            subject = {
                EventKind.INCIDENT_AUTO_DETECTED: f"Detected automatically: {incident.name}",
                EventKind.INCIDENT_UPDATED: f"Update on {incident.name}: {status}",
                EventKind.INCIDENT_RESOLVED: f"Resolved: {incident.name}",
                EventKind.MAINTENANCE_SCHEDULED: f"Maintenance planned: {incident.name}",
                EventKind.MAINTENANCE_STARTED: f"Maintenance started: {incident.name}",
                EventKind.MAINTENANCE_COMPLETED: f"Maintenance completed: {incident.name}",
            }.get(d.event_kind, f"{incident.name}: {status}")
            subject = f"[{page.name}] {subject}"
            context.update(incident=incident, latest=latest,
                           incident_url=f"{page_url}/incidents/{incident.id}",
                           affected=[components[c].name for c in incident.component_ids
                                     if c in components],
                           status=_words(incident.status.value))
            template = "incident"
        if d.event_kind is not EventKind.SUBSCRIPTION_CONFIRM:
            incidents = self.store.list_incidents(page.id, kind=None, limit=50)
            indicator, description = page_indicator(list(components.values()), [
                i for i in incidents if i.resolved_at is None])
            payload = {"page": {"id": page.id, "status_indicator": indicator,
                                "status_description": description}, **payload}
        text = self._env.get_template(f"{template}.txt").render(context)
        html = self._env.get_template(f"{template}.html").render(context)
        return _EventText(page, subject, text, html, payload)


def _words(status: str) -> str:
    return status.replace("_", " ").capitalize()
