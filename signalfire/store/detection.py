"""Detection's share of the store: each page's detection settings, and the
incidents the engine opens, confirms, dismisses and keeps up to date."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, text, update

from signalfire.domain.events import Audience, EventKind
from signalfire.domain.model import Incident
from signalfire.domain.probe import Monitor
from signalfire.domain.quorum import RegionState
from signalfire.domain.rules import check_incident_transition, impact_for_components
from signalfire.domain.status import ComponentStatus, IncidentStatus
from signalfire.errors import TransitionError
from signalfire.store import schema as t

if TYPE_CHECKING:
    from signalfire.store.store import Store

CONFIRMED_BODY = "A person confirmed this problem. We are investigating."
DISMISSED_BODY = "Dismissed as a false alarm."


class DetectionMixin:
    # -- leadership -----------------------------------------------------------------------

    def hold_duty(self: Store, name: str) -> bool:
        """Whether this process runs the singleton duty ``name`` now.

        On PostgreSQL several nodes share the database and only one may run
        detection (two would open two incidents for one outage): the duty is a
        session advisory lock, held on a connection kept for it, and it moves to
        another node within one round when this one dies (its connection closes).
        SQLite has one node: always True.
        """
        if self.is_sqlite:
            return True
        leases = self._duties
        conn = leases.get(name)
        if conn is not None:
            try:
                conn.execute(select(1))
                conn.commit()
                return True
            except Exception:  # the connection died, and the lock with it
                leases.pop(name, None)
                with contextlib.suppress(Exception):
                    conn.invalidate()
                    conn.close()
        conn = self.engine.connect()
        try:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(hashtext(:name))"),
                                    {"name": f"signalfire:{name}"}).scalar())
            conn.commit()  # the session lock outlives the transaction
        except Exception:
            conn.close()
            raise
        if got:
            leases[name] = conn
        else:
            conn.close()
        return got

    def release_duties(self: Store) -> None:
        leases, self._duties = self._duties, {}
        for conn in leases.values():
            # Closed for real, not handed back to the pool: the lock belongs to
            # the database session and would otherwise live on in the pool.
            with contextlib.suppress(Exception):
                conn.invalidate()
                conn.close()

    # -- settings ---------------------------------------------------------------------

    def detection_settings(self: Store, page_id: str) -> dict[str, Any] | None:
        """The page's detection settings as stored (a mapping), or None if never set."""
        d = t.page_detection.c
        with self._read() as conn:
            value = conn.execute(select(d.settings).where(d.page_id == page_id)).scalar()
        return dict(value) if value is not None else None

    def put_detection_settings(self: Store, page_id: str, settings: Mapping[str, Any], *,
                               now: datetime) -> None:
        self.get_page(page_id)
        d = t.page_detection.c
        with self._write() as conn:
            done = conn.execute(update(t.page_detection).where(d.page_id == page_id)
                                .values(settings=dict(settings), updated_at=now))
            if done.rowcount == 0:
                conn.execute(insert(t.page_detection).values(
                    page_id=page_id, settings=dict(settings), updated_at=now))

    def all_detection_settings(self: Store) -> dict[str, dict[str, Any]]:
        """page id → its stored settings, for every page that has some."""
        d = t.page_detection.c
        with self._read() as conn:
            return {r.page_id: dict(r.settings)
                    for r in conn.execute(select(d.page_id, d.settings))}

    def page_monitor_states(self: Store, page_id: str,
                            ) -> list[tuple[Monitor, list[RegionState]]]:
        """The page's enabled monitors with their states in their own regions, in
        two queries (detection reads them every round)."""
        from signalfire.store.monitoring import state_from_row

        monitors = self.list_monitors(page_id=page_id, enabled_only=True)
        states: dict[str, list[RegionState]] = {m.id: [] for m in monitors}
        regions = {m.id: set(m.regions) for m in monitors}
        ids = list(states)
        with self._read() as conn:
            for start in range(0, len(ids), 500):
                for r in conn.execute(select(t.monitor_states).where(
                        t.monitor_states.c.monitor_id.in_(ids[start:start + 500]))):
                    if r.region in regions[r.monitor_id]:
                        states[r.monitor_id].append(state_from_row(r))
        return [(m, states[m.id]) for m in monitors]

    # -- automatic incidents ---------------------------------------------------------------

    def latest_detected_incident(self: Store, page_id: str) -> Incident | None:
        """The newest incident the engine opened on this page, whatever became of it."""
        i = t.incidents.c
        with self._read() as conn:
            row = conn.execute(select(t.incidents).where(
                i.page_id == page_id, i.kind == "incident", i.detected_at.is_not(None))
                .order_by(i.detected_at.desc(), i.id).limit(1)).first()
            return self._hydrate(conn, [row])[0] if row is not None else None

    def set_detection(self: Store, incident_id: str, detection: Mapping[str, Any]) -> None:
        """Replace an incident's scope and evidence record.

        Nothing the public sees changes, so this does not bump the revision that
        makes every node drop its rendered pages (it runs every minute while a
        signal is active).
        """
        with self.engine.begin() as conn:
            conn.execute(update(t.incidents).where(t.incidents.c.id == incident_id)
                         .values(detection=dict(detection)))

    def confirm_incident(self: Store, incident_id: str, *, now: datetime,
                         body: str | None = None) -> Incident:
        """A person confirms an automatic incident: it becomes public (if it was
        held back), stops being marked auto-detected, and is acknowledged now.

        An incident held back for confirmation gets an update that sets the
        component statuses it proposed, so the public sees them from now on.
        """
        current = self.get_incident(incident_id)
        if current.is_maintenance:
            raise TransitionError("a maintenance window cannot be confirmed", field="incident_id")
        if current.dismissed_at is not None:
            raise TransitionError("this incident was dismissed as a false alarm",
                                  field="incident_id")
        if not current.auto_detected:
            raise TransitionError("this incident is not waiting for confirmation "
                                  "(it was opened or confirmed by a person)", field="incident_id")
        pending: dict[str, ComponentStatus] = {}
        if not current.published and current.is_open:
            proposed = (current.detection or {}).get("statuses", {})
            pending = {cid: ComponentStatus(s) for cid, s in proposed.items()
                       if cid in current.component_ids}
        i = t.incidents.c
        with self._write() as conn:
            moved = conn.execute(update(t.incidents).where(
                i.id == incident_id, i.auto_detected.is_(True), i.dismissed_at.is_(None))
                .values(auto_detected=False, published=True, updated_at=now,
                        acknowledged_at=current.acknowledged_at or now,
                        first_public_update_at=current.first_public_update_at or now))
            if moved.rowcount != 1:
                raise TransitionError("the incident changed while it was confirmed; "
                                      "reload it and try again", field="incident_id")
            if not current.published and current.is_open:
                assert isinstance(current.status, IncidentStatus)
                self._insert_update(conn, incident_id, current.status, body or CONFIRMED_BODY,
                                    now, now, pending)
            if not current.published:
                # The public's first word about it: as if it opened now.
                self._emit(conn, current.page_id, EventKind.INCIDENT_CREATED, incident_id,
                           current.component_ids, {}, now=now, audience=Audience.PUBLIC)
        return self.get_incident(incident_id)

    def dismiss_incident(self: Store, incident_id: str, *, now: datetime,
                         reason: str = "") -> Incident:
        """A person says an automatic incident was a false alarm.

        It is kept, labelled (``dismissed_at``), hidden from the public and
        resolved, which hands its components back; the engine never reuses it.
        """
        current = self.get_incident(incident_id)
        if current.is_maintenance or current.detected_at is None:
            raise TransitionError("only an automatically detected incident can be dismissed",
                                  field="incident_id")
        if current.dismissed_at is not None:
            raise TransitionError("this incident was already dismissed", field="incident_id")
        if not current.auto_detected:
            raise TransitionError("a confirmed incident is resolved, not dismissed",
                                  field="incident_id")
        i = t.incidents.c
        detection = dict(current.detection or {})
        if reason:
            detection["dismissed_reason"] = reason
        with self._write() as conn:
            moved = conn.execute(update(t.incidents).where(
                i.id == incident_id, i.auto_detected.is_(True), i.dismissed_at.is_(None))
                .values(dismissed_at=now, published=False, updated_at=now,
                        acknowledged_at=current.acknowledged_at or now, detection=detection))
            if moved.rowcount != 1:
                raise TransitionError("the incident changed while it was dismissed; "
                                      "reload it and try again", field="incident_id")
        if current.is_open:
            body = DISMISSED_BODY + (f" {reason}" if reason else "")
            if current.published:
                # Hands back the component statuses it set; those who heard it
                # opened hear it is over.
                self.add_update(incident_id, status=IncidentStatus.RESOLVED, body=body, now=now)
                self.emit(current.page_id, EventKind.INCIDENT_RESOLVED, incident_id, now=now,
                          component_ids=current.component_ids)
            else:
                # It never set any: leave what the probes say alone.
                self.detection_update(incident_id, status=IncidentStatus.RESOLVED, body=body,
                                      now=now, statuses={}, detection=detection)
        return self.get_incident(incident_id)

    def detection_update(self: Store, incident_id: str, *, status: IncidentStatus, body: str,
                         now: datetime, statuses: Mapping[str, ComponentStatus],
                         detection: Mapping[str, Any]) -> Incident:
        """The engine's update of its own incident: new status and text, the
        components it now covers and their statuses, its scope and evidence,
        in one transaction.

        An incident still held back for confirmation links the components but
        keeps their statuses in ``detection`` only, for the confirmation to set.
        The impact only ever rises.
        """
        current = self.get_incident(incident_id)
        assert isinstance(current.status, IncidentStatus)
        check_incident_transition(current.status, status)
        self._check_components(current.page_id, statuses)
        apply = dict(statuses) if current.published else {}
        proposed = {c: ComponentStatus(s) for c, s in detection.get("statuses", {}).items()}
        impact = impact_for_components(proposed.values())
        values: dict[str, Any] = {"status": status.value, "updated_at": now,
                                  "detection": dict(detection)}
        if impact.severity > current.impact.severity:
            values["impact"] = impact.value
        if status is IncidentStatus.RESOLVED:
            values["resolved_at"] = now
        else:
            values["resolved_at"] = None
        i = t.incidents.c
        with self._write() as conn:
            if status is IncidentStatus.RESOLVED and current.published:
                apply.update(self._implied_statuses(conn, current, status, apply))
            moved = conn.execute(update(t.incidents).where(
                i.id == incident_id, i.status == current.status.value).values(**values))
            if moved.rowcount != 1:
                raise TransitionError("the incident changed while this update was made",
                                      field="status")
            self._link_components(conn, incident_id, statuses)
            self._insert_update(conn, incident_id, status, body, now, now, apply)
            if current.dismissed_at is None:
                kind = (EventKind.INCIDENT_RESOLVED if status is IncidentStatus.RESOLVED
                        else EventKind.INCIDENT_UPDATED)
                self._emit(conn, current.page_id, kind, incident_id,
                           {*current.component_ids, *statuses}, {}, now=now,
                           audience=Audience.PUBLIC if current.published
                           else Audience.OPERATORS)
        return self.get_incident(incident_id)
