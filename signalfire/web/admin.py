"""Admin API, ``/api/v1``: what operators (and their scripts) use to run a page.

Every route needs ``Authorization: Bearer <token>`` (``signalfire token create``).
Every write runs in one transaction and then drops exactly the rendered public
documents it made stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from signalfire.domain.model import Incident
from signalfire.domain.status import IncidentStatus, MaintenanceStatus
from signalfire.engine.clock import Clock
from signalfire.errors import AuthError, InputError, NotFound
from signalfire.publish import statuspage as sp
from signalfire.publish.site import Publisher, topics_for
from signalfire.store import Store
from signalfire.web import schemas as s
from signalfire.web.cache import RenderCache
from signalfire.web.metrics import Metrics
from signalfire.web.public import Documents, PageDirectory


@dataclass
class Services:
    store: Store
    clock: Clock
    cache: RenderCache
    pages: PageDirectory
    publisher: Publisher
    documents: Documents
    metrics: Metrics


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


_bearer = HTTPBearer(auto_error=False, description="An API token from `signalfire token create`")


def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    if credentials is None:
        raise AuthError("missing Authorization: Bearer <token> header", field="Authorization")
    svc = services(request)
    svc.store.authenticate(credentials.credentials, now=svc.clock())


Svc = Annotated[Services, Depends(services)]
_PROBLEM = {"application/problem+json": {"schema": s.Problem.model_json_schema()}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": why, "content": _PROBLEM}
    for code, why in [(400, "the body cannot be read (not UTF-8 JSON)"),
                      (401, "missing or wrong token"), (404, "unknown id"),
                      (409, "a status change the rules forbid"), (413, "body too large"),
                      (422, "invalid field, named in the reply")]
}
router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_token)], responses=_ERRORS)


# -- output ---------------------------------------------------------------------------

def _page_out(p: Any) -> dict[str, Any]:
    return {"id": p.id, "slug": p.slug, "name": p.name, "url": p.url, "time_zone": p.time_zone,
            "description": p.description, "created_at": sp.ts(p.created_at),
            "updated_at": sp.ts(p.updated_at)}


def _group_out(g: Any) -> dict[str, Any]:
    return {"id": g.id, "page_id": g.page_id, "name": g.name, "description": g.description,
            "position": g.position, "created_at": sp.ts(g.created_at),
            "updated_at": sp.ts(g.updated_at)}


def _component_out(c: Any) -> dict[str, Any]:
    return sp.component_doc(c)


def _incident_out(svc: Services, i: Incident) -> dict[str, Any]:
    page = svc.store.get_page(i.page_id)
    base = svc.publisher.page_url(page, svc.pages.default_id)
    comps = {c.id: c for c in svc.store.list_components(i.page_id)}
    doc = sp.incident_doc(i, comps, base_url=base)
    doc["auto_detected"] = i.auto_detected
    doc["published"] = i.published
    for name in ("dismissed_at", "onset_at", "detected_at", "acknowledged_at",
                 "first_public_update_at"):
        doc[name] = sp.ts(getattr(i, name))
    doc["detection"] = dict(i.detection) if i.detection is not None else None
    return doc


def _page(svc: Services, page_id: str) -> Any:
    return svc.store.get_page(page_id)


def _owned(obj: Any, page_id: str, what: str) -> Any:
    if obj.page_id != page_id:
        raise NotFound(f"no {what} {obj.id!r} on this page", field=f"{what}_id")
    return obj


def _changed(svc: Services, page_id: str, *names: str) -> None:
    """Drop the public documents this write made stale, and render them again now."""
    stale = svc.cache.invalidate(topics_for(page_id, *names) - {f"{page_id}:page"}
                                 if names else topics_for(page_id))
    svc.documents.refresh(stale)


# -- pages ------------------------------------------------------------------------------

@router.get("/pages", response_model=list[s.PageOut], tags=["pages"])
def list_pages(svc: Svc) -> list[dict[str, Any]]:
    return [_page_out(p) for p in svc.store.list_pages()]


@router.get("/pages/{page_id}", response_model=s.PageOut, tags=["pages"])
def get_page(page_id: str, svc: Svc) -> dict[str, Any]:
    return _page_out(_page(svc, page_id))


@router.patch("/pages/{page_id}", response_model=s.PageOut, tags=["pages"])
def patch_page(page_id: str, body: s.PagePatch, svc: Svc) -> dict[str, Any]:
    page = _page(svc, page_id)
    fields = body.model_dump(exclude_none=True)
    if "time_zone" in fields:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(fields["time_zone"])
        except (KeyError, ValueError):
            raise InputError(f"unknown time zone {fields['time_zone']!r}",
                             field="time_zone") from None
    page = svc.store.put_page(page.slug, now=svc.clock(), **fields)
    svc.pages.refresh()
    _changed(svc, page.id)
    return _page_out(page)


# -- component groups ---------------------------------------------------------------------

@router.get("/pages/{page_id}/component-groups", response_model=list[s.GroupOut],
            tags=["component groups"])
def list_groups(page_id: str, svc: Svc) -> list[dict[str, Any]]:
    return [_group_out(g) for g in svc.store.list_groups(_page(svc, page_id).id)]


@router.post("/pages/{page_id}/component-groups", response_model=s.GroupOut, status_code=201,
             tags=["component groups"])
def create_group(page_id: str, body: s.GroupIn, svc: Svc) -> dict[str, Any]:
    page = _page(svc, page_id)
    g = svc.store.create_group(page.id, now=svc.clock(), **body.model_dump())
    _changed(svc, page.id, "components")
    return _group_out(g)


@router.get("/pages/{page_id}/component-groups/{group_id}", response_model=s.GroupOut,
            tags=["component groups"])
def get_group(page_id: str, group_id: str, svc: Svc) -> dict[str, Any]:
    page = _page(svc, page_id)
    return _group_out(_owned(svc.store.get_group(group_id), page.id, "group"))


@router.patch("/pages/{page_id}/component-groups/{group_id}", response_model=s.GroupOut,
              tags=["component groups"])
def patch_group(page_id: str, group_id: str, body: s.GroupPatch, svc: Svc) -> dict[str, Any]:
    page = _page(svc, page_id)
    _owned(svc.store.get_group(group_id), page.id, "group")
    g = svc.store.update_group(group_id, now=svc.clock(), **body.model_dump(exclude_none=True))
    _changed(svc, page.id, "components")
    return _group_out(g)


@router.delete("/pages/{page_id}/component-groups/{group_id}", status_code=204,
               tags=["component groups"])
def delete_group(page_id: str, group_id: str, svc: Svc) -> Response:
    page = _page(svc, page_id)
    _owned(svc.store.get_group(group_id), page.id, "group")
    svc.store.delete_group(group_id)
    _changed(svc, page.id, "components")
    return Response(status_code=204)


# -- components ---------------------------------------------------------------------------

@router.get("/pages/{page_id}/components", response_model=list[s.ComponentOut],
            tags=["components"])
def list_components(page_id: str, svc: Svc) -> list[dict[str, Any]]:
    return [_component_out(c) for c in svc.store.list_components(_page(svc, page_id).id)]


@router.post("/pages/{page_id}/components", response_model=s.ComponentOut, status_code=201,
             tags=["components"])
def create_component(page_id: str, body: s.ComponentIn, svc: Svc) -> dict[str, Any]:
    page = _page(svc, page_id)
    c = svc.store.create_component(page.id, now=svc.clock(), **body.model_dump())
    _changed(svc, page.id, "components")
    return _component_out(c)


@router.get("/pages/{page_id}/components/{component_id}", response_model=s.ComponentOut,
            tags=["components"])
def get_component(page_id: str, component_id: str, svc: Svc) -> dict[str, Any]:
    page = _page(svc, page_id)
    return _component_out(_owned(svc.store.get_component(component_id), page.id, "component"))


@router.patch("/pages/{page_id}/components/{component_id}", response_model=s.ComponentOut,
              tags=["components"])
def patch_component(page_id: str, component_id: str, body: s.ComponentPatch,
                    svc: Svc) -> dict[str, Any]:
    page = _page(svc, page_id)
    _owned(svc.store.get_component(component_id), page.id, "component")
    fields = body.model_dump(exclude_unset=True)
    for key in ("name", "status", "position", "only_show_if_degraded", "showcase"):
        if key in fields and fields[key] is None:
            raise InputError(f"{key} cannot be null", field=key)
    c = svc.store.update_component(component_id, now=svc.clock(), **fields)
    _changed(svc, page.id, "components")
    return _component_out(c)


@router.delete("/pages/{page_id}/components/{component_id}", status_code=204,
               tags=["components"])
def delete_component(page_id: str, component_id: str, svc: Svc) -> Response:
    page = _page(svc, page_id)
    _owned(svc.store.get_component(component_id), page.id, "component")
    svc.store.delete_component(component_id)
    _changed(svc, page.id, "components", "incidents", "maintenance")
    return Response(status_code=204)


# -- incidents ----------------------------------------------------------------------------

def _incident(svc: Services, page_id: str, incident_id: str, *, maintenance: bool) -> Incident:
    i = _owned(svc.store.get_incident(incident_id), page_id, "incident")
    if i.is_maintenance != maintenance:
        what = "maintenance" if maintenance else "incident"
        raise NotFound(f"no {what} {incident_id!r} on this page", field="incident_id")
    return i  # type: ignore[no-any-return]


def _incident_changed(svc: Services, i: Incident, *, components: bool | None = None) -> None:
    """Drop what this incident's change made stale; by default the component
    documents only when its latest update changed a component's status."""
    if components is None:
        components = bool(i.updates and i.updates[0].affected_components)
    kind = "maintenance" if i.is_maintenance else "incidents"
    names = [kind, f"incident:{i.id}"] + (["components"] if components else [])
    _changed(svc, i.page_id, *names)


