"""Detection in the page file: the ``detection`` key of a page.

::

    detection:
      enabled: true
      detector: counts
      threshold: 0.6
      publish: confirm          # or auto
      quiet_period: 15m
      reopen_window: 1h
      min_count: 5
      history: 7d
      regions:                  # probe region → countries its users are in
        sa-east: [BR, MX, AR]
      categories:               # report category → the component it is about
        Video upload: Video upload

Leaving the key out turns detection off for the page. Every key is
documented in ``docs/configuration.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, Field, field_validator

from signalfire.config.spec import Spec, null_as
from signalfire.domain.auto_incident import DetectionSettings, PublishMode
from signalfire.domain.durations import parse_duration_s

if TYPE_CHECKING:
    from signalfire.config.pagefile import ApplyReport, PageSpec
    from signalfire.store import Store

_COUNTRY = re.compile(r"[A-Z]{2}")
Duration = Annotated[float, BeforeValidator(parse_duration_s)]
_D = DetectionSettings()


class DetectionSpec(Spec):
    enabled: bool = True
    detector: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")] = _D.detector
    threshold: Annotated[float, Field(strict=False, gt=0, le=1)] = _D.threshold
    publish: Annotated[PublishMode, Field(strict=False)] = _D.publish
    quiet_period: Duration = _D.quiet_period_s
    reopen_window: Duration = _D.reopen_window_s
    min_count: Annotated[int, Field(ge=1, le=1_000_000)] = _D.min_count
    history: Duration = _D.history_days * 86400.0
    regions: Annotated[dict[str, list[str]], null_as(dict)] = {}
    categories: Annotated[dict[str, str], null_as(dict)] = {}

    @field_validator("quiet_period")
    @classmethod
    def _quiet(cls, value: float) -> float:
        if not 60 <= value <= 7 * 86400:
            raise ValueError("must be between 1m and 7d")
        return value

    @field_validator("reopen_window")
    @classmethod
    def _reopen(cls, value: float) -> float:
        if value > 7 * 86400:
            raise ValueError("must be at most 7d")
        return value

    @field_validator("history")
    @classmethod
    def _history(cls, value: float) -> float:
        if not 86400 <= value <= 28 * 86400 or value % 86400:
            raise ValueError("must be whole days, from 1d to 28d")
        return value

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for region, countries in value.items():
            if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", region):
                raise ValueError(f"{region!r} is not a region name (like eu-west)")
            for country in countries:
                if not isinstance(country, str) or not _COUNTRY.fullmatch(country):
                    raise ValueError(f"{region}: {country!r} is not a two-letter country code "
                                     "(like BR)")
        return value

    def settings(self) -> DetectionSettings:
        from signalfire.config.pagefile import category_slug

        return DetectionSettings(
            enabled=self.enabled, detector=self.detector, threshold=self.threshold,
            publish=self.publish, quiet_period_s=self.quiet_period,
            reopen_window_s=self.reopen_window, min_count=self.min_count,
            history_days=int(self.history // 86400),
            regions={r: tuple(c) for r, c in self.regions.items()},
            categories={category_slug(k): v.strip() for k, v in self.categories.items()})


def detection_problems(raw_page: dict[str, Any], path: str) -> Iterator[str]:
    """Categories and components that ``detection.categories`` names but the page lacks."""
    from signalfire.config.monitors import _component_names
    from signalfire.config.pagefile import DEFAULT_CATEGORIES, category_slug

    detection = raw_page.get("detection")
    if not isinstance(detection, dict) or not isinstance(detection.get("categories"), dict):
        return
    labels = raw_page.get("report_categories") or list(DEFAULT_CATEGORIES)
    slugs = {category_slug(x) for x in labels if isinstance(x, str)}
    components = _component_names(raw_page)
    for category, component in detection["categories"].items():
        here = f"{path}.detection.categories.{category}"
        if isinstance(category, str) and category_slug(category) not in slugs:
            yield f"{here}: no report category {category!r} on this page"
        if isinstance(component, str) and component.strip() not in components:
            yield f"{here}: no component named {component!r} on this page"


def apply_detection(store: Store, spec: PageSpec, page_id: str, now: datetime,
                    report: ApplyReport) -> None:
    wanted = spec.detection.settings() if spec.detection else DetectionSettings()
    stored = store.detection_settings(page_id)
    if stored is None and not wanted.enabled:
        return
    if stored is None or DetectionSettings.from_doc(stored) != wanted:
        store.put_detection_settings(page_id, wanted.to_doc(), now=now)
        report.updated.append(f"detection of page {spec.slug!r}")
