"""Admin API for detection, ``/api/v1``: a page's detection settings, and what a
person does with an incident the engine opened — confirm it (it becomes public
and acknowledged) or dismiss it (a false alarm, kept and labelled, never shown).

Editing an automatic incident's name, impact or updates goes through the
ordinary incident endpoints.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from signalfire.domain.auto_incident import DetectionSettings
from signalfire.web import schemas as s
from signalfire.web.admin import (
    _ERRORS,
    Svc,
    _incident,
    _incident_changed,
    _incident_out,
    _page,
    require_token,
)

router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_token)], responses=_ERRORS)


def _settings_out(page_id: str, settings: DetectionSettings) -> dict[str, Any]:
    return {**settings.to_doc(), "page_id": page_id}


@router.get("/pages/{page_id}/detection", response_model=s.DetectionOut, tags=["detection"])
def get_detection(page_id: str, svc: Svc) -> dict[str, Any]:
    page = _page(svc, page_id)
    return _settings_out(page.id, DetectionSettings.from_doc(
        svc.store.detection_settings(page.id)))


@router.put("/pages/{page_id}/detection", response_model=s.DetectionOut, tags=["detection"])
def put_detection(page_id: str, body: s.DetectionIn, svc: Svc) -> dict[str, Any]:
    """Replace the page's detection settings (the page file sets them again at
    the next start if it has a ``detection`` key)."""
    page = _page(svc, page_id)
    settings = DetectionSettings.from_doc(body.model_dump())
    svc.store.put_detection_settings(page.id, settings.to_doc(), now=svc.clock())
    return _settings_out(page.id, settings)


@router.post("/pages/{page_id}/incidents/{incident_id}/confirm", response_model=s.IncidentOut,
             tags=["detection"])
def confirm_incident(page_id: str, incident_id: str, svc: Svc,
                     body: Annotated[s.IncidentConfirmIn | None, Body()] = None,
                     ) -> dict[str, Any]:
    """A person confirms an automatic incident: it is published (with the
    component statuses it proposed), no longer marked auto-detected, and its
    acknowledgement time is recorded. 409 if it is not waiting for that."""
    page = _page(svc, page_id)
    _incident(svc, page.id, incident_id, maintenance=False)
    i = svc.store.confirm_incident(incident_id, now=svc.clock(),
                                   body=body.body if body else None)
    _incident_changed(svc, i, components=True)
    return _incident_out(svc, i)


@router.post("/pages/{page_id}/incidents/{incident_id}/dismiss", response_model=s.IncidentOut,
             tags=["detection"])
def dismiss_incident(page_id: str, incident_id: str, svc: Svc,
                     body: Annotated[s.IncidentDismissIn | None, Body()] = None,
                     ) -> dict[str, Any]:
    """A person dismisses an automatic incident as a false alarm: it is
    resolved, hidden from the public, kept with its label and reason, and never
    reopened. 409 for an incident a person opened or confirmed."""
    page = _page(svc, page_id)
    _incident(svc, page.id, incident_id, maintenance=False)
    i = svc.store.dismiss_incident(incident_id, now=svc.clock(),
                                   reason=body.reason if body else "")
    _incident_changed(svc, i, components=True)
    return _incident_out(svc, i)
