"""Monitors in the page file: their shape, their checks, and applying them.

A monitor entry names its component by name; its kind's options, its target
and every condition are checked here, so that `signalfire config validate`
catches a typo (`[STAUTS]`) with its key path instead of every run failing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, Field, field_validator

from signalfire.domain.durations import parse_duration_s
from signalfire.domain.probe import LOCAL_REGION, MonitorKind

if TYPE_CHECKING:
    from signalfire.config.pagefile import ApplyReport, PageSpec
    from signalfire.store import Store

from signalfire.config.spec import Name, Spec, null_as


def _duration(value: Any) -> float:
    return parse_duration_s(value)


Duration = Annotated[float, BeforeValidator(_duration)]


class MonitorSpec(Spec):
    name: Name
    kind: Annotated[MonitorKind, Field(strict=False)]
    component: Name | None = None
    target: Annotated[str, null_as(str), Field(max_length=2000)] = ""
    interval: Duration = 60.0
    timeout: Duration = 10.0
    regions: Annotated[list[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]],
                       null_as(lambda: [LOCAL_REGION])] = [LOCAL_REGION]
    conditions: Annotated[list[str], null_as(list)] = []
    failure_threshold: Annotated[int, Field(ge=1, le=100)] = 3
    success_threshold: Annotated[int, Field(ge=1, le=100)] = 2
    degraded_ms: Annotated[float | None, Field(gt=0)] = None
    options: Annotated[dict[str, Any], null_as(dict)] = {}
    enabled: bool = True

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: float) -> float:
        if value < 1:
            raise ValueError("must be at least 1s")
        return value

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: float) -> float:
        if not 0 < value <= 300:
            raise ValueError("must be more than 0s and at most 300s")
        return value

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("must name at least one region")
        if len(set(value)) != len(value):
            raise ValueError("lists a region twice")
        return value


def monitor_problems(raw_page: dict[str, Any], path: str) -> Iterator[str]:
    """What the monitor entries of a raw page get wrong, each with its key path."""
    names = _component_names(raw_page)
    monitors = raw_page.get("monitors")
    if not isinstance(monitors, list):
        return
    seen: set[str] = set()
    for j, entry in enumerate(monitors):
        if not isinstance(entry, dict):
            continue
        here = f"{path}.monitors[{j}]"
        name = entry.get("name")
        if isinstance(name, str):
            if name in seen:
                yield f"{here}.name: duplicate monitor name {name!r}"
            seen.add(name)
        component = entry.get("component")
        if isinstance(component, str) and component.strip() not in names:
            yield f"{here}.component: no component named {component!r} on this page"
        yield from (f"{here}.{p}" for p in entry_problems(entry))


def entry_problems(entry: dict[str, Any]) -> list[str]:
    """What a monitor's kind, target, options and conditions get wrong, as
    ``key: message`` (``conditions[1]: unknown placeholder [STAUTS]…``)."""
    from signalfire.domain.conditions import parse_condition
    from signalfire.errors import ConfigError
    from signalfire.probes import PROBES

    try:
        kind = MonitorKind(entry.get("kind"))
    except ValueError:
        return []  # reported by the model already
    problems = []
    probe = PROBES[kind]
    target = entry.get("target") or ""
    if isinstance(target, str) and probe.active:
        problem = probe.validate_target(target)
        if problem:
            problems.append(f"target: {problem}")
    problems.extend(probe.validate_options(entry.get("options") or {}))
    conditions = entry.get("conditions") or []
    if isinstance(conditions, list | tuple):
        for k, text in enumerate(conditions):
            if not isinstance(text, str):
                continue
            try:
                parse_condition(text)
            except ConfigError as exc:
                problems.append(f"conditions[{k}]: {exc.message}")
    return problems


def _component_names(raw_page: dict[str, Any]) -> set[str]:
    names = set()
    for group in raw_page.get("groups") or []:
        if isinstance(group, dict):
            for c in group.get("components") or []:
                if isinstance(c, dict) and isinstance(c.get("name"), str):
                    names.add(c["name"].strip())
    for c in raw_page.get("components") or []:
        if isinstance(c, dict) and isinstance(c.get("name"), str):
            names.add(c["name"].strip())
    return names


def apply_monitors(store: Store, spec: PageSpec, page_id: str, now: datetime,
                   report: ApplyReport) -> None:
    components = {c.name: c.id for c in store.list_components(page_id)}
    existing = {m.name: m for m in store.list_monitors(page_id=page_id)}
    for m in spec.monitors:
        label = f"monitor {m.name!r} on page {spec.slug!r}"
        wanted: dict[str, Any] = {
            "component_id": components.get(m.component) if m.component else None,
            "kind": m.kind, "target": m.target, "interval_s": m.interval, "timeout_s": m.timeout,
            "regions": tuple(m.regions), "conditions": tuple(m.conditions),
            "failure_threshold": m.failure_threshold, "success_threshold": m.success_threshold,
            "degraded_ms": m.degraded_ms, "options": dict(m.options), "enabled": m.enabled,
        }
        current = existing.pop(m.name, None)
        if current is None:
            created = store.create_monitor(page_id, name=m.name, now=now, **wanted)
            if m.kind is MonitorKind.HEARTBEAT:
                secret = store.set_heartbeat_secret(created.id)
                label += f" (ping URL: /api/v1/heartbeat/{secret} — shown once)"
            report.created.append(label)
            continue
        changed = [k for k, v in wanted.items() if getattr(current, k) != v]
        if changed:
            store.update_monitor(current.id, now=now, **{k: wanted[k] for k in changed})
            report.updated.append(f"{label}: {', '.join(changed)}")
    report.kept.extend(f"monitor {name!r} on page {spec.slug!r} (not in the file)"
                       for name in existing)
