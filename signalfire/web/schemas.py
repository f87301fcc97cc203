"""Request and response bodies of the admin API. Unknown fields are refused, so a
typo (``stauts``) is an error that names itself, not a silent no-op."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from signalfire.domain.status import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _printable(value: str) -> str:
    # Control characters cannot travel in feeds (XML) or show on a page; refuse
    # them at the door rather than publish something that breaks a reader.
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


Printable = AfterValidator(_printable)
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                 Printable]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
                  Printable]
Text = Annotated[str, StringConstraints(max_length=20_000), Printable]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000),
                 Printable]
Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{1,32}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PagePatch(Strict):
    name: Name | None = None
    url: Annotated[str, StringConstraints(max_length=500)] | None = None
    description: Text | None = None
    time_zone: Annotated[str, StringConstraints(max_length=64)] | None = None


class GroupIn(Strict):
    name: Name
    description: Text = ""
    position: int = Field(0, ge=0, le=100_000)


class GroupPatch(Strict):
    name: Name | None = None
    description: Text | None = None
    position: int | None = Field(None, ge=0, le=100_000)


class ComponentIn(Strict):
    name: Name
    description: Text = ""
    status: ComponentStatus = ComponentStatus.OPERATIONAL
    group_id: Id | None = None
    position: int = Field(0, ge=0, le=100_000)
    only_show_if_degraded: bool = False
    showcase: bool = True


class ComponentPatch(Strict):
    name: Name | None = None
    description: Text | None = None
    status: ComponentStatus | None = None
    group_id: Id | None = None
    position: int | None = Field(None, ge=0, le=100_000)
    only_show_if_degraded: bool | None = None
    showcase: bool | None = None


ComponentStatuses = Annotated[dict[Id, ComponentStatus], Field(max_length=500)]


class IncidentIn(Strict):
    name: Title
    status: IncidentStatus = IncidentStatus.INVESTIGATING
    impact: Impact | None = Field(None, description="none, minor, major or critical; "
                                  "derived from the component statuses when left out")
    body: Body
    components: ComponentStatuses = Field(default_factory=dict)
    started_at: AwareDatetime | None = None


class IncidentUpdateIn(Strict):
    status: IncidentStatus
    body: Body
    components: ComponentStatuses = Field(default_factory=dict)
    impact: Impact | None = None


class IncidentPatch(Strict):
    name: Title | None = None
    impact: Impact | None = None
    confirmed: bool | None = Field(None, description="true marks an auto-detected incident "
                                   "as confirmed by a person")


class IncidentConfirmIn(Strict):
    body: Body | None = Field(None, description="the public update posted when an incident "
                              "held back for confirmation is published")


class IncidentDismissIn(Strict):
    reason: Text = Field("", description="why it was a false alarm; kept with the incident")


_Region = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
_Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
_Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,64}$")]


class DetectionIn(Strict):
    """A page's detection settings; the page file's ``detection`` key says the same."""

    enabled: bool = True
    detector: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")] = "counts"
    threshold: Annotated[float, Field(gt=0, le=1)] = 0.6
    publish: Literal["auto", "confirm"] = "auto"
    quiet_period_s: Annotated[float, Field(ge=60, le=7 * 86400)] = 900
    reopen_window_s: Annotated[float, Field(ge=0, le=7 * 86400)] = 3600
    min_count: Annotated[int, Field(ge=1, le=1_000_000)] = 5
    history_days: Annotated[int, Field(ge=1, le=28)] = 7
    regions: Annotated[dict[_Region, Annotated[list[_Country], Field(max_length=250)]],
                       Field(max_length=100)] = Field(default_factory=dict)
    categories: Annotated[dict[_Slug, Name], Field(max_length=100)] = Field(
        default_factory=dict, description="report category slug → component name")


class DetectionOut(DetectionIn):
    model_config = ConfigDict(extra="ignore")
    page_id: str


class MaintenanceIn(Strict):
    name: Title
    body: Body
    scheduled_for: AwareDatetime
    scheduled_until: AwareDatetime
    components: Annotated[list[Id], Field(max_length=500)] = Field(default_factory=list)


class MaintenanceUpdateIn(Strict):
    status: MaintenanceStatus
    body: Body


class MaintenancePatch(Strict):
    name: Title | None = None
    scheduled_for: AwareDatetime | None = None
    scheduled_until: AwareDatetime | None = None


# -- responses ------------------------------------------------------------------------


class PageOut(BaseModel):
    id: str
    slug: str
    name: str
    url: str
    time_zone: str
    description: str
    created_at: str | None
    updated_at: str | None


class GroupOut(BaseModel):
    id: str
    page_id: str
    name: str
    description: str
    position: int
    created_at: str | None
    updated_at: str | None


class ComponentOut(BaseModel):
    id: str
    page_id: str
    group_id: str | None
    name: str
    description: str | None
    status: ComponentStatus
    position: int
    showcase: bool
    only_show_if_degraded: bool
    start_date: str | None
    group: bool
    created_at: str | None
    updated_at: str | None


class AffectedComponentOut(BaseModel):
    code: str
    name: str
    old_status: ComponentStatus
    new_status: ComponentStatus


class UpdateOut(BaseModel):
    id: str
    incident_id: str
    status: str
    body: str
    created_at: str | None
    updated_at: str | None
    display_at: str | None
    affected_components: list[AffectedComponentOut] | None


class IncidentOut(BaseModel):
    id: str
    page_id: str
    name: str
    status: str
    impact: Impact
    shortlink: str
    created_at: str | None
    updated_at: str | None
    started_at: str | None
    monitoring_at: str | None
    resolved_at: str | None
    scheduled_for: str | None = None
    scheduled_until: str | None = None
    auto_detected: bool
    published: bool = True
    dismissed_at: str | None = None
    onset_at: str | None = None
    detected_at: str | None = None
    acknowledged_at: str | None = None
    first_public_update_at: str | None = None
    detection: dict[str, Any] | None = None
    incident_updates: list[UpdateOut]
    components: list[ComponentOut]


class TokenOut(BaseModel):
    id: str
    name: str
    created_at: str | None
    last_used_at: str | None


class Problem(BaseModel):
    error: str
    field: str | None
    status: int
