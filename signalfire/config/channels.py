"""Operator channels in the page file: the ``channels`` key of a page.

::

    channels:
      - name: ops chat
        kind: apprise                      # or webhook, email
        target: slack://T000/B000/XXXX     # any Apprise URL, an http(s) URL, an address
        events: [incident.auto_detected, incident.created, incident.resolved]
      - name: pager bridge
        kind: webhook
        target: https://hooks.example.com/signalfire
        secret: whsec_…                    # optional: the signing secret to use

A channel hears every event unless ``events`` narrows it, including
automatic incidents that wait for a person's confirmation. Channels the file
no longer names are kept (and reported), like components.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator, model_validator

from signalfire.config.spec import Spec
from signalfire.domain.events import EventKind

if TYPE_CHECKING:
    from signalfire.config.pagefile import ApplyReport, PageSpec
    from signalfire.store import Store

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]{2,}$")


class ChannelSpec(Spec):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: Literal["apprise", "webhook", "email"]
    target: Annotated[str, Field(min_length=3, max_length=2000)]
    events: list[Annotated[EventKind, Field(strict=False)]] | None = None
    secret: Annotated[str, Field(pattern=r"^whsec_[A-Za-z0-9+/=]{16,}$")] | None = None

    @field_validator("target")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _check_target(self) -> ChannelSpec:
        if self.kind == "webhook" and not self.target.startswith(("http://", "https://")):
            raise ValueError("a webhook's target must be an http(s) URL")
        if self.kind == "email" and not _EMAIL.match(self.target):
            raise ValueError("an email channel's target must be an email address")
        if self.kind == "apprise":
            import apprise

            if apprise.Apprise.instantiate(self.target) is None:
                raise ValueError("not a URL Apprise knows (see its list of services)")
        if self.secret is not None and self.kind != "webhook":
            raise ValueError("only webhooks have a secret")
        return self


def apply_channels(store: Store, spec: PageSpec, page_id: str, now: datetime,
                   report: ApplyReport) -> None:
    from signalfire.notify.signing import new_secret

    existing = {c.name: c for c in store.list_channels(page_id)}
    for ch in spec.channels:
        events = None if ch.events is None else tuple(sorted(e.value for e in ch.events))
        have = existing.pop(ch.name, None)
        label = f"channel {ch.name!r} on page {spec.slug!r}"
        if have is not None:
            same = (have.kind == ch.kind and have.target == ch.target and have.events == events
                    and (ch.secret is None or have.secret == ch.secret))
            if same:
                continue
            store.delete_channel(have.id)
        secret = ch.secret or (new_secret() if ch.kind == "webhook" else None)
        store.create_channel(page_id, name=ch.name, kind=ch.kind, target=ch.target, now=now,
                             secret=secret, events=events)
        (report.updated if have is not None else report.created).append(label)
    report.kept.extend(f"channel {name!r} on page {spec.slug!r} (not in the file)"
                       for name in existing)
