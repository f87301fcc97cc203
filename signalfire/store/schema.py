"""The tables, in SQLAlchemy Core. Migrations in ``migrations/versions`` create the same."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite as on PostgreSQL.

    SQLite keeps no time zone, so values are stored as naive UTC and given
    their zone back when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; all times are aware UTC")
        value = value.astimezone(UTC)
        if getattr(dialect, "name", "") == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData()

pages = Table(
    "pages", metadata,
    Column("id", String(32), primary_key=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("url", String(500), nullable=False, default=""),
    Column("time_zone", String(64), nullable=False, default="Etc/UTC"),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

component_groups = Table(
    "component_groups", metadata,
    Column("id", String(32), primary_key=True),
    Column("page_id", String(32), ForeignKey("pages.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("position", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("page_id", "name", name="uq_group_name"),
)

components = Table(
    "components", metadata,
    Column("id", String(32), primary_key=True),
    Column("page_id", String(32), ForeignKey("pages.id", ondelete="CASCADE"), nullable=False),
    Column("group_id", String(32), ForeignKey("component_groups.id", ondelete="SET NULL")),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("status", String(32), nullable=False),
    Column("position", Integer, nullable=False, default=0),
    Column("only_show_if_degraded", Boolean, nullable=False, default=False),
    Column("showcase", Boolean, nullable=False, default=True),
    Column("start_date", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("page_id", "name", name="uq_component_name"),
)

component_status_changes = Table(
    "component_status_changes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("component_id", String(32), ForeignKey("components.id", ondelete="CASCADE"),
           nullable=False),
    Column("status", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_status_changes_component_at", "component_id", "at"),
)

incidents = Table(
    "incidents", metadata,
    Column("id", String(32), primary_key=True),
    Column("page_id", String(32), ForeignKey("pages.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # incident | maintenance
    Column("name", String(300), nullable=False),
    Column("status", String(32), nullable=False),
    Column("impact", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),
    Column("monitoring_at", UTCDateTime),
    Column("scheduled_for", UTCDateTime),
    Column("scheduled_until", UTCDateTime),
    Column("auto_detected", Boolean, nullable=False, default=False),
    Column("imported_from", String(500)),
    Index("ix_incidents_page_started", "page_id", "started_at"),
    UniqueConstraint("page_id", "imported_from", name="uq_incident_imported_from"),
)

incident_components = Table(
    "incident_components", metadata,
    Column("incident_id", String(32), ForeignKey("incidents.id", ondelete="CASCADE"),
           primary_key=True),
    Column("component_id", String(32), ForeignKey("components.id", ondelete="CASCADE"),
           primary_key=True),
)

incident_updates = Table(
    "incident_updates", metadata,
    Column("id", String(32), primary_key=True),
    Column("incident_id", String(32), ForeignKey("incidents.id", ondelete="CASCADE"),
           nullable=False),
    Column("status", String(32), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("display_at", UTCDateTime, nullable=False),
    Index("ix_updates_incident", "incident_id", "display_at"),
)

update_components = Table(
    "incident_update_components", metadata,
    Column("update_id", String(32), ForeignKey("incident_updates.id", ondelete="CASCADE"),
           primary_key=True),
    Column("component_id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("old_status", String(32), nullable=False),
    Column("new_status", String(32), nullable=False),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(128), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
)

# One counter per database, bumped by every write that changes what the public
# sees, so that every node can drop its rendered cache when another node wrote.
revisions = Table(
    "revisions", metadata,
    Column("name", String(32), primary_key=True),
    Column("value", Integer, nullable=False),
)
