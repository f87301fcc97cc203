"""Monitors and agents in the admin API, the agents' own API, and heartbeat pings.

- ``/api/v1/pages/{page}/monitors…`` and ``/api/v1/agents…``: operators (admin token).
- ``/api/v1/agent/…``: probe agents (agent token): pull their monitors, push observations.
- ``/api/v1/heartbeat/{secret}``: what a cron job or worker calls to say it is alive.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from signalfire.config.monitors import entry_problems
from signalfire.domain.probe import ConditionResult, Monitor, MonitorKind, Observation
from signalfire.errors import AuthError, InputError, NotFound
from signalfire.publish import statuspage as sp
from signalfire.publish.site import topics_for
from signalfire.store.monitoring import Agent, IngestResult
from signalfire.web.admin import _ERRORS, Services, require_token, services
from signalfire.web.schemas import Id, Name, Strict

Region = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Svc = Annotated[Services, Depends(services)]


class MonitorIn(Strict):
    name: Name
    kind: MonitorKind
    component_id: Id | None = None
    target: Annotated[str, StringConstraints(max_length=2000)] = ""
    interval_s: float = Field(60, ge=1, le=86_400)
    timeout_s: float = Field(10, gt=0, le=300)
    regions: Annotated[list[Region], Field(min_length=1, max_length=50)] = ["local"]
    conditions: Annotated[list[Annotated[str, StringConstraints(max_length=500)]],
                          Field(max_length=50)] = []
    failure_threshold: int = Field(3, ge=1, le=100)
    success_threshold: int = Field(2, ge=1, le=100)
    degraded_ms: float | None = Field(None, gt=0)
    options: dict[str, Any] = {}
    enabled: bool = True


class MonitorPatch(Strict):
    name: Name | None = None
    component_id: Id | None = None
    target: Annotated[str, StringConstraints(max_length=2000)] | None = None
    interval_s: float | None = Field(None, ge=1, le=86_400)
    timeout_s: float | None = Field(None, gt=0, le=300)
    regions: Annotated[list[Region], Field(min_length=1, max_length=50)] | None = None
    conditions: Annotated[list[Annotated[str, StringConstraints(max_length=500)]],
                          Field(max_length=50)] | None = None
    failure_threshold: int | None = Field(None, ge=1, le=100)
    success_threshold: int | None = Field(None, ge=1, le=100)
    degraded_ms: float | None = Field(None, gt=0)
    options: dict[str, Any] | None = None
    enabled: bool | None = None


class RegionStateOut(BaseModel):
    region: str
    up: bool | None
    consecutive_failures: int
    consecutive_successes: int
    last_at: str | None
    last_ok: bool | None
    last_duration_ms: float | None
    slow: bool


class MonitorOut(BaseModel):
    id: str
    page_id: str
    component_id: str | None
    name: str
    kind: MonitorKind
    target: str
    interval_s: float
    timeout_s: float
    regions: list[str]
    conditions: list[str]
    failure_threshold: int
    success_threshold: int
    degraded_ms: float | None
    options: dict[str, Any]
    enabled: bool
    states: list[RegionStateOut] = []
    heartbeat_url: str | None = None


class ConditionOut(BaseModel):
    condition: str
    ok: bool
    actual: str = ""


class ObservationOut(BaseModel):
    id: str
    monitor_id: str
    region: str
    at: str | None
    received_at: str | None
    ok: bool
    duration_ms: float
    status: int | None
    error: str | None
    error_detail: str | None
    conditions: list[ConditionOut]


class AgentIn(Strict):
    name: Name
    region: Region


class AgentOut(BaseModel):
    id: str
    name: str
    region: str
    created_at: str | None
    last_seen_at: str | None
    revoked_at: str | None
    token: str | None = None


class ObservationIn(Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
    monitor_id: Id
    at: AwareDatetime
    ok: bool
    duration_ms: float = Field(ge=0, le=3_600_000)
    status: int | None = Field(None, ge=0, le=999)
    error: Annotated[str, StringConstraints(max_length=64)] | None = None
    error_detail: Annotated[str, StringConstraints(max_length=2000)] | None = None
    conditions: Annotated[list[ConditionOut], Field(max_length=50)] = []


class ObservationBatch(Strict):
    observations: Annotated[list[ObservationIn], Field(max_length=5000)]


class IngestOut(BaseModel):
    accepted: int
    duplicates: int
    unknown_monitors: list[str]


def _monitor_out(svc: Services, m: Monitor, *, states: bool = False,
                 heartbeat_secret: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": m.id, "page_id": m.page_id, "component_id": m.component_id, "name": m.name,
        "kind": m.kind, "target": m.target, "interval_s": m.interval_s, "timeout_s": m.timeout_s,
        "regions": list(m.regions), "conditions": list(m.conditions),
        "failure_threshold": m.failure_threshold, "success_threshold": m.success_threshold,
        "degraded_ms": m.degraded_ms, "options": m.options, "enabled": m.enabled,
    }
    if states:
        doc["states"] = [
            {"region": s.region, "up": s.up, "consecutive_failures": s.consecutive_failures,
             "consecutive_successes": s.consecutive_successes, "last_at": sp.ts(s.last_at),
             "last_ok": s.last_ok, "last_duration_ms": s.last_duration_ms, "slow": s.slow}
            for s in svc.store.monitor_states(m.id) if s.region in m.regions]
    if heartbeat_secret:
        doc["heartbeat_url"] = f"{svc.publisher.base_url}/api/v1/heartbeat/{heartbeat_secret}"
    return doc


def _check(fields: dict[str, Any], kind: MonitorKind) -> None:
    problems = entry_problems({**fields, "kind": kind.value})
    if problems:
        where, _, message = problems[0].partition(": ")
        raise InputError(f"{where}: {message}", field=where.split(".")[0].split("[")[0])


def changed_components(svc: Services, result: IngestResult) -> None:
    """Drop and re-render what a move of component statuses made stale."""
    for page_id in {c.page_id for c in result.component_changes}:
        stale = svc.cache.invalidate(topics_for(page_id, "components") - {f"{page_id}:page"})
        svc.documents.refresh(stale)


admin = APIRouter(prefix="/api/v1", dependencies=[Depends(require_token)], responses=_ERRORS,
                  tags=["monitors"])


@admin.get("/pages/{page_id}/monitors", response_model=list[MonitorOut])
def list_monitors(page_id: str, svc: Svc) -> list[dict[str, Any]]:
    page = svc.store.get_page(page_id)
    return [_monitor_out(svc, m, states=True) for m in svc.store.list_monitors(page_id=page.id)]


@admin.post("/pages/{page_id}/monitors", response_model=MonitorOut, status_code=201)
def create_monitor(page_id: str, body: MonitorIn, svc: Svc) -> dict[str, Any]:
    page = svc.store.get_page(page_id)
    fields = body.model_dump(exclude={"name", "kind"})
    _check(fields, body.kind)
    m = svc.store.create_monitor(page.id, name=body.name, kind=body.kind, now=svc.clock(),
                                 **fields)
    secret = svc.store.set_heartbeat_secret(m.id) if m.kind is MonitorKind.HEARTBEAT else None
    return _monitor_out(svc, m, heartbeat_secret=secret)


def _owned(svc: Services, page_id: str, monitor_id: str) -> Monitor:
    page = svc.store.get_page(page_id)
    m = svc.store.get_monitor(monitor_id)
    if m.page_id != page.id:
        raise NotFound(f"no monitor {monitor_id!r} on this page", field="monitor_id")
    return m


@admin.get("/pages/{page_id}/monitors/{monitor_id}", response_model=MonitorOut)
def get_monitor(page_id: str, monitor_id: str, svc: Svc) -> dict[str, Any]:
    return _monitor_out(svc, _owned(svc, page_id, monitor_id), states=True)


@admin.patch("/pages/{page_id}/monitors/{monitor_id}", response_model=MonitorOut)
def patch_monitor(page_id: str, monitor_id: str, body: MonitorPatch, svc: Svc) -> dict[str, Any]:
    m = _owned(svc, page_id, monitor_id)
    fields = body.model_dump(exclude_unset=True)
    for key, value in fields.items():
        if value is None and key not in ("component_id", "degraded_ms"):
            raise InputError(f"{key} cannot be null", field=key)
    merged = {"target": m.target, "options": m.options, "conditions": list(m.conditions),
              **{k: v for k, v in fields.items() if k in ("target", "options", "conditions")}}
    _check(merged, m.kind)
    m = svc.store.update_monitor(m.id, now=svc.clock(), **fields)
    return _monitor_out(svc, m, states=True)


@admin.delete("/pages/{page_id}/monitors/{monitor_id}", status_code=204)
def delete_monitor(page_id: str, monitor_id: str, svc: Svc) -> Response:
    svc.store.delete_monitor(_owned(svc, page_id, monitor_id).id)
    return Response(status_code=204)


@admin.get("/pages/{page_id}/monitors/{monitor_id}/observations",
           response_model=list[ObservationOut])
def monitor_observations(page_id: str, monitor_id: str, svc: Svc,
                         limit: Annotated[int, Query(ge=1, le=1000)] = 50,
                         region: Region | None = None) -> list[dict[str, Any]]:
    m = _owned(svc, page_id, monitor_id)
    return [_observation_out(o) for o in svc.store.recent_observations(m.id, limit=limit,
                                                                        region=region)]


@admin.post("/pages/{page_id}/monitors/{monitor_id}/heartbeat-url", response_model=MonitorOut)
def new_heartbeat_url(page_id: str, monitor_id: str, svc: Svc) -> dict[str, Any]:
    """A new ping URL for a heartbeat monitor; the old one stops working."""
    m = _owned(svc, page_id, monitor_id)
    return _monitor_out(svc, m, heartbeat_secret=svc.store.set_heartbeat_secret(m.id))


def _observation_out(o: Observation) -> dict[str, Any]:
    return {"id": o.id, "monitor_id": o.monitor_id, "region": o.region, "at": sp.ts(o.at),
            "received_at": sp.ts(o.received_at), "ok": o.ok, "duration_ms": o.duration_ms,
            "status": o.status, "error": o.error, "error_detail": o.error_detail,
            "conditions": [{"condition": c.condition, "ok": c.ok, "actual": c.actual}
                           for c in o.conditions]}


def _agent_out(a: Agent, token: str | None = None) -> dict[str, Any]:
    return {"id": a.id, "name": a.name, "region": a.region, "created_at": sp.ts(a.created_at),
            "last_seen_at": sp.ts(a.last_seen_at), "revoked_at": sp.ts(a.revoked_at),
            "token": token}


@admin.get("/agents", response_model=list[AgentOut], tags=["agents"])
def list_agents(svc: Svc) -> list[dict[str, Any]]:
    return [_agent_out(a) for a in svc.store.list_agents()]


@admin.post("/agents", response_model=AgentOut, status_code=201, tags=["agents"])
def create_agent(body: AgentIn, svc: Svc) -> dict[str, Any]:
    """A token for a probe agent in one region; shown once."""
    agent, token = svc.store.create_agent(body.name, body.region, now=svc.clock())
    return _agent_out(agent, token)


@admin.delete("/agents/{agent_id}", status_code=204, tags=["agents"])
def revoke_agent(agent_id: str, svc: Svc) -> Response:
    svc.store.revoke_agent(agent_id, now=svc.clock())
    return Response(status_code=204)


# -- the agents' side -------------------------------------------------------------------

_agent_bearer = HTTPBearer(auto_error=False, description="An agent token")


def current_agent(request: Request, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(_agent_bearer)]) -> Agent:
    if credentials is None:
        raise AuthError("missing Authorization: Bearer <agent token> header",
                        field="Authorization")
    svc = services(request)
    return svc.store.authenticate_agent(credentials.credentials, now=svc.clock())


AgentDep = Annotated[Agent, Depends(current_agent)]
agent = APIRouter(prefix="/api/v1/agent", responses=_ERRORS, tags=["agent"])


class AgentMonitors(BaseModel):
    region: str
    monitors: list[MonitorOut]


@agent.get("/monitors", response_model=AgentMonitors)
def agent_monitors(me: AgentDep, svc: Svc) -> dict[str, Any]:
    """The active monitors this agent's region runs."""
    monitors = [m for m in svc.store.list_monitors(region=me.region, enabled_only=True)
                if m.kind is not MonitorKind.HEARTBEAT]
    return {"region": me.region, "monitors": [_monitor_out(svc, m) for m in monitors]}


