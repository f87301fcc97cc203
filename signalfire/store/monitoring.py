"""Monitors, their observations, per-region state and the component verdicts they give."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from signalfire.domain.events import EventKind
from signalfire.domain.probe import LOCAL_REGION, ConditionResult, Monitor, MonitorKind, Observation
from signalfire.domain.quorum import RegionState, advance, component_status
from signalfire.domain.status import ComponentStatus
from signalfire.errors import InputError, NotFound
from signalfire.store import schema as t

if TYPE_CHECKING:
    from signalfire.store.store import Store

PING_REGION = "ping"
_MONITOR_FIELDS = {"component_id", "name", "kind", "target", "interval_s", "timeout_s", "regions",
                   "conditions", "failure_threshold", "success_threshold", "degraded_ms",
                   "options", "enabled"}


def monitor_from_row(r: Any) -> Monitor:
    return Monitor(
        id=r.id, page_id=r.page_id, component_id=r.component_id, name=r.name,
        kind=MonitorKind(r.kind), target=r.target, interval_s=r.interval_s,
        timeout_s=r.timeout_s, regions=tuple(r.regions), conditions=tuple(r.conditions),
        failure_threshold=r.failure_threshold, success_threshold=r.success_threshold,
        degraded_ms=r.degraded_ms, options=dict(r.options or {}), enabled=r.enabled)


def state_from_row(r: Any) -> RegionState:
    return RegionState(
        monitor_id=r.monitor_id, region=r.region, up=r.up,
        consecutive_failures=r.consecutive_failures,
        consecutive_successes=r.consecutive_successes, last_at=r.last_at, last_ok=r.last_ok,
        last_duration_ms=r.last_duration_ms, changed_at=r.changed_at, slow=r.slow)


def observation_row(o: Observation, received_at: datetime) -> dict[str, Any]:
    return {
        "id": o.id, "monitor_id": o.monitor_id, "region": o.region, "at": o.at,
        "received_at": received_at, "ok": o.ok, "duration_ms": o.duration_ms,
        "status": o.status, "error": o.error, "error_detail": o.error_detail,
        "conditions": [{"condition": c.condition, "ok": c.ok, "actual": c.actual}
                       for c in o.conditions],
    }


def observation_from_row(r: Any) -> Observation:
    return Observation(
        id=r.id, monitor_id=r.monitor_id, region=r.region, at=r.at, ok=r.ok,
        duration_ms=r.duration_ms, error=r.error, error_detail=r.error_detail, status=r.status,
        conditions=tuple(ConditionResult(c["condition"], c["ok"], c.get("actual", ""))
                         for c in (r.conditions or [])),
        received_at=r.received_at)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class Flip:
    monitor_id: str
    region: str
    up: bool
    at: datetime


@dataclass
class ComponentChange:
    page_id: str
    component_id: str
    old: ComponentStatus
    new: ComponentStatus
    reason: str


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    unknown_monitors: list[str] = field(default_factory=list)
    flips: list[Flip] = field(default_factory=list)
    component_changes: list[ComponentChange] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Agent:
    id: str
    name: str
    region: str
    created_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None


class MonitoringMixin:
    # -- monitors ---------------------------------------------------------------

    def create_monitor(self: Store, page_id: str, *, name: str, kind: MonitorKind,
                       now: datetime, **fields: Any) -> Monitor:
        self.get_page(page_id)
        values = self._monitor_values(page_id, {"name": name, "kind": kind, **fields})
        monitor_id = self.new_id()
        try:
            with self._write() as conn:
                conn.execute(insert(t.monitors).values(
                    id=monitor_id, page_id=page_id, created_at=now, updated_at=now, **values))
        except IntegrityError:
            raise InputError(f"a monitor named {name!r} already exists", field="name") from None
        return self.get_monitor(monitor_id)

    def update_monitor(self: Store, monitor_id: str, *, now: datetime, **fields: Any) -> Monitor:
        current = self.get_monitor(monitor_id)
        values = self._monitor_values(current.page_id, fields, partial=True)
        try:
            with self._write() as conn:
                if values:
                    conn.execute(update(t.monitors).where(t.monitors.c.id == monitor_id)
                                 .values(**values, updated_at=now))
                if "regions" in values:
                    # A region taken off the monitor no longer has a say in its quorum.
                    conn.execute(delete(t.monitor_states).where(
                        t.monitor_states.c.monitor_id == monitor_id,
                        t.monitor_states.c.region.not_in(list(values["regions"]))))
        except IntegrityError:
            raise InputError(f"a monitor named {fields.get('name')!r} already exists",
                             field="name") from None
        return self.get_monitor(monitor_id)

    def delete_monitor(self: Store, monitor_id: str) -> None:
        self.get_monitor(monitor_id)
        with self._write() as conn:
            conn.execute(delete(t.monitors).where(t.monitors.c.id == monitor_id))

    def get_monitor(self: Store, monitor_id: str) -> Monitor:
        with self._read() as conn:
            row = conn.execute(select(t.monitors).where(t.monitors.c.id == monitor_id)).first()
        if row is None:
            raise NotFound(f"no monitor {monitor_id!r}", field="monitor_id")
        return monitor_from_row(row)

    def list_monitors(self: Store, *, page_id: str | None = None, region: str | None = None,
                      enabled_only: bool = False) -> list[Monitor]:
        q = select(t.monitors).order_by(t.monitors.c.page_id, t.monitors.c.name)
        if page_id:
            q = q.where(t.monitors.c.page_id == page_id)
        if enabled_only:
            q = q.where(t.monitors.c.enabled.is_(True))
        with self._read() as conn:
            found = [monitor_from_row(r) for r in conn.execute(q)]
        if region:
            found = [m for m in found if region in m.regions]
        return found

    def set_heartbeat_secret(self: Store, monitor_id: str) -> str:
        """A new secret ping URL part for a heartbeat monitor (the old one stops working)."""
        monitor = self.get_monitor(monitor_id)
        if monitor.kind is not MonitorKind.HEARTBEAT:
            raise InputError("only heartbeat monitors have a ping URL", field="kind")
        secret = secrets.token_urlsafe(24)
        with self._write() as conn:
            conn.execute(update(t.monitors).where(t.monitors.c.id == monitor_id)
                         .values(heartbeat_hash=_hash(secret)))
        return secret

    def monitor_by_heartbeat(self: Store, secret: str) -> Monitor:
        with self._read() as conn:
            row = conn.execute(select(t.monitors)
                               .where(t.monitors.c.heartbeat_hash == _hash(secret))).first()
        if row is None:
            raise NotFound("no heartbeat monitor with this URL", field="secret")
        return monitor_from_row(row)

    def _monitor_values(self: Store, page_id: str, fields: dict[str, Any], *,
                        partial: bool = False) -> dict[str, Any]:
        unknown = set(fields) - _MONITOR_FIELDS
        if unknown:
            key = sorted(unknown)[0]
            raise InputError(f"unknown monitor field {key!r}", field=key)
        values = dict(fields)
        if "component_id" in values and values["component_id"] is not None:
            component = self.get_component(values["component_id"])
            if component.page_id != page_id:
                raise InputError("the component belongs to another page", field="component_id")
        if "kind" in values:
            values["kind"] = MonitorKind(values["kind"]).value
        for key in ("regions", "conditions"):
            if key in values:
                values[key] = list(values[key])
        if not partial:
            values.setdefault("regions", [LOCAL_REGION])
            values.setdefault("conditions", [])
            values.setdefault("options", {})
            values.setdefault("interval_s", 60.0)
            values.setdefault("timeout_s", 10.0)
            values.setdefault("failure_threshold", 3)
            values.setdefault("success_threshold", 2)
            values.setdefault("target", "")
        return values

    # -- observations ---------------------------------------------------------------

    def ingest(self: Store, observations: Sequence[Observation], *,
               received_at: datetime) -> IngestResult:
        """Store observations (each once, whatever how often it is sent), move each
        monitor's per-region state, and set the components' status from the quorum.

        All in one transaction: an acknowledged batch is fully applied.
        """
        result = IngestResult()
        if not observations:
            return result
        ids = list({o.id for o in observations})
        with self._write() as conn:
            monitors = {r.id: monitor_from_row(r) for r in conn.execute(
                select(t.monitors).where(t.monitors.c.id.in_({o.monitor_id for o in observations})))}
            seen = set(conn.execute(select(t.observations.c.id)
                                    .where(t.observations.c.id.in_(ids))).scalars())
            fresh: dict[str, Observation] = {}
            for o in observations:
                if o.monitor_id not in monitors:
                    result.unknown_monitors.append(o.monitor_id)
                elif o.id in seen or o.id in fresh:
                    result.duplicates += 1
                else:
                    fresh[o.id] = o
            if fresh:
                ins = (sqlite.insert if self.is_sqlite else postgresql.insert)(t.observations)
                conn.execute(ins.on_conflict_do_nothing(index_elements=["id"]),
                             [observation_row(o, received_at) for o in fresh.values()])
            result.accepted = len(fresh)
            # An agent whose clock runs ahead would otherwise pin its region's
            # state in the future (later, correct times would look old, and the
            # region would never fall silent): for the state machine, no check
            # happened later than the server received it.
            timely = [o if o.at <= received_at else replace(o, at=received_at)
                      for o in fresh.values()]
            touched = self._advance_states(conn, timely, monitors, result)
            self._update_verdicts(conn, {monitors[m].component_id for m in touched} - {None},
                                  received_at, result)
        return result

    def _advance_states(self: Store, conn: Connection, fresh: list[Observation],
                        monitors: dict[str, Monitor], result: IngestResult) -> set[str]:
        keys = {(o.monitor_id, o.region) for o in fresh}
        if not keys:
            return set()
        s = t.monitor_states.c
        states: dict[tuple[str, str], RegionState | None] = dict.fromkeys(keys)
        for r in conn.execute(select(t.monitor_states).where(
                s.monitor_id.in_({k[0] for k in keys}))):
            if (r.monitor_id, r.region) in states:
                states[(r.monitor_id, r.region)] = state_from_row(r)
        existed = {k for k, v in states.items() if v is not None}
        last_error: dict[tuple[str, str], str | None] = {}
        for o in sorted(fresh, key=lambda o: o.at):
            key = (o.monitor_id, o.region)
            new, flipped = advance(states[key], o, monitors[o.monitor_id])
            states[key] = new
            last_error[key] = o.error or next((c.condition for c in o.conditions if not c.ok),
                                              None)
            if flipped:
                result.flips.append(Flip(o.monitor_id, o.region, bool(new.up), o.at))
        for key, st in states.items():
            assert st is not None
            values = {"up": st.up, "consecutive_failures": st.consecutive_failures,
                      "consecutive_successes": st.consecutive_successes, "last_at": st.last_at,
                      "last_ok": st.last_ok, "last_duration_ms": st.last_duration_ms,
                      "changed_at": st.changed_at, "slow": st.slow,
                      "last_error": last_error.get(key)}
            if key in existed:
                conn.execute(update(t.monitor_states).where(
                    s.monitor_id == key[0], s.region == key[1]).values(**values))
            else:
                conn.execute(insert(t.monitor_states).values(
                    monitor_id=key[0], region=key[1], **values))
        if result.flips:
            conn.execute(insert(t.monitor_flips), [
                {"monitor_id": f.monitor_id, "region": f.region, "up": f.up, "at": f.at,
                 "reason": "" if f.up else (last_error.get((f.monitor_id, f.region)) or "")}
                for f in result.flips])
        return {k[0] for k in keys}

    def _update_verdicts(self: Store, conn: Connection, component_ids: Iterable[str],
                         now: datetime, result: IngestResult) -> None:
        """Set each component's status from its monitors' quorum, when the verdict moves.

        Only a change of verdict writes, so a status set by hand (or by an
        incident) stands until the monitors say something new; maintenance
        owns its components and is never overridden.
        """
        for component_id in component_ids:
            mons = [monitor_from_row(r) for r in conn.execute(select(t.monitors).where(
                t.monitors.c.component_id == component_id, t.monitors.c.enabled.is_(True)))]
            if not mons:
                continue
            s = t.monitor_states.c
            by_monitor: dict[str, list[RegionState]] = {m.id: [] for m in mons}
            for r in conn.execute(select(t.monitor_states).where(
                    s.monitor_id.in_(list(by_monitor)))):
                if r.region in next(m.regions for m in mons if m.id == r.monitor_id):
                    by_monitor[r.monitor_id].append(state_from_row(r))
            verdict = component_status([(m, by_monitor[m.id]) for m in mons], now=now)
            if verdict.status is None:
                continue
            v = t.component_verdicts.c
            previous = conn.execute(select(t.component_verdicts)
                                    .where(v.component_id == component_id)).first()
            if previous is not None and previous.status == verdict.status.value:
                continue
            if previous is None:
                conn.execute(insert(t.component_verdicts).values(
                    component_id=component_id, status=verdict.status.value,
                    reason=verdict.reason, at=now))
            else:
                conn.execute(update(t.component_verdicts).where(v.component_id == component_id)
                             .values(status=verdict.status.value, reason=verdict.reason, at=now))
            row = conn.execute(select(t.components.c.status, t.components.c.page_id)
                               .where(t.components.c.id == component_id)).one()
            if row.status == ComponentStatus.UNDER_MAINTENANCE.value:
                continue
            old = self._set_status(conn, component_id, verdict.status, now)
            if old is not verdict.status:
                result.component_changes.append(ComponentChange(
                    row.page_id, component_id, old, verdict.status, verdict.reason))
                self._emit(conn, row.page_id, EventKind.COMPONENT_STATUS, component_id,
                           [component_id], {"old_status": old.value,
                                            "new_status": verdict.status.value,
                                            "reason": verdict.reason}, now=now)

    def reevaluate_components(self: Store, now: datetime) -> IngestResult:
        """Apply the quorum again with the clock moved on, so a region that went
        silent stops counting even when nothing new arrives."""
        result = IngestResult()
        with self._write() as conn:
            ids = set(conn.execute(select(t.monitors.c.component_id).where(
                t.monitors.c.component_id.is_not(None))).scalars())
            self._update_verdicts(conn, ids, now, result)
        return result

    def all_monitor_states(self: Store) -> list[tuple[Monitor, list[RegionState]]]:
        """Every monitor with its states in the regions it runs in."""
        monitors = {m.id: m for m in self.list_monitors()}
        states: dict[str, list[RegionState]] = {m: [] for m in monitors}
        with self._read() as conn:
            for r in conn.execute(select(t.monitor_states)):
                m = monitors.get(r.monitor_id)
                if m is not None and r.region in m.regions:
                    states[r.monitor_id].append(state_from_row(r))
        return [(m, states[m.id]) for m in monitors.values()]

    def monitor_states(self: Store, monitor_id: str) -> list[RegionState]:
        with self._read() as conn:
            return [state_from_row(r) for r in conn.execute(
                select(t.monitor_states).where(t.monitor_states.c.monitor_id == monitor_id)
                .order_by(t.monitor_states.c.region))]

    def recent_observations(self: Store, monitor_id: str, *, limit: int = 50,
                            region: str | None = None) -> list[Observation]:
        q = select(t.observations).where(t.observations.c.monitor_id == monitor_id)
        if region:
            q = q.where(t.observations.c.region == region)
        q = q.order_by(t.observations.c.at.desc()).limit(limit)
        with self._read() as conn:
            return [observation_from_row(r) for r in conn.execute(q)]

    def record_ping(self: Store, monitor: Monitor, *, now: datetime) -> None:
        """A heartbeat ping, kept as an observation of the pseudo-region ``ping``.

        It has no say in the quorum (no monitor lists that region): the
        prober judges the monitor in its real region by how recent it is.
        """
        self.ingest([Observation(id=secrets.token_hex(16), monitor_id=monitor.id,
                                 region=PING_REGION, at=now, ok=True, duration_ms=0.0)],
                    received_at=now)

    def last_ping_at(self: Store, monitor_id: str) -> datetime | None:
        o = t.observations.c
        with self._read() as conn:
            return conn.execute(select(o.at).where(
                o.monitor_id == monitor_id, o.region == PING_REGION)
                .order_by(o.at.desc()).limit(1)).scalar()

    def component_verdict(self: Store, component_id: str) -> tuple[str | None, str] | None:
        with self._read() as conn:
            row = conn.execute(select(t.component_verdicts).where(
                t.component_verdicts.c.component_id == component_id)).first()
        return (row.status, row.reason) if row else None

    def prune_observations(self: Store, before: datetime) -> int:
        with self._write() as conn:
            return conn.execute(delete(t.observations)
                                .where(t.observations.c.at < before)).rowcount

    # -- agents ---------------------------------------------------------------------

    def create_agent(self: Store, name: str, region: str, *, now: datetime) -> tuple[Agent, str]:
        secret = "sfa_" + secrets.token_urlsafe(32)
        agent_id = self.new_id()
        with self._write() as conn:
            conn.execute(insert(t.agents).values(id=agent_id, name=name, region=region,
                                                 token_hash=_hash(secret), created_at=now))
        return Agent(agent_id, name, region, now, None, None), secret

    def authenticate_agent(self: Store, secret: str, *, now: datetime) -> Agent:
        from signalfire.errors import AuthError

        with self._read() as conn:
            row = conn.execute(select(t.agents)
                               .where(t.agents.c.token_hash == _hash(secret))).first()
        if row is None:
            raise AuthError("the agent token is not valid", field="Authorization")
        if row.revoked_at is not None:
            raise AuthError("the agent token was revoked", field="Authorization")
        if row.last_seen_at is None or (now - row.last_seen_at).total_seconds() > 30:
            with self.engine.begin() as conn:
                conn.execute(update(t.agents).where(t.agents.c.id == row.id)
                             .values(last_seen_at=now))
        return Agent(row.id, row.name, row.region, row.created_at, now, None)

    def list_agents(self: Store) -> list[Agent]:
        with self._read() as conn:
            return [Agent(r.id, r.name, r.region, r.created_at, r.last_seen_at, r.revoked_at)
                    for r in conn.execute(select(t.agents).order_by(t.agents.c.created_at))]

    def revoke_agent(self: Store, agent_id: str, *, now: datetime) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(update(t.agents).where(t.agents.c.id == agent_id)
                                .values(revoked_at=now))
            if done.rowcount != 1:
                raise NotFound(f"no agent {agent_id!r}", field="agent_id")
