"""Pages, component groups, components and their status history."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from signalfire.domain.events import EventKind
from signalfire.domain.model import Component, ComponentGroup, Page, StatusChange
from signalfire.domain.status import ComponentStatus
from signalfire.errors import InputError, NotFound
from signalfire.store import schema as t

if TYPE_CHECKING:
    from signalfire.store.store import Store


def page_from_row(r: Any) -> Page:
    return Page(id=r.id, slug=r.slug, name=r.name, url=r.url, time_zone=r.time_zone,
                description=r.description, created_at=r.created_at, updated_at=r.updated_at)


def group_from_row(r: Any) -> ComponentGroup:
    return ComponentGroup(id=r.id, page_id=r.page_id, name=r.name, description=r.description,
                          position=r.position, created_at=r.created_at, updated_at=r.updated_at)


def component_from_row(r: Any) -> Component:
    return Component(
        id=r.id, page_id=r.page_id, name=r.name, status=ComponentStatus(r.status),
        description=r.description, group_id=r.group_id, position=r.position,
        only_show_if_degraded=r.only_show_if_degraded, showcase=r.showcase,
        start_date=r.start_date, created_at=r.created_at, updated_at=r.updated_at,
    )


_PAGE_FIELDS = {"name", "url", "time_zone", "description"}
_GROUP_FIELDS = {"name", "description", "position"}
_COMPONENT_FIELDS = {"name", "description", "group_id", "position", "only_show_if_degraded",
                     "showcase", "start_date", "status"}


class ComponentsMixin:
    # -- pages ----------------------------------------------------------------

    def put_page(self: Store, slug: str, *, now: datetime, **fields: Any) -> Page:
        """Create the page with this slug, or update the fields given."""
        unknown = set(fields) - _PAGE_FIELDS
        if unknown:
            raise InputError(f"unknown page field {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
        with self._write() as conn:
            row = conn.execute(select(t.pages).where(t.pages.c.slug == slug)).first()
            if row is None:
                page_id = self.new_id()
                conn.execute(insert(t.pages).values(
                    id=page_id, slug=slug, name=fields.get("name", slug),
                    url=fields.get("url", ""), time_zone=fields.get("time_zone", "Etc/UTC"),
                    description=fields.get("description", ""), created_at=now, updated_at=now))
            else:
                page_id = row.id
                changed = {k: v for k, v in fields.items() if getattr(row, k) != v}
                if changed:
                    conn.execute(update(t.pages).where(t.pages.c.id == page_id)
                                 .values(**changed, updated_at=now))
        return self.get_page(page_id)

    def get_page(self: Store, page_id_or_slug: str) -> Page:
        with self._read() as conn:
            row = conn.execute(select(t.pages).where(
                (t.pages.c.id == page_id_or_slug) | (t.pages.c.slug == page_id_or_slug))).first()
        if row is None:
            raise NotFound(f"no page {page_id_or_slug!r}", field="page_id")
        return page_from_row(row)

    def list_pages(self: Store) -> list[Page]:
        with self._read() as conn:
            rows = conn.execute(select(t.pages).order_by(t.pages.c.created_at, t.pages.c.slug))
            return [page_from_row(r) for r in rows]

    # -- groups ---------------------------------------------------------------

    def create_group(self: Store, page_id: str, *, name: str, now: datetime,
                     description: str = "", position: int = 0) -> ComponentGroup:
        self.get_page(page_id)
        group_id = self.new_id()
        try:
            with self._write() as conn:
                conn.execute(insert(t.component_groups).values(
                    id=group_id, page_id=page_id, name=name, description=description,
                    position=position, created_at=now, updated_at=now))
        except IntegrityError:
            raise InputError(f"a group named {name!r} already exists", field="name") from None
        return self.get_group(group_id)

    def update_group(self: Store, group_id: str, *, now: datetime, **fields: Any) -> ComponentGroup:
        self.get_group(group_id)
        fields = {k: v for k, v in fields.items() if k in _GROUP_FIELDS}
        try:
            with self._write() as conn:
                conn.execute(update(t.component_groups).where(t.component_groups.c.id == group_id)
                             .values(**fields, updated_at=now))
        except IntegrityError:
            raise InputError(f"a group named {fields.get('name')!r} already exists",
                             field="name") from None
        return self.get_group(group_id)

    def delete_group(self: Store, group_id: str) -> None:
        self.get_group(group_id)
        with self._write() as conn:
            conn.execute(update(t.components).where(t.components.c.group_id == group_id)
                         .values(group_id=None))
            conn.execute(delete(t.component_groups).where(t.component_groups.c.id == group_id))

    def get_group(self: Store, group_id: str) -> ComponentGroup:
        with self._read() as conn:
            row = conn.execute(select(t.component_groups)
                               .where(t.component_groups.c.id == group_id)).first()
        if row is None:
            raise NotFound(f"no component group {group_id!r}", field="group_id")
        return group_from_row(row)

    def list_groups(self: Store, page_id: str) -> list[ComponentGroup]:
        with self._read() as conn:
            rows = conn.execute(select(t.component_groups)
                                .where(t.component_groups.c.page_id == page_id)
                                .order_by(t.component_groups.c.position, t.component_groups.c.name))
            return [group_from_row(r) for r in rows]

    # -- components -------------------------------------------------------------

    def create_component(self: Store, page_id: str, *, name: str, now: datetime,
                         status: ComponentStatus = ComponentStatus.OPERATIONAL,
                         **fields: Any) -> Component:
        self.get_page(page_id)
        fields = {k: v for k, v in fields.items() if k in _COMPONENT_FIELDS}
        self._check_group(page_id, fields.get("group_id"))
        component_id = self.new_id()
        try:
            with self._write() as conn:
                conn.execute(insert(t.components).values(
                    id=component_id, page_id=page_id, name=name, status=status.value,
                    description=fields.get("description", ""), group_id=fields.get("group_id"),
                    position=fields.get("position", 0),
                    only_show_if_degraded=fields.get("only_show_if_degraded", False),
                    showcase=fields.get("showcase", True), start_date=fields.get("start_date"),
                    created_at=now, updated_at=now))
                conn.execute(insert(t.component_status_changes).values(
                    component_id=component_id, status=status.value,
                    at=fields.get("start_date") or now))
        except IntegrityError:
            raise InputError(f"a component named {name!r} already exists", field="name") from None
        return self.get_component(component_id)

    def update_component(self: Store, component_id: str, *, now: datetime,
                         **fields: Any) -> Component:
        current = self.get_component(component_id)
        fields = {k: v for k, v in fields.items() if k in _COMPONENT_FIELDS}
        if "group_id" in fields:
            self._check_group(current.page_id, fields["group_id"])
        status = fields.pop("status", None)
        try:
            with self._write() as conn:
                if fields:
                    conn.execute(update(t.components).where(t.components.c.id == component_id)
                                 .values(**fields, updated_at=now))
                if status is not None:
                    old = self._set_status(conn, component_id, ComponentStatus(status), now)
                    if old is not ComponentStatus(status):
                        self._emit(conn, current.page_id, EventKind.COMPONENT_STATUS,
                                   component_id, [component_id],
                                   {"old_status": old.value, "new_status": status}, now=now)
        except IntegrityError:
            raise InputError(f"a component named {fields.get('name')!r} already exists",
                             field="name") from None
        return self.get_component(component_id)

    def delete_component(self: Store, component_id: str) -> None:
        self.get_component(component_id)
        with self._write() as conn:
            conn.execute(delete(t.components).where(t.components.c.id == component_id))

    def get_component(self: Store, component_id: str) -> Component:
        with self._read() as conn:
            row = conn.execute(select(t.components)
                               .where(t.components.c.id == component_id)).first()
        if row is None:
            raise NotFound(f"no component {component_id!r}", field="component_id")
        return component_from_row(row)

    def list_components(self: Store, page_id: str) -> list[Component]:
        with self._read() as conn:
            rows = conn.execute(select(t.components).where(t.components.c.page_id == page_id)
                                .order_by(t.components.c.position, t.components.c.name))
            return [component_from_row(r) for r in rows]

    def status_history(self: Store, component_ids: Iterable[str],
                       since: datetime) -> dict[str, list[StatusChange]]:
        """Each component's changes since ``since``, led by the one in force at ``since``."""
        ids = list(component_ids)
        out: dict[str, list[StatusChange]] = {i: [] for i in ids}
        if not ids:
            return out
        c = t.component_status_changes.c
        with self._read() as conn:
            rows = conn.execute(select(c.component_id, c.status, c.at)
                                .where(c.component_id.in_(ids)).order_by(c.at, c.id))
            for r in rows:
                change = StatusChange(r.component_id, ComponentStatus(r.status), r.at)
                seq = out[r.component_id]
                # Keep only the last change before ``since``: it sets the opening status.
                if change.at <= since and seq and seq[-1].at <= since:
                    seq[-1] = change
                else:
                    seq.append(change)
        return out

    # -- helpers shared with incidents -----------------------------------------

    def _check_group(self: Store, page_id: str, group_id: str | None) -> None:
        if group_id is None:
            return
        try:
            group = self.get_group(group_id)
        except NotFound:
            raise InputError(f"no component group {group_id!r}", field="group_id") from None
        if group.page_id != page_id:
            raise InputError(f"group {group_id!r} belongs to another page", field="group_id")

    def _set_status(self: Store, conn: Connection, component_id: str,
                    status: ComponentStatus, now: datetime) -> ComponentStatus:
        """Set a component's status, recording the change; returns the old status."""
        old = conn.execute(select(t.components.c.status)
                           .where(t.components.c.id == component_id)).scalar_one()
        if old != status.value:
            conn.execute(update(t.components).where(t.components.c.id == component_id)
                         .values(status=status.value, updated_at=now))
            conn.execute(insert(t.component_status_changes).values(
                component_id=component_id, status=status.value, at=now))
        return ComponentStatus(old)