@router.get("/pages/{page_id}/incidents", response_model=list[s.IncidentOut], tags=["incidents"])
def list_incidents(page_id: str, svc: Svc, unresolved: bool = False,
                   limit: Annotated[int, Query(ge=1, le=500)] = 50,
                   offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> list[dict[str, Any]]:
    page = _page(svc, page_id)
    items = svc.store.list_incidents(page.id, kind="incident", open_only=unresolved,
                                     limit=limit, offset=offset)
    return [_incident_out(svc, i) for i in items]


@router.post("/pages/{page_id}/incidents", response_model=s.IncidentOut, status_code=201,
             tags=["incidents"])
def create_incident(page_id: str, body: s.IncidentIn, svc: Svc) -> dict[str, Any]:
    page = _page(svc, page_id)
    i = svc.store.create_incident(
        page.id, name=body.name, status=body.status, impact=body.impact, body=body.body,
        components=body.components, started_at=body.started_at, now=svc.clock())
    _incident_changed(svc, i)
    return _incident_out(svc, i)


@router.get("/pages/{page_id}/incidents/{incident_id}", response_model=s.IncidentOut,
            tags=["incidents"])
def get_incident(page_id: str, incident_id: str, svc: Svc) -> dict[str, Any]:
    page = _page(svc, page_id)
    return _incident_out(svc, _incident(svc, page.id, incident_id, maintenance=False))


@router.patch("/pages/{page_id}/incidents/{incident_id}", response_model=s.IncidentOut,
              tags=["incidents"])
def patch_incident(page_id: str, incident_id: str, body: s.IncidentPatch,
                   svc: Svc) -> dict[str, Any]:
    page = _page(svc, page_id)
    current = _incident(svc, page.id, incident_id, maintenance=False)
    if body.confirmed and current.auto_detected and current.dismissed_at is None:
        svc.store.confirm_incident(incident_id, now=svc.clock())
    i = svc.store.edit_incident(incident_id, now=svc.clock(), name=body.name, impact=body.impact)
    if body.confirmed and not current.published:
        _incident_changed(svc, i, components=True)
    _incident_changed(svc, i, components=False)
    return _incident_out(svc, i)


@router.post("/pages/{page_id}/incidents/{incident_id}/updates", response_model=s.IncidentOut,
             status_code=201, tags=["incidents"])
def post_incident_update(page_id: str, incident_id: str, body: s.IncidentUpdateIn,
                         svc: Svc) -> dict[str, Any]:
    page = _page(svc, page_id)
    _incident(svc, page.id, incident_id, maintenance=False)
    i = svc.store.add_update(incident_id, status=body.status, body=body.body,
                             components=body.components, impact=body.impact, now=svc.clock())
    _incident_changed(svc, i)
    return _incident_out(svc, i)


@router.delete("/pages/{page_id}/incidents/{incident_id}", status_code=204, tags=["incidents"])
def delete_incident(page_id: str, incident_id: str, svc: Svc) -> Response:
    page = _page(svc, page_id)
    i = _incident(svc, page.id, incident_id, maintenance=False)
    svc.store.delete_incident(incident_id, now=svc.clock())
    _incident_changed(svc, i, components=False)
    return Response(status_code=204)


# -- scheduled maintenance -------------------------------------------------------------------

@router.get("/pages/{page_id}/maintenances", response_model=list[s.IncidentOut],
            tags=["maintenance"])
def list_maintenances(page_id: str, svc: Svc) -> list[dict[str, Any]]:
    page = _page(svc, page_id)
    return [_incident_out(svc, m)
            for m in svc.store.list_incidents(page.id, kind="maintenance", limit=100)]


@router.post("/pages/{page_id}/maintenances", response_model=s.IncidentOut, status_code=201,
             tags=["maintenance"])
def create_maintenance(page_id: str, body: s.MaintenanceIn, svc: Svc) -> dict[str, Any]:
    page = _page(svc, page_id)
    m = svc.store.create_maintenance(
        page.id, name=body.name, body=body.body, scheduled_for=body.scheduled_for,
        scheduled_until=body.scheduled_until, component_ids=body.components, now=svc.clock())
    _incident_changed(svc, m, components=True)
    return _incident_out(svc, m)


@router.get("/pages/{page_id}/maintenances/{maintenance_id}", response_model=s.IncidentOut,
            tags=["maintenance"])
def get_maintenance(page_id: str, maintenance_id: str, svc: Svc) -> dict[str, Any]:
    page = _page(svc, page_id)
    return _incident_out(svc, _incident(svc, page.id, maintenance_id, maintenance=True))


@router.patch("/pages/{page_id}/maintenances/{maintenance_id}", response_model=s.IncidentOut,
              tags=["maintenance"])
def patch_maintenance(page_id: str, maintenance_id: str, body: s.MaintenancePatch,
                      svc: Svc) -> dict[str, Any]:
    page = _page(svc, page_id)
    _incident(svc, page.id, maintenance_id, maintenance=True)
    m = svc.store.edit_incident(maintenance_id, now=svc.clock(), name=body.name,
                                scheduled_for=body.scheduled_for,
                                scheduled_until=body.scheduled_until)
    svc.store.advance_maintenance(svc.clock(), only=maintenance_id)
    _incident_changed(svc, m, components=True)
    return _incident_out(svc, svc.store.get_incident(maintenance_id))


@router.post("/pages/{page_id}/maintenances/{maintenance_id}/updates",
             response_model=s.IncidentOut, status_code=201, tags=["maintenance"])
def post_maintenance_update(page_id: str, maintenance_id: str, body: s.MaintenanceUpdateIn,
                            svc: Svc) -> dict[str, Any]:
    page = _page(svc, page_id)
    _incident(svc, page.id, maintenance_id, maintenance=True)
    m = svc.store.add_update(maintenance_id, status=body.status, body=body.body, now=svc.clock())
    _incident_changed(svc, m, components=True)
    return _incident_out(svc, m)


@router.delete("/pages/{page_id}/maintenances/{maintenance_id}", status_code=204,
               tags=["maintenance"])
def delete_maintenance(page_id: str, maintenance_id: str, svc: Svc) -> Response:
    page = _page(svc, page_id)
    m = _incident(svc, page.id, maintenance_id, maintenance=True)
    svc.store.delete_incident(maintenance_id, now=svc.clock())
    _incident_changed(svc, m, components=True)
    return Response(status_code=204)


__all__ = ["IncidentStatus", "MaintenanceStatus", "Services", "router"]