@agent.post("/observations", response_model=IngestOut)
def agent_observations(batch: ObservationBatch, me: AgentDep, svc: Svc) -> dict[str, Any]:
    """Store a batch; every observation is stored once however often it is sent.

    The region is the agent's own, whatever the body says; the server's time of
    receipt is kept beside the agent's ``at`` so clock skew stays visible.
    """
    observations = [Observation(
        id=o.id, monitor_id=o.monitor_id, region=me.region, at=o.at, ok=o.ok,
        duration_ms=o.duration_ms, status=o.status, error=o.error, error_detail=o.error_detail,
        conditions=tuple(ConditionResult(c.condition, c.ok, c.actual) for c in o.conditions))
        for o in batch.observations]
    result = svc.store.ingest(observations, received_at=svc.clock())
    svc.metrics.observed(observations, {m.id: m for m in svc.store.list_monitors(
        region=me.region)})
    changed_components(svc, result)
    return {"accepted": result.accepted, "duplicates": result.duplicates,
            "unknown_monitors": sorted(set(result.unknown_monitors))}


# -- heartbeats ---------------------------------------------------------------------------

heartbeat = APIRouter(prefix="/api/v1/heartbeat", tags=["heartbeat"],
                      responses={404: _ERRORS[404]})


class PingOut(BaseModel):
    ok: bool
    monitor: str


def _ping(secret: str, svc: Services) -> dict[str, Any]:
    if len(secret) > 100:
        raise NotFound("no heartbeat monitor with this URL", field="secret")
    monitor = svc.store.monitor_by_heartbeat(secret)
    svc.store.record_ping(monitor, now=svc.clock())
    return {"ok": True, "monitor": monitor.name}


@heartbeat.post("/{secret}", response_model=PingOut)
def ping_post(secret: str, svc: Svc) -> dict[str, Any]:
    """Say "alive" for a heartbeat monitor (a cron job calls this at its end)."""
    return _ping(secret, svc)


@heartbeat.get("/{secret}", response_model=PingOut)
def ping_get(secret: str, svc: Svc) -> dict[str, Any]:
    return _ping(secret, svc)
