"""The declarative YAML page file: pages, their component groups and components.

Parsing reports every problem at once, each prefixed by its key path
(``pages[0].groups[1].components[2].name: field required``), so that one run of
``signalfire`` shows the whole list instead of one mistake per restart.

Applying is idempotent and additive. Pages are matched by slug, groups and
components by name within their page; status is never touched, because it belongs
to incidents and detection. Groups and components that the file no longer names are
kept, not deleted: their status history feeds uptime and past incidents point at
them. The report lists them so the CLI can warn.

Positions follow file order: a page's groups first, then its components outside any
group, in one sequence; components inside a group are numbered within the group.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import Field, ValidationError, field_validator

from signalfire.config.channels import ChannelSpec, apply_channels
from signalfire.config.detection import DetectionSpec, apply_detection, detection_problems
from signalfire.config.monitors import MonitorSpec, apply_monitors, monitor_problems
from signalfire.config.spec import Name, Spec, Text, null_as
from signalfire.errors import ConfigError

if TYPE_CHECKING:
    from signalfire.store import Store

_SLUG = re.compile(r"[a-z0-9-]+")
DEFAULT_TIME_ZONE = "Etc/UTC"
# What users can say is wrong on the "is it down?" page, unless the file says otherwise.
DEFAULT_CATEGORIES = ("Not loading", "Login", "Slow", "Something else")


def category_slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:64] or "other"


_null_as = null_as
_Spec = Spec


class ComponentSpec(_Spec):
    name: Name
    description: Text = ""
    only_show_if_degraded: bool = False


class GroupSpec(_Spec):
    name: Name
    description: Text = ""
    components: Annotated[list[ComponentSpec], _null_as(list)] = []


class PageSpec(_Spec):
    slug: Annotated[str, Field(max_length=64)]
    name: Name
    url: Annotated[str, _null_as(str), Field(max_length=500)] = ""
    description: Text = ""
    time_zone: Annotated[str, _null_as(lambda: DEFAULT_TIME_ZONE)] = DEFAULT_TIME_ZONE
    groups: Annotated[list[GroupSpec], _null_as(list)] = []
    components: Annotated[list[ComponentSpec], _null_as(list)] = []
    monitors: Annotated[list[MonitorSpec], _null_as(list)] = []
    report_categories: Annotated[list[Name], _null_as(lambda: list(DEFAULT_CATEGORIES)),
                                 Field(min_length=1, max_length=30)] = list(DEFAULT_CATEGORIES)
    detection: DetectionSpec | None = None
    channels: Annotated[list[ChannelSpec], _null_as(list)] = []

    @field_validator("slug")
    @classmethod
    def _check_slug(cls, value: str) -> str:
        if not _SLUG.fullmatch(value):
            raise ValueError(f"must contain only a-z, 0-9 and '-', got {value!r}")
        return value

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value

    @field_validator("time_zone")
    @classmethod
    def _check_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like "
                             "'Europe/Amsterdam')") from None
        return value

    def placed_components(self) -> Iterator[tuple[ComponentSpec, GroupSpec | None, int]]:
        """Every component with its group and its position, in file order."""
        for group in self.groups:
            for position, component in enumerate(group.components):
                yield component, group, position
        for position, component in enumerate(self.components, start=len(self.groups)):
            yield component, None, position


class PageFile(_Spec):
    pages: list[PageSpec]


# -- parsing --------------------------------------------------------------------


def load_pagefile(path: str | Path) -> PageFile:
    """Read and check the page file at ``path``; ``ConfigError`` lists every problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"{path}: cannot read the page file: {reason}") from None
    return parse_pagefile(text, source=str(path))


def parse_pagefile(text: str, source: str = "<string>") -> PageFile:
    """Check the YAML ``text`` of a page file; ``ConfigError`` lists every problem."""
    try:
        # _UniqueKeyLoader is a SafeLoader: no arbitrary Python objects from a config file.
        raw = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        _fail(source, [_yaml_problem(exc)])
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML parse error is marked
        _fail(source, [str(exc)])
    if raw is None:  # an empty file, or only comments
        raw = {}
    errors: list[str] = []
    try:
        pagefile = PageFile.model_validate(raw)
    except ValidationError as exc:
        errors.extend(f"{_key_path(e['loc'])}: {_problem(e)}" for e in exc.errors())
    # Cross-entry checks run on the raw data so that they are reported even when other
    # entries are broken: the point is one complete list.
    errors.extend(_duplicates(raw))
    for i, page in _entries(raw, "pages"):
        errors.extend(monitor_problems(page, f"pages[{i}]"))
        errors.extend(detection_problems(page, f"pages[{i}]"))
        labels = page.get("report_categories")
        if isinstance(labels, list):
            slugs = [category_slug(x) for x in labels if isinstance(x, str)]
            for k, label in enumerate(labels):
                if isinstance(label, str) and slugs.count(category_slug(label)) > 1:
                    errors.append(f"pages[{i}].report_categories[{k}]: {label!r} is the same "
                                  "category as another one")
    if errors:
        _fail(source, errors)
    return pagefile


def _fail(source: str, errors: list[str]) -> NoReturn:
    noun = "problem" if len(errors) == 1 else "problems"
    raise ConfigError(f"{source}: {len(errors)} {noun} in the page file:\n  "
                      + "\n  ".join(errors), errors=errors)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                continue  # other keys: the base class reports what is wrong with them
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    if mark is None:  # pragma: no cover - PyYAML marks its errors
        return f"invalid YAML: {problem}"
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"


