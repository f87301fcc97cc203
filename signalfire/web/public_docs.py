"""The public documents, declared for the OpenAPI description only.

Requests for them are answered by ``PublicSite`` from rendered bytes before they
reach FastAPI; these declarations make them show in ``/api/docs``.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

router = APIRouter(tags=["public (Statuspage v2)"])

_DOCS = {
    "/api/v2/summary.json": "Page, components, unresolved incidents, upcoming and active "
                            "maintenance, and the page status.",
    "/api/v2/status.json": "The page's indicator (none, minor, major, critical, maintenance) "
                           "and its description.",
    "/api/v2/components.json": "Components and groups.",
    "/api/v2/incidents.json": "The 50 most recent incidents.",
    "/api/v2/incidents/unresolved.json": "Incidents not yet resolved.",
    "/api/v2/scheduled-maintenances.json": "The 50 most recent maintenance windows.",
    "/api/v2/scheduled-maintenances/upcoming.json": "Maintenance not yet started.",
    "/api/v2/scheduled-maintenances/active.json": "Maintenance in progress or verifying.",
    "/history.rss": "RSS 2.0 feed of incidents and maintenance.",
    "/history.atom": "Atom feed of incidents and maintenance.",
    "/badge.svg": "An SVG status badge.",
}


def _declare(path: str, summary: str) -> None:
    def handler() -> Response:  # answered by PublicSite; never reached
        return Response(status_code=404)

    router.add_api_route(path, handler, methods=["GET"], summary=summary,
                         response_class=Response, responses={200: {"description": summary}},
                         operation_id="public_" + path.strip("/").replace("/", "_")
                         .replace(".", "_").replace("-", "_"))


for _path, _summary in _DOCS.items():
    _declare(_path, _summary)


class ReportIn(BaseModel):
    page: str = Field(description="The page's slug or id")
    category: str = Field(description="One of the page's report categories (its slug)")
    component: str | None = Field(None, description="A component's id or name")
    country: str | None = Field(None, description="ISO 3166-1 alpha-2; from the address "
                                                  "when left out")
    website: str | None = Field(None, description="Leave empty (a trap for bots)")


class ReportAck(BaseModel):
    accepted: bool
    counted: bool = Field(description="false when this reporter already counted for this "
                                      "page in the last 30 minutes")


_PROBLEM = {"application/problem+json": {"schema": {
    "type": "object", "properties": {"error": {"type": "string"},
                                     "field": {"type": ["string", "null"]},
                                     "status": {"type": "integer"}}}}}


@router.post("/api/v1/reports", status_code=201, response_model=ReportAck, tags=["reports"],
             summary="Report a problem (public; JSON or a form post)",
             responses={303: {"description": "form posts are sent back to the page"},
                        **{code: {"description": why, "content": _PROBLEM} for code, why in [
                            (400, "unreadable body"), (413, "body too large"),
                            (415, "neither JSON nor a form"),
                            (422, "a field is wrong; it is named"),
                            (429, "too many reports from this address")]}})
def report_problem(body: ReportIn) -> ReportAck:  # answered by ReportIntake; never reached
    return ReportAck(accepted=False, counted=False)
