"""Incidents, their updates, and scheduled maintenance (stored as incidents of kind
``maintenance``, as Statuspage does)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, func, insert, select, update

from signalfire.domain.events import Audience, EventKind
from signalfire.domain.model import AffectedComponent, Incident, IncidentUpdate
from signalfire.domain.rules import (
    check_incident_transition,
    check_maintenance_transition,
    due_maintenance_status,
    impact_for_components,
)
from signalfire.domain.status import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus
from signalfire.errors import InputError, NotFound, TransitionError
from signalfire.store import schema as t

if TYPE_CHECKING:
    from signalfire.store.store import Store

AUTO_BODY = {
    MaintenanceStatus.IN_PROGRESS: "Scheduled maintenance is currently in progress.",
    MaintenanceStatus.COMPLETED: "The scheduled maintenance has been completed.",
}


def _update_event(status: IncidentStatus | MaintenanceStatus) -> EventKind:
    return {IncidentStatus.RESOLVED: EventKind.INCIDENT_RESOLVED,
            MaintenanceStatus.IN_PROGRESS: EventKind.MAINTENANCE_STARTED,
            MaintenanceStatus.COMPLETED: EventKind.MAINTENANCE_COMPLETED,
            }.get(status, EventKind.INCIDENT_UPDATED)


def _status_of(kind: str, value: str) -> IncidentStatus | MaintenanceStatus:
    return MaintenanceStatus(value) if kind == "maintenance" else IncidentStatus(value)


class IncidentsMixin:
    # -- writes -----------------------------------------------------------------

    def create_incident(
        self: Store, page_id: str, *, name: str, status: IncidentStatus, body: str,
        now: datetime, impact: Impact | None = None,
        components: Mapping[str, ComponentStatus] | None = None,
        auto_detected: bool = False, started_at: datetime | None = None,
        published: bool = True, onset_at: datetime | None = None,
        detected_at: datetime | None = None, detection: Mapping[str, Any] | None = None,
    ) -> Incident:
        """Open an incident with its first update and the component statuses it sets, atomically.

        An unpublished incident (an automatic one waiting for a person's
        confirmation) links its components but leaves their public status alone
        until it is confirmed.
        """
        components = dict(components or {})
        self._check_components(page_id, components)
        if impact is None:
            impact = impact_for_components(components.values())
        incident_id = self.new_id()
        with self._write() as conn:
            conn.execute(insert(t.incidents).values(
                id=incident_id, page_id=page_id, kind="incident", name=name,
                status=status.value, impact=impact.value, created_at=now, updated_at=now,
                started_at=started_at or now,
                resolved_at=now if not status.is_open else None,
                monitoring_at=now if status is IncidentStatus.MONITORING else None,
                auto_detected=auto_detected, published=published,
                first_public_update_at=now if published else None,
                onset_at=onset_at, detected_at=detected_at,
                detection=dict(detection) if detection is not None else None))
            self._link_components(conn, incident_id, components)
            self._insert_update(conn, incident_id, status, body, now, now,
                                components if published else {})
            # Subscribers hear of it with the commit; an incident held back for a
            # person's confirmation reaches the operators' channels only.
            self._emit(conn, page_id, EventKind.INCIDENT_CREATED if published
                       else EventKind.INCIDENT_AUTO_DETECTED, incident_id, components, {},
                       now=now, audience=Audience.PUBLIC if published else Audience.OPERATORS)
        return self.get_incident(incident_id)

    def create_maintenance(
        self: Store, page_id: str, *, name: str, body: str, now: datetime,
        scheduled_for: datetime, scheduled_until: datetime,
        component_ids: Sequence[str] = (),
    ) -> Incident:
        if scheduled_until <= scheduled_for:
            raise InputError("scheduled_until must be after scheduled_for", field="scheduled_until")
        linked = {cid: ComponentStatus.UNDER_MAINTENANCE for cid in component_ids}
        self._check_components(page_id, linked)
        incident_id = self.new_id()
        with self._write() as conn:
            conn.execute(insert(t.incidents).values(
                id=incident_id, page_id=page_id, kind="maintenance", name=name,
                status=MaintenanceStatus.SCHEDULED.value, impact=Impact.MAINTENANCE.value,
                created_at=now, updated_at=now, started_at=scheduled_for,
                scheduled_for=scheduled_for, scheduled_until=scheduled_until))
            self._link_components(conn, incident_id, linked)
            self._insert_update(conn, incident_id, MaintenanceStatus.SCHEDULED, body, now, now, {})
            self._emit(conn, page_id, EventKind.MAINTENANCE_SCHEDULED, incident_id, linked, {},
                       now=now)
        # A window entered late (already due) moves on at once.
        self.advance_maintenance(now, only=incident_id)
        return self.get_incident(incident_id)

    def add_update(
        self: Store, incident_id: str, *, status: IncidentStatus | MaintenanceStatus, body: str,
        now: datetime, components: Mapping[str, ComponentStatus] | None = None,
        impact: Impact | None = None,
    ) -> Incident:
        """Post an update: new status, text, and the component statuses it sets, atomically.

        Resolving puts the incident's components back to operational unless the
        update says otherwise or another open incident still holds them;
        starting maintenance puts its components under maintenance.
        """
        current = self.get_incident(incident_id)
        components = dict(components or {})
        if isinstance(current.status, MaintenanceStatus):
            status = MaintenanceStatus(status)
            check_maintenance_transition(current.status, status)
        else:
            if not isinstance(status, IncidentStatus):
                raise InputError(f"{status.value!r} is a maintenance status", field="status")
            check_incident_transition(current.status, status)
        self._check_components(current.page_id, components)
        with self._write() as conn:
            components.update(self._implied_statuses(conn, current, status, components))
            values: dict[str, Any] = {"status": status.value, "updated_at": now}
            if impact is not None:
                values["impact"] = impact.value
            closing = status in (IncidentStatus.RESOLVED, MaintenanceStatus.COMPLETED)
            if closing and current.resolved_at is None:
                values["resolved_at"] = now
            elif status in (IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED,
                            IncidentStatus.MONITORING):
                values["resolved_at"] = None
            if status is IncidentStatus.MONITORING and current.monitoring_at is None:
                values["monitoring_at"] = now
            # Conditional on the status we checked the transition against: if
            # another writer (a second node's maintenance ticker, a colleague)
            # moved the incident meanwhile, this update is refused, not doubled.
            moved = conn.execute(update(t.incidents).where(
                t.incidents.c.id == incident_id,
                t.incidents.c.status == current.status.value).values(**values))
            if moved.rowcount != 1:
                raise TransitionError("the incident changed while this update was made; "
                                      "reload it and try again", field="status")
            self._link_components(conn, incident_id, components)
            self._insert_update(conn, incident_id, status, body, now, now, components)
            if current.dismissed_at is None:
                self._emit(conn, current.page_id, _update_event(status), incident_id,
                           {*current.component_ids, *components}, {}, now=now,
                           audience=Audience.PUBLIC if current.published
                           else Audience.OPERATORS)
        return self.get_incident(incident_id)

    def edit_incident(self: Store, incident_id: str, *, now: datetime, name: str | None = None,
                      impact: Impact | None = None, auto_detected: bool | None = None,
                      scheduled_for: datetime | None = None,
                      scheduled_until: datetime | None = None) -> Incident:
        """Change an incident's own fields without posting an update (a typo, a confirmation)."""
        current = self.get_incident(incident_id)
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = name
        if impact is not None:
            values["impact"] = impact.value
        if auto_detected is not None:
            values["auto_detected"] = auto_detected
        if current.is_maintenance:
            start = scheduled_for or current.scheduled_for
            end = scheduled_until or current.scheduled_until
            if start and end and end <= start:
                raise InputError("scheduled_until must be after scheduled_for",
                                 field="scheduled_until")
            if scheduled_for is not None:
                values["scheduled_for"] = values["started_at"] = scheduled_for
            if scheduled_until is not None:
                values["scheduled_until"] = scheduled_until
        if values:
            with self._write() as conn:
                conn.execute(update(t.incidents).where(t.incidents.c.id == incident_id)
                             .values(**values, updated_at=now))
        return self.get_incident(incident_id)

    def delete_incident(self: Store, incident_id: str, *, now: datetime) -> None:
        """Delete an incident or a maintenance window; a window in progress first
        hands its components back (they were under maintenance only because of it)."""
        current = self.get_incident(incident_id)
        with self._write() as conn:
            if current.status in (MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING):
                for cid, status in self._implied_statuses(
                        conn, current, MaintenanceStatus.COMPLETED, {}).items():
                    self._set_status(conn, cid, status, now)
            conn.execute(delete(t.incidents).where(t.incidents.c.id == incident_id))

    def advance_maintenance(self: Store, now: datetime, *, only: str | None = None) -> list[str]:
        """Move every maintenance window whose time has come; returns the ids moved."""
        q = select(t.incidents.c.id).where(
            t.incidents.c.kind == "maintenance",
            t.incidents.c.status != MaintenanceStatus.COMPLETED.value)
        if only:
            q = q.where(t.incidents.c.id == only)
        with self._read() as conn:
            ids = list(conn.execute(q).scalars())
        moved = []
        for incident_id in ids:
            m = self.get_incident(incident_id)
            due = due_maintenance_status(m, now)
            if due is None:
                continue
            try:
                if due is MaintenanceStatus.COMPLETED and m.status is MaintenanceStatus.SCHEDULED:
                    # A window that passed unseen still opens before it closes, so the
                    # history and the components' status record show it happened.
                    self.add_update(incident_id, status=MaintenanceStatus.IN_PROGRESS,
                                    body=AUTO_BODY[MaintenanceStatus.IN_PROGRESS], now=now)
                self.add_update(incident_id, status=due, body=AUTO_BODY[due], now=now)
            except TransitionError:
                continue  # another node or a person moved it first; nothing to do
            moved.append(incident_id)
        return moved

    def import_incident(
        self: Store, page_id: str, *, imported_from: str, name: str, impact: Impact,
        updates: Sequence[tuple[IncidentStatus, str, datetime]],
        component_ids: Sequence[str] = (),
    ) -> Incident | None:
        """Record a past incident exactly as another page published it; None if already there.

        Component statuses are left alone: the past does not change the present.
        """
        if not updates:
            raise InputError("an imported incident needs at least one update", field="updates")
        with self._read() as conn:
            exists = conn.execute(select(t.incidents.c.id).where(
                t.incidents.c.page_id == page_id,
                t.incidents.c.imported_from == imported_from)).first()
        if exists:
            return None
        ordered = sorted(updates, key=lambda u: u[2])
        final = ordered[-1][0]
        incident_id = self.new_id()
        with self._write() as conn:
            conn.execute(insert(t.incidents).values(
                id=incident_id, page_id=page_id, kind="incident", name=name, status=final.value,
                impact=impact.value, created_at=ordered[0][2], updated_at=ordered[-1][2],
                started_at=ordered[0][2],
                resolved_at=ordered[-1][2] if not final.is_open else None,
                first_public_update_at=ordered[0][2], imported_from=imported_from))
            self._link_components(conn, incident_id, dict.fromkeys(
                component_ids, ComponentStatus.OPERATIONAL))
            for status, body, at in ordered:
                self._insert_update(conn, incident_id, status, body, at, at, {})
        return self.get_incident(incident_id)

    # -- reads ----------------------------------------------------------------

    def get_incident(self: Store, incident_id: str) -> Incident:
        with self._read() as conn:
            row = conn.execute(select(t.incidents).where(t.incidents.c.id == incident_id)).first()
            if row is None:
                raise NotFound(f"no incident {incident_id!r}", field="incident_id")
            return self._hydrate(conn, [row])[0]

    def list_incidents(self: Store, page_id: str, *, kind: str | None = "incident",
                       open_only: bool = False, limit: int | None = None,
                       offset: int = 0, public_only: bool = False) -> list[Incident]:
        """Newest first. ``kind`` is ``incident``, ``maintenance`` or None for both;
        ``public_only`` leaves out what the public must not see (see ``Incident.is_public``)."""
        i = t.incidents.c
        q = select(t.incidents).where(i.page_id == page_id)
        if kind:
            q = q.where(i.kind == kind)
        if public_only:
            q = q.where(i.published.is_(True), i.dismissed_at.is_(None))
        if open_only:
            q = q.where(i.status.not_in(["resolved", "postmortem", "completed"]))
        q = q.order_by(i.started_at.desc(), i.id).offset(offset)
        if limit is not None:
            q = q.limit(limit)
        with self._read() as conn:
            return self._hydrate(conn, list(conn.execute(q)))

    def count_incidents(self: Store, page_id: str, *, kind: str = "incident",
                        public_only: bool = False) -> int:
        i = t.incidents.c
        q = select(func.count()).select_from(t.incidents).where(i.page_id == page_id,
                                                                i.kind == kind)
        if public_only:
            q = q.where(i.published.is_(True), i.dismissed_at.is_(None))
        with self._read() as conn:
            return int(conn.execute(q).scalar_one())

    # -- helpers ----------------------------------------------------------------

    def _check_components(self: Store, page_id: str,
                          components: Mapping[str, ComponentStatus]) -> None:
        if not components:
            return
        with self._read() as conn:
            known = set(conn.execute(select(t.components.c.id).where(
                t.components.c.page_id == page_id,
                t.components.c.id.in_(list(components)))).scalars())
        for cid in components:
            if cid not in known:
                raise InputError(f"no component {cid!r} on this page", field=f"components.{cid}")

    def _implied_statuses(self: Store, conn: Connection, current: Incident,
                          status: IncidentStatus | MaintenanceStatus,
                          given: Mapping[str, ComponentStatus]) -> dict[str, ComponentStatus]:
        implied: dict[str, ComponentStatus] = {}
        pending = [cid for cid in current.component_ids if cid not in given]
        if not pending:
            return implied
        statuses = dict(conn.execute(select(t.components.c.id, t.components.c.status)
                                     .where(t.components.c.id.in_(pending))).all())
        if status is MaintenanceStatus.IN_PROGRESS:
            return {cid: ComponentStatus.UNDER_MAINTENANCE for cid in pending}
        if status is MaintenanceStatus.COMPLETED:
            return {cid: ComponentStatus.OPERATIONAL for cid in pending
                    if statuses.get(cid) == ComponentStatus.UNDER_MAINTENANCE.value}
        if status is IncidentStatus.RESOLVED:
            ic = t.incident_components.c
            held = set(conn.execute(
                select(ic.component_id).join(t.incidents, t.incidents.c.id == ic.incident_id)
                .where(ic.component_id.in_(pending), t.incidents.c.id != current.id,
                       t.incidents.c.kind == "incident",
                       t.incidents.c.status.in_(["investigating", "identified", "monitoring"]))
            ).scalars())
            return {cid: ComponentStatus.OPERATIONAL for cid in pending
                    if cid not in held and statuses.get(cid) not in (
                        None, ComponentStatus.OPERATIONAL.value,
                        ComponentStatus.UNDER_MAINTENANCE.value)}
        return implied

    def _link_components(self: Store, conn: Connection, incident_id: str,
                         components: Mapping[str, ComponentStatus]) -> None:
        if not components:
            return
        ic = t.incident_components.c
        have = set(conn.execute(select(ic.component_id).where(ic.incident_id == incident_id))
                   .scalars())
        new = [{"incident_id": incident_id, "component_id": cid}
               for cid in components if cid not in have]
        if new:
            conn.execute(insert(t.incident_components), new)

    def _insert_update(self: Store, conn: Connection, incident_id: str,
                       status: IncidentStatus | MaintenanceStatus, body: str,
                       created_at: datetime, display_at: datetime,
                       components: Mapping[str, ComponentStatus]) -> None:
        update_id = self.new_id()
        conn.execute(insert(t.incident_updates).values(
            id=update_id, incident_id=incident_id, status=status.value, body=body,
            created_at=created_at, display_at=display_at))
        affected = []
        for cid, new_status in components.items():
            old = self._set_status(conn, cid, new_status, created_at)
            name = conn.execute(select(t.components.c.name)
                                .where(t.components.c.id == cid)).scalar_one()
            affected.append({"update_id": update_id, "component_id": cid, "name": name,
                             "old_status": old.value, "new_status": new_status.value})
        if affected:
            conn.execute(insert(t.update_components), affected)

    def _hydrate(self: Store, conn: Connection, rows: list[Any]) -> list[Incident]:
        if not rows:
            return []
        ids = [r.id for r in rows]
        u, uc, ic = t.incident_updates.c, t.update_components.c, t.incident_components.c
        update_rows = list(conn.execute(select(t.incident_updates).where(u.incident_id.in_(ids))
                                        .order_by(u.display_at.desc(), u.created_at.desc())))
        affected: dict[str, list[AffectedComponent]] = {}
        update_ids = [r.id for r in update_rows]
        for start in range(0, len(update_ids), 500):
            for r in conn.execute(select(t.update_components)
                                  .where(uc.update_id.in_(update_ids[start:start + 500]))):
                affected.setdefault(r.update_id, []).append(AffectedComponent(
                    r.component_id, r.name, ComponentStatus(r.old_status),
                    ComponentStatus(r.new_status)))
        kinds = {r.id: r.kind for r in rows}
        updates: dict[str, list[IncidentUpdate]] = {}
        for r in update_rows:
            updates.setdefault(r.incident_id, []).append(IncidentUpdate(
                id=r.id, incident_id=r.incident_id, status=_status_of(kinds[r.incident_id], r.status),
                body=r.body, created_at=r.created_at, display_at=r.display_at,
                affected_components=tuple(affected.get(r.id, ()))))
        links: dict[str, list[str]] = {}
        for r in conn.execute(select(ic.incident_id, ic.component_id)
                              .where(ic.incident_id.in_(ids))):
            links.setdefault(r.incident_id, []).append(r.component_id)
        return [Incident(
            id=r.id, page_id=r.page_id, name=r.name, status=_status_of(r.kind, r.status),
            impact=Impact(r.impact), created_at=r.created_at, updated_at=r.updated_at,
            started_at=r.started_at, resolved_at=r.resolved_at, monitoring_at=r.monitoring_at,
            scheduled_for=r.scheduled_for, scheduled_until=r.scheduled_until,
            auto_detected=r.auto_detected, component_ids=tuple(sorted(links.get(r.id, ()))),
            updates=tuple(updates.get(r.id, ())), imported_from=r.imported_from,
            onset_at=r.onset_at, detected_at=r.detected_at, acknowledged_at=r.acknowledged_at,
            first_public_update_at=r.first_public_update_at, published=r.published,
            dismissed_at=r.dismissed_at, detection=r.detection,
        ) for r in rows]