def _key_path(loc: Sequence[int | str]) -> str:
    """``("pages", 0, "slug")`` -> ``pages[0].slug``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "(top level)"


_MESSAGES = {
    "missing": "field required",
    "extra_forbidden": "unknown key",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "dict_type": "must be a mapping",
}


def _problem(error: Any) -> str:
    kind = error["type"]
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind == "value_error":
        return str(error["ctx"]["error"])  # our own validator's words
    if kind in ("string_too_short", "too_short"):
        return "must not be empty"
    if kind in ("string_too_long", "too_long"):
        return f"must be at most {error['ctx']['max_length']} characters"
    msg = str(error["msg"])
    return msg[:1].lower() + msg[1:]


def _duplicates(raw: Any) -> list[str]:
    """Slugs repeated across pages, group and component names repeated within a page."""
    errors: list[str] = []
    slugs: set[str] = set()
    for i, page in _entries(raw, "pages"):
        slug = page.get("slug")
        if isinstance(slug, str):
            if slug in slugs:
                errors.append(f"pages[{i}].slug: duplicate slug {slug!r}")
            slugs.add(slug)
        groups: set[str] = set()
        # Component names are unique per page, across groups: the store enforces it.
        components: set[str] = set()
        for j, group in _entries(page, "groups"):
            path = f"pages[{i}].groups[{j}]"
            errors.extend(_repeated_name(path, group, groups, "group"))
            for k, component in _entries(group, "components"):
                errors.extend(_repeated_name(f"{path}.components[{k}]", component,
                                             components, "component"))
        for k, component in _entries(page, "components"):
            errors.extend(_repeated_name(f"pages[{i}].components[{k}]", component,
                                         components, "component"))
    return errors


def _repeated_name(path: str, entry: dict[Any, Any], seen: set[str], noun: str) -> list[str]:
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        return []  # a missing or bad name is reported by validation already
    name = name.strip()
    if name in seen:
        return [f"{path}.name: duplicate {noun} name {name!r}"]
    seen.add(name)
    return []


def _entries(parent: Any, key: str) -> Iterator[tuple[int, dict[Any, Any]]]:
    """The mapping entries of the list ``parent[key]``, skipping anything malformed."""
    items = parent.get(key) if isinstance(parent, dict) else None
    if isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, dict):
                yield index, item


# -- applying ---------------------------------------------------------------------


@dataclass
class ApplyReport:
    """What applying a page file did, as lines a person reads."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # in the database, not in the file

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def apply_pagefile(store: Store, pagefile: PageFile, now: datetime) -> ApplyReport:
    """Create or update the pages, groups and components of ``pagefile`` in ``store``.

    Only what differs is written, so applying the same file twice changes nothing and
    the second report is empty apart from ``kept``. Each store call commits on its own;
    a failure half-way leaves a state that re-applying the file completes.
    """
    report = ApplyReport()
    for spec in pagefile.pages:
        _apply_page(store, spec, now, report)
    return report


def _apply_page(store: Store, spec: PageSpec, now: datetime, report: ApplyReport) -> None:
    # The file is the whole truth for the fields it covers: an optional key left out
    # resets the field to its default, so deleting a line from the file has an effect.
    wanted = {"name": spec.name, "url": spec.url, "time_zone": spec.time_zone,
              "description": spec.description}
    existing = next((p for p in store.list_pages() if p.slug == spec.slug), None)
    page = store.put_page(spec.slug, now=now, **wanted)
    label = f"page {spec.slug!r}"
    if existing is None:
        report.created.append(label)
    else:
        _note_update(report, label, _changed(existing, wanted))

    groups = {g.name: g for g in store.list_groups(page.id)}
    group_ids: dict[str, str] = {}
    for position, group_spec in enumerate(spec.groups):
        label = f"group {group_spec.name!r} on page {spec.slug!r}"
        wanted = {"description": group_spec.description, "position": position}
        group = groups.pop(group_spec.name, None)
        if group is None:
            group = store.create_group(page.id, name=group_spec.name, now=now, **wanted)
            report.created.append(label)
        elif changed := _changed(group, wanted):
            store.update_group(group.id, now=now, **{k: wanted[k] for k in changed})
            _note_update(report, label, changed)
        group_ids[group_spec.name] = group.id
    report.kept.extend(f"group {name!r} on page {spec.slug!r} (not in the file)"
                       for name in groups)

    components = {c.name: c for c in store.list_components(page.id)}
    for component_spec, group_spec, position in spec.placed_components():
        label = f"component {component_spec.name!r} on page {spec.slug!r}"
        wanted = {"description": component_spec.description,
                  "group_id": group_ids[group_spec.name] if group_spec else None,
                  "position": position,
                  "only_show_if_degraded": component_spec.only_show_if_degraded}
        component = components.pop(component_spec.name, None)
        if component is None:
            store.create_component(page.id, name=component_spec.name, now=now, **wanted)
            report.created.append(label)
        elif changed := _changed(component, wanted):
            store.update_component(component.id, now=now, **{k: wanted[k] for k in changed})
            _note_update(report, label, ["group" if k == "group_id" else k for k in changed])
    report.kept.extend(f"component {name!r} on page {spec.slug!r} (not in the file)"
                       for name in components)
    apply_monitors(store, spec, page.id, now, report)
    apply_detection(store, spec, page.id, now, report)
    apply_channels(store, spec, page.id, now, report)
    wanted_categories = [(category_slug(label), label) for label in spec.report_categories]
    if store.report_categories(page.id) != wanted_categories:
        store.set_report_categories(page.id, wanted_categories)
        if existing is not None:  # a new page's categories come with it
            report.updated.append(f"report categories of page {spec.slug!r}")


def _changed(record: Any, wanted: dict[str, Any]) -> list[str]:
    return [k for k, v in wanted.items() if getattr(record, k) != v]


def _note_update(report: ApplyReport, label: str, changed: list[str]) -> None:
    if changed:
        report.updated.append(f"{label}: {', '.join(changed)}")
