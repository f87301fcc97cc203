"""Subscribers, operator channels and the notification outbox.

The outbox has two stages. An *event* row is written in the transaction of the
change it tells of (``_emit``), so nothing is committed without its
notifications. The dispatcher then *fans out* each event into one *delivery*
per subscriber or channel that wants it (one ``INSERT … SELECT``, however many
subscribers), and *claims* due deliveries with a conditional update that only
one dispatcher can win, sends them, and records the outcome.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, delete, exists, func, insert, literal, or_, select, update

from signalfire.domain.events import Audience, EventKind, Interest, coalesce_key, hears, holds
from signalfire.errors import InputError, NotFound
from signalfire.store import schema as t

if TYPE_CHECKING:
    from signalfire.store.store import Store

SUBSCRIBER_KINDS = ("email", "webhook")
CHANNEL_KINDS = ("apprise", "webhook", "email")


@dataclass(frozen=True, slots=True)
class Subscriber:
    id: str
    page_id: str
    kind: str
    address: str
    secret: str | None
    component_ids: tuple[str, ...] | None  # None: every component
    created_at: datetime
    confirmed_at: datetime | None
    disabled_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Channel:
    id: str
    page_id: str
    name: str
    kind: str
    target: str
    secret: str | None
    events: tuple[str, ...] | None
    created_at: datetime
    disabled_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Delivery:
    """A claimed message, with what it takes to send it."""

    id: int
    event_id: int
    kind: str
    attempts: int
    event_kind: EventKind
    page_id: str
    subject_id: str
    data: dict[str, Any]
    event_at: datetime
    subscriber_id: str | None
    channel_id: str | None
    address: str  # email address, webhook URL or Apprise URL
    secret: str | None


class NotificationsMixin:
    # -- subscribers ----------------------------------------------------------------------

    def subscribe(self: Store, page_id: str, *, kind: str, address: str, now: datetime,
                  component_ids: Sequence[str] | None = None, secret: str | None = None,
                  confirmed: bool = False) -> Subscriber:
        """Add a subscriber, or renew one with the same address (its choice of
        components is replaced). An email needs confirming by its owner: a
        confirmation message goes out in the same transaction."""
        if kind not in SUBSCRIBER_KINDS:
            raise InputError(f"unknown subscriber kind {kind!r}", field="kind")
        if component_ids:
            known = {c.id for c in self.list_components(page_id)}
            for i, cid in enumerate(component_ids):
                if cid not in known:
                    raise InputError(f"no component {cid!r} on this page",
                                     field=f"components[{i}]")
        s = t.subscribers.c
        with self._write(public=False) as conn:
            row = conn.execute(select(s.id, s.confirmed_at, s.disabled_at).where(
                s.page_id == page_id, s.kind == kind, s.address == address)).first()
            if row is None:
                sid = self.new_id()
                conn.execute(insert(t.subscribers).values(
                    id=sid, page_id=page_id, kind=kind, address=address, secret=secret,
                    all_components=component_ids is None, created_at=now,
                    confirmed_at=now if confirmed else None))
                needs_confirming = not confirmed
            else:
                sid = row.id
                # A renewed email that was never confirmed (or was stopped) is
                # asked again; a confirmed one just changes its components.
                needs_confirming = not confirmed and (row.confirmed_at is None
                                                      or row.disabled_at is not None)
                conn.execute(update(t.subscribers).where(s.id == sid).values(
                    all_components=component_ids is None, disabled_at=None, last_error=None,
                    confirmed_at=now if confirmed else (None if needs_confirming
                                                        else row.confirmed_at),
                    **({"secret": secret} if secret else {})))
            conn.execute(delete(t.subscriber_components)
                         .where(t.subscriber_components.c.subscriber_id == sid))
            if component_ids:
                conn.execute(insert(t.subscriber_components), [
                    {"subscriber_id": sid, "component_id": c} for c in dict.fromkeys(component_ids)])
            if needs_confirming and kind == "email":
                self._emit(conn, page_id, EventKind.SUBSCRIPTION_CONFIRM, sid, (), {},
                           now=now, audience=Audience.DIRECT)
        return self.get_subscriber(sid)

    def confirm_subscriber(self: Store, subscriber_id: str, *, now: datetime) -> Subscriber:
        s = t.subscribers.c
        with self._write(public=False) as conn:
            found = conn.execute(update(t.subscribers).where(s.id == subscriber_id).values(
                confirmed_at=func.coalesce(s.confirmed_at, now), disabled_at=None)).rowcount
        if found != 1:
            raise NotFound("no such subscription (it may have been cancelled)",
                           field="subscriber_id")
        return self.get_subscriber(subscriber_id)

    def unsubscribe(self: Store, subscriber_id: str) -> None:
        """Forget a subscriber and everything not yet sent to it."""
        with self._write(public=False) as conn:
            if conn.execute(delete(t.subscribers)
                            .where(t.subscribers.c.id == subscriber_id)).rowcount != 1:
                raise NotFound("no such subscription (it may have been cancelled)",
                               field="subscriber_id")

    def get_subscriber(self: Store, subscriber_id: str) -> Subscriber:
        with self._read() as conn:
            found = self._subscribers(conn, t.subscribers.c.id == subscriber_id)
        if not found:
            raise NotFound(f"no subscriber {subscriber_id!r}", field="subscriber_id")
        return found[0]

    def list_subscribers(self: Store, page_id: str, *, kind: str | None = None,
                         failing: bool = False, limit: int = 100,
                         offset: int = 0) -> list[Subscriber]:
        """A page's subscribers, oldest first; ``failing``: only those with a
        delivery error on record."""
        s = t.subscribers.c
        where = [s.page_id == page_id] + ([s.kind == kind] if kind else []) + (
            [s.last_error.is_not(None)] if failing else [])
        with self._read() as conn:
            return self._subscribers(conn, and_(*where), limit=limit, offset=offset)

    def count_subscribers(self: Store, page_id: str, *, active_only: bool = True) -> int:
        s = t.subscribers.c
        q = select(func.count()).select_from(t.subscribers).where(s.page_id == page_id)
        if active_only:
            q = q.where(s.disabled_at.is_(None),
                        or_(s.kind != "email", s.confirmed_at.is_not(None)))
        with self._read() as conn:
            return int(conn.execute(q).scalar_one())

    def _subscribers(self: Store, conn: Connection, where: Any, *, limit: int = 1,
                     offset: int = 0) -> list[Subscriber]:
        s = t.subscribers.c
        rows = conn.execute(select(t.subscribers).where(where).order_by(s.created_at, s.id)
                            .limit(limit).offset(offset)).all()
        picked: dict[str, list[str]] = {r.id: [] for r in rows}
        if picked:
            sc = t.subscriber_components.c
            for r in conn.execute(select(sc.subscriber_id, sc.component_id)
                                  .where(sc.subscriber_id.in_(list(picked)))):
                picked[r.subscriber_id].append(r.component_id)
        return [Subscriber(r.id, r.page_id, r.kind, r.address, r.secret,
                           None if r.all_components else tuple(sorted(picked[r.id])),
                           r.created_at, r.confirmed_at, r.disabled_at, r.last_error)
                for r in rows]

    # -- operator channels ----------------------------------------------------------------

    def create_channel(self: Store, page_id: str, *, name: str, kind: str, target: str,
                       now: datetime, secret: str | None = None,
                       events: Iterable[str] | None = None) -> Channel:
        if kind not in CHANNEL_KINDS:
            raise InputError(f"unknown channel kind {kind!r} (known: {', '.join(CHANNEL_KINDS)})",
                             field="kind")
        kinds = None if events is None else sorted(set(events))
        for i, e in enumerate(kinds or []):
            if e not in EventKind.__members__.values():
                raise InputError(f"unknown event {e!r}", field=f"events[{i}]")
        cid = self.new_id()
        c = t.notify_channels.c
        with self._write(public=False) as conn:
            if conn.execute(select(c.id).where(c.page_id == page_id, c.name == name)).first():
                raise InputError(f"a channel named {name!r} exists already", field="name")
            conn.execute(insert(t.notify_channels).values(
                id=cid, page_id=page_id, name=name, kind=kind, target=target, secret=secret,
                events=kinds, created_at=now))
        return self.get_channel(cid)

    def get_channel(self: Store, channel_id: str) -> Channel:
        with self._read() as conn:
            row = conn.execute(select(t.notify_channels)
                               .where(t.notify_channels.c.id == channel_id)).first()
        if row is None:
            raise NotFound(f"no channel {channel_id!r}", field="channel_id")
        return _channel(row)

    def list_channels(self: Store, page_id: str) -> list[Channel]:
        c = t.notify_channels.c
        with self._read() as conn:
            return [_channel(r) for r in conn.execute(
                select(t.notify_channels).where(c.page_id == page_id).order_by(c.name))]

    def delete_channel(self: Store, channel_id: str) -> None:
        with self._write(public=False) as conn:
            if conn.execute(delete(t.notify_channels)
                            .where(t.notify_channels.c.id == channel_id)).rowcount != 1:
                raise NotFound(f"no channel {channel_id!r}", field="channel_id")

    def enable_channel(self: Store, channel_id: str) -> Channel:
        with self._write(public=False) as conn:
            conn.execute(update(t.notify_channels).where(t.notify_channels.c.id == channel_id)
                         .values(disabled_at=None, last_error=None))
        return self.get_channel(channel_id)

    # -- the outbox: events ---------------------------------------------------------------

    def _emit(self: Store, conn: Connection, page_id: str, kind: EventKind, subject_id: str,
              component_ids: Iterable[str], data: dict[str, Any], *, now: datetime,
              audience: Audience = Audience.PUBLIC) -> None:
        """Record an event in the caller's transaction."""
        conn.execute(insert(t.notify_events).values(
            page_id=page_id, kind=kind.value, audience=audience.value, subject_id=subject_id,
            component_ids=sorted(set(component_ids)), data=data, created_at=now))

    def emit(self: Store, page_id: str, kind: EventKind, subject_id: str, *, now: datetime,
             component_ids: Iterable[str] = (), data: dict[str, Any] | None = None,
             audience: Audience = Audience.PUBLIC) -> None:
        """Record an event in a transaction of its own (for changes made elsewhere)."""
        with self._write(public=False) as conn:
            self._emit(conn, page_id, kind, subject_id, component_ids, data or {}, now=now,
                       audience=audience)

    def pending_events(self: Store) -> int:
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(t.notify_events).where(
                t.notify_events.c.fanned_out_at.is_(None))).scalar_one())

    def fan_out(self: Store, *, now: datetime, hold_s: float = 0.0, limit: int = 20) -> int:
        """Turn waiting events into deliveries; returns how many events it took.

        Each event is taken with a conditional update, so two dispatchers never
        fan one out twice; its deliveries are written in the same transaction."""
        e = t.notify_events.c
        taken = 0
        with self._write(public=False) as conn:
            events = conn.execute(select(t.notify_events).where(e.fanned_out_at.is_(None))
                                  .order_by(e.id).limit(limit)).all()
            for ev in events:
                claimed = conn.execute(update(t.notify_events).where(
                    e.id == ev.id, e.fanned_out_at.is_(None)).values(fanned_out_at=now)).rowcount
                if claimed != 1:
                    continue
                taken += 1
                self._fan_out_one(conn, ev, now=now, hold_s=hold_s)
        return taken

    def _fan_out_one(self: Store, conn: Connection, ev: Any, *, now: datetime,
                     hold_s: float) -> None:
        kind, audience = EventKind(ev.kind), Audience(ev.audience)
        key = coalesce_key(kind, ev.subject_id)
        not_before = now + timedelta(seconds=hold_s) if holds(kind) else now
        d, s = t.deliveries.c, t.subscribers.c
        values = {"event_id": ev.id, "coalesce_key": key, "status": "pending", "attempts": 0,
                  "not_before": not_before, "created_at": now}
        if audience is Audience.DIRECT:  # a confirmation: to that one subscriber
            conn.execute(insert(t.deliveries).from_select(
                ["event_id", "subscriber_id", "kind", "coalesce_key", "status", "attempts",
                 "not_before", "created_at"],
                select(literal(ev.id), s.id, s.kind, literal(key), literal("pending"),
                       literal(0), literal(now, t.UTCDateTime), literal(now, t.UTCDateTime))
                .where(s.id == ev.subject_id)))
            return
        if audience is Audience.PUBLIC:
            sc = t.subscriber_components.c
            wanted = [s.page_id == ev.page_id, s.disabled_at.is_(None),
                      or_(s.kind != "email", s.confirmed_at.is_not(None))]
            if ev.component_ids:
                wanted.append(or_(s.all_components, exists().where(
                    sc.subscriber_id == s.id, sc.component_id.in_(list(ev.component_ids)))))
            conn.execute(insert(t.deliveries).from_select(
                ["event_id", "subscriber_id", "kind", "coalesce_key", "status", "attempts",
                 "not_before", "created_at"],
                select(literal(ev.id), s.id, s.kind, literal(key), literal("pending"),
                       literal(0), literal(not_before, t.UTCDateTime),
                       literal(now, t.UTCDateTime)).where(*wanted)))
        channel_rows = []
        for ch in self._channels_for(conn, ev.page_id):
            interest = Interest(kinds=None if ch.events is None else frozenset(
                EventKind(k) for k in ch.events), operators=True)
            if hears(interest, kind, audience, ev.component_ids):
                channel_rows.append({**values, "channel_id": ch.id, "kind": ch.kind})
        if channel_rows:
            conn.execute(insert(t.deliveries), channel_rows)
        # Older messages about the same thing not sent yet: the new one says it
        # all, so they are merged into it rather than sent.
        conn.execute(update(t.deliveries).where(
            d.coalesce_key == key, d.status == "pending", d.event_id < ev.id,
            or_(d.claimed_until.is_(None), d.claimed_until < now),
            or_(d.subscriber_id.in_(select(d.subscriber_id).where(d.event_id == ev.id)
                                    .scalar_subquery()),
                d.channel_id.in_(select(d.channel_id).where(d.event_id == ev.id)
                                 .scalar_subquery()))).values(status="merged"))

    def _channels_for(self: Store, conn: Connection, page_id: str) -> list[Channel]:
        c = t.notify_channels.c
        return [_channel(r) for r in conn.execute(select(t.notify_channels).where(
            c.page_id == page_id, c.disabled_at.is_(None)))]

    # -- the outbox: deliveries -----------------------------------------------------------

    def claim_deliveries(self: Store, worker: str, *, now: datetime, limit: int = 200,
                         lease_s: float = 60.0, kind: str | None = None) -> list[Delivery]:
        """Take up to ``limit`` due deliveries for ``worker`` for ``lease_s``.

        One statement: on PostgreSQL the candidates are locked with SKIP LOCKED;
        on SQLite the single writer serialises claims. Either way the update's
        own condition decides, so a row goes to one dispatcher only. A claim that
        lapses (its dispatcher died) makes the row due again."""
        d = t.deliveries.c
        due = select(d.id).where(
            d.status == "pending", d.not_before <= now,
            or_(d.claimed_until.is_(None), d.claimed_until < now)).order_by(d.id).limit(limit)
        if kind is not None:  # one stream per channel kind: slow email never holds up webhooks
            due = due.where(d.kind == kind)
        if self.is_sqlite:
            picked = d.id.in_(due.scalar_subquery())
        else:
            # A CTE, not ``IN (subquery)``: PostgreSQL may run a LIMIT … SKIP LOCKED
            # subquery again for every row it updates, claiming far more than
            # ``limit`` rows (all of them, in a test), which a crash then repeats.
            chosen = due.with_for_update(skip_locked=True).cte("due")
            picked = d.id == chosen.c.id
        until = now + timedelta(seconds=lease_s)
        with self._write(public=False) as conn:
            ids = [r.id for r in conn.execute(
                update(t.deliveries).where(
                    picked, d.status == "pending",
                    or_(d.claimed_until.is_(None), d.claimed_until < now))
                .values(claimed_by=worker, claimed_until=until, attempts=d.attempts + 1)
                .returning(d.id))]
            if not ids:
                return []
            return self._delivery_rows(conn, ids)

    def _delivery_rows(self: Store, conn: Connection, ids: list[int]) -> list[Delivery]:
        d, e, s, c = (t.deliveries.c, t.notify_events.c, t.subscribers.c, t.notify_channels.c)
        q = (select(d.id, d.event_id, d.kind, d.attempts, d.subscriber_id, d.channel_id,
                    e.kind.label("event_kind"), e.page_id, e.subject_id, e.data,
                    e.created_at.label("event_at"), s.address.label("s_address"),
                    s.secret.label("s_secret"), c.target.label("c_target"),
                    c.secret.label("c_secret"))
             .select_from(t.deliveries.join(t.notify_events, d.event_id == e.id)
                          .outerjoin(t.subscribers, d.subscriber_id == s.id)
                          .outerjoin(t.notify_channels, d.channel_id == c.id))
             .where(d.id.in_(ids)).order_by(d.id))
        return [Delivery(r.id, r.event_id, r.kind, r.attempts, EventKind(r.event_kind),
                         r.page_id, r.subject_id, r.data or {}, r.event_at, r.subscriber_id,
                         r.channel_id, r.s_address if r.subscriber_id else r.c_target,
                         r.s_secret if r.subscriber_id else r.c_secret)
                for r in conn.execute(q)]

    def finish_deliveries(self: Store, worker: str, *, now: datetime,
                          sent: Sequence[int] = (),
                          retry: Sequence[tuple[int, str, datetime]] = (),
                          failed: Sequence[tuple[int, str, bool]] = ()) -> None:
        """Record outcomes of ``worker``'s claims in one transaction: sent ids;
        (id, error, when) to try again; (id, error, permanent) that gave up. A
        permanent failure stops that subscriber or channel and keeps the error
        for the operator to see."""
        d = t.deliveries.c
        mine = d.claimed_by == worker
        with self._write(public=False) as conn:
            if sent:
                conn.execute(update(t.deliveries).where(d.id.in_(list(sent)), mine).values(
                    status="sent", sent_at=now, claimed_until=None, last_error=None))
            for did, error, when in retry:
                conn.execute(update(t.deliveries).where(d.id == did, mine).values(
                    not_before=when, claimed_until=None, last_error=error[:2000]))
            for did, error, permanent in failed:
                row = conn.execute(update(t.deliveries).where(d.id == did, mine).values(
                    status="failed", claimed_until=None, last_error=error[:2000])
                    .returning(d.subscriber_id, d.channel_id)).first()
                if row is None:
                    continue
                target = ((t.subscribers, row.subscriber_id) if row.subscriber_id
                          else (t.notify_channels, row.channel_id))
                values: dict[str, Any] = {"last_error": error[:2000]}
                if permanent:
                    values["disabled_at"] = now
                conn.execute(update(target[0]).where(target[0].c.id == target[1])
                             .values(**values))

    def delivery_counts(self: Store, page_id: str | None = None) -> dict[str, int]:
        """Deliveries by status (pending, sent, failed, merged)."""
        d, e = t.deliveries.c, t.notify_events.c
        q = select(d.status, func.count()).group_by(d.status)
        if page_id is not None:
            q = q.select_from(t.deliveries.join(t.notify_events, d.event_id == e.id)).where(
                e.page_id == page_id)
        with self._read() as conn:
            return {status: int(n) for status, n in conn.execute(q)}


def _channel(r: Any) -> Channel:
    return Channel(r.id, r.page_id, r.name, r.kind, r.target, r.secret,
                   None if r.events is None else tuple(r.events), r.created_at,
                   r.disabled_at, r.last_error)
