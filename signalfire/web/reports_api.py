"""Crowd reports in batches from trusted collectors (an edge worker, the app's own
backend forwarding in-app "report a problem" taps), and collector tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, StringConstraints, ValidationError

from signalfire.domain.crowd import Report
from signalfire.errors import AuthError, InputError
from signalfire.reports.geo import is_country
from signalfire.web.admin import _ERRORS, Services, require_token, services
from signalfire.web.schemas import Name, Strict

Short = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Svc = Annotated[Services, Depends(services)]


class BatchReport(Strict):
    page: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    category: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    component: Short | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")] | None = None
    reporter: Short = Field(description="the collector's own id of the reporter (an app "
                                        "install, a session); it is hashed again, never stored")


class ReportBatch(Strict):
    reports: Annotated[list[BatchReport], Field(min_length=1, max_length=10_000)]


class BatchOut(BaseModel):
    accepted: int
    counted: int


class CollectorIn(Strict):
    name: Name


class CollectorOut(BaseModel):
    id: str
    name: str
    token: str


_bearer = HTTPBearer(auto_error=False, description="A collector token")


def current_collector(request: Request, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
    if credentials is None:
        raise AuthError("missing Authorization: Bearer <collector token> header",
                        field="Authorization")
    return services(request).store.authenticate_collector(credentials.credentials)


router = APIRouter(prefix="/api/v1", responses=_ERRORS, tags=["reports"])


def _batch_body() -> dict[str, Any]:
    """The OpenAPI request body of a batch, with the item schema inlined."""
    schema = ReportBatch.model_json_schema()
    item = schema.pop("$defs")["BatchReport"]
    schema["properties"]["reports"]["items"] = item
    return {"required": True, "content": {"application/json": {"schema": schema}}}


@router.post("/reports/batch", response_model=BatchOut,
             openapi_extra={"requestBody": _batch_body()})
async def report_batch(request: Request,
                       collector: Annotated[str, Depends(current_collector)]) -> dict[str, Any]:
    """Many reports at once from a trusted collector; all stored or none.

    The server's time is each report's time; every report is counted once per
    reporter per window like any other.
    """
    # The body goes straight from bytes to models in pydantic's own JSON parser:
    # half the cost of decoding to dicts first, on a path that takes 100,000
    # reports a second.
    try:
        batch = ReportBatch.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]) from None
    svc = services(request)
    crowd = request.app.state.crowd
    now = svc.clock()
    key = request.app.state.reporter_keys.collector_keyer(collector, now=now)
    # A batch names a handful of pages: look each up once, not once per report.
    found_by_ref: dict[str, Any] = {}
    reports = []
    for i, r in enumerate(batch.reports):
        found = found_by_ref.get(r.page)
        if found is None:
            found = found_by_ref[r.page] = crowd.page(r.page)
            if found is None:
                raise InputError(f"no page {r.page!r}", field=f"reports.{i}.page")
        page, categories, components = found
        if r.category not in categories:
            raise InputError(f"unknown category {r.category!r}", field=f"reports.{i}.category")
        component_id = None
        if r.component is not None:
            component_id = components.get(r.component.lower())
            if component_id is None:
                raise InputError(f"no component {r.component!r} on this page",
                                 field=f"reports.{i}.component")
        country = r.country
        if country is not None:
            country = country.upper()
            if not is_country(country):
                raise InputError(f"not an ISO 3166-1 alpha-2 country code: {country!r}",
                                 field=f"reports.{i}.country")
        reports.append(Report(page.id, r.category, now, key(r.reporter), component_id, country,
                              "collector"))
    flags = await request.app.state.report_writer.add(reports)
    return {"accepted": len(flags), "counted": sum(flags)}


admin = APIRouter(prefix="/api/v1", dependencies=[Depends(require_token)], responses=_ERRORS,
                  tags=["reports"])


@admin.post("/collectors", response_model=CollectorOut, status_code=201)
def create_collector(body: CollectorIn, svc: Svc) -> dict[str, Any]:
    """A token for a trusted sender of report batches; shown once."""
    cid, token = svc.store.create_collector(body.name, now=svc.clock())
    return {"id": cid, "name": body.name, "token": token}
