"""The tables, in SQLAlchemy Core. Migrations in ``migrations/versions`` create the same."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    true,
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
    # Detection: when the trouble began (the first anomalous minute), when the
    # engine noticed, when a person acknowledged it, when the public first saw it.
    Column("onset_at", UTCDateTime),
    Column("detected_at", UTCDateTime),
    Column("acknowledged_at", UTCDateTime),
    Column("first_public_update_at", UTCDateTime),
    # An automatic incident on a page that wants confirmation stays internal
    # (published false) until a person confirms it; a dismissed one stays hidden.
    Column("published", Boolean, nullable=False, default=True, server_default=true()),
    Column("dismissed_at", UTCDateTime),
    Column("detection", JSON),  # scope and evidence of an automatic incident
    Index("ix_incidents_page_started", "page_id", "started_at"),
    Index("ix_incidents_page_detected", "page_id", "detected_at"),
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

# -- synthetic monitoring ------------------------------------------------------------

monitors = Table(
    "monitors", metadata,
    Column("id", String(32), primary_key=True),
    Column("page_id", String(32), ForeignKey("pages.id", ondelete="CASCADE"), nullable=False),
    Column("component_id", String(32), ForeignKey("components.id", ondelete="SET NULL")),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("target", String(2000), nullable=False, default=""),
    Column("interval_s", Float, nullable=False),
    Column("timeout_s", Float, nullable=False),
    Column("regions", JSON, nullable=False),
    Column("conditions", JSON, nullable=False),
    Column("failure_threshold", Integer, nullable=False),
    Column("success_threshold", Integer, nullable=False),
    Column("degraded_ms", Float),
    Column("options", JSON, nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    # Heartbeat monitors are pinged at /api/v1/heartbeat/<secret>; only its hash is kept.
    Column("heartbeat_hash", String(128), unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("page_id", "name", name="uq_monitor_name"),
)

monitor_states = Table(
    "monitor_states", metadata,
    Column("monitor_id", String(32), ForeignKey("monitors.id", ondelete="CASCADE"),
           primary_key=True),
    Column("region", String(64), primary_key=True),
    Column("up", Boolean),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("consecutive_successes", Integer, nullable=False, default=0),
    Column("last_at", UTCDateTime),
    Column("last_ok", Boolean),
    Column("last_duration_ms", Float),
    Column("changed_at", UTCDateTime),
    Column("slow", Boolean, nullable=False, default=False),
    Column("last_error", Text),
)

monitor_flips = Table(
    "monitor_flips", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("monitor_id", String(32), ForeignKey("monitors.id", ondelete="CASCADE"),
           nullable=False),
    Column("region", String(64), nullable=False),
    Column("up", Boolean, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Index("ix_monitor_flips_monitor_at", "monitor_id", "at"),
)

observations = Table(
    "observations", metadata,
    Column("id", String(64), primary_key=True),
    Column("monitor_id", String(32), ForeignKey("monitors.id", ondelete="CASCADE"),
           nullable=False),
    Column("region", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("status", Integer),
    Column("error", String(64)),
    Column("error_detail", Text),
    Column("conditions", JSON, nullable=False),
    Index("ix_observations_monitor_at", "monitor_id", "at"),
    Index("ix_observations_received", "received_at"),
)

rollups = Table(
    "rollups", metadata,
    Column("monitor_id", String(32), ForeignKey("monitors.id", ondelete="CASCADE"),
           primary_key=True),
    Column("region", String(64), primary_key=True),
    Column("width_s", Integer, primary_key=True),
    Column("start", UTCDateTime, primary_key=True),
    Column("checks", Integer, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("data", JSON, nullable=False),  # latency histogram and percentiles
)

component_verdicts = Table(
    "component_verdicts", metadata,
    Column("component_id", String(32), ForeignKey("components.id", ondelete="CASCADE"),
           primary_key=True),
    Column("status", String(32)),
    Column("reason", Text, nullable=False, default=""),
    Column("at", UTCDateTime, nullable=False),
)

agents = Table(
    "agents", metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("region", String(64), nullable=False),
    Column("token_hash", String(128), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
)

# Where each periodic job got to (the rollup's watermark over received_at).
job_marks = Table(
    "job_marks", metadata,
    Column("name", String(64), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
)

# -- crowd reports ----------------------------------------------------------------------

report_categories = Table(
    "report_categories", metadata,
    Column("page_id", String(32), ForeignKey("pages.id", ondelete="CASCADE"), primary_key=True),
    Column("slug", String(64), primary_key=True),
    Column("label", String(200), nullable=False),
    Column("position", Integer, nullable=False, default=0),
)

reports = Table(
    "reports", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("page_id", String(32), ForeignKey("pages.id", ondelete="CASCADE"), nullable=False),
    Column("component_id", String(32)),
    Column("category", String(64), nullable=False),
    Column("country", String(2)),
    Column("at", UTCDateTime, nullable=False),
    # A keyed hash of address and user agent with a rotating salt; never the address.
    Column("reporter", String(64), nullable=False),
    Column("counted", Boolean, nullable=False),
    Column("source", String(32), nullable=False, default="web"),
    Index("ix_reports_page_at", "page_id", "at"),
)

reporter_windows = Table(
    "reporter_windows", metadata,
    Column("page_id", String(32), primary_key=True),
    Column("reporter", String(64), primary_key=True),
    Column("counted_at", UTCDateTime, nullable=False),
)

report_counts = Table(
    "report_counts", metadata,
    Column("page_id", String(32), ForeignKey("pages.id", ondelete="CASCADE"), primary_key=True),
    Column("minute", UTCDateTime, primary_key=True),
    Column("component_id", String(32), primary_key=True),  # "" when none was given
    Column("category", String(64), primary_key=True),
    Column("country", String(2), primary_key=True),  # "" when unknown
    Column("count", Integer, nullable=False),
)

collector_tokens = Table(
    "collector_tokens", metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(128), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

# Secrets this installation made for itself (the reporter key's), so restarts
# and every node agree without anyone configuring them.
instance_secrets = Table(
    "instance_secrets", metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(128), nullable=False),
)

# -- detection ----------------------------------------------------------------------------

# Each page's detection settings (the page file's ``detection`` key, or the admin API).
page_detection = Table(
    "page_detection", metadata,
    Column("page_id", String(32), ForeignKey("pages.id", ondelete="CASCADE"), primary_key=True),
    Column("settings", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# -- subscribers and notifications ------------------------------------------------------

# People and systems that asked to hear about a page: an email address (after
# double opt-in) or a webhook URL, for every component or some of them.
subscribers = Table(
    "subscribers", metadata,
    Column("id", String(32), primary_key=True),
    Column("page_id", String(32), ForeignKey("pages.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # email | webhook
    Column("address", String(2000), nullable=False),  # the email address or the URL
    Column("secret", String(128)),  # a webhook's signing secret (whsec_…)
    Column("all_components", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime),  # emails count only once confirmed
    Column("disabled_at", UTCDateTime),  # a permanent delivery failure, or unsubscribed
    Column("last_error", Text),
    UniqueConstraint("page_id", "kind", "address", name="uq_subscriber_address"),
)

subscriber_components = Table(
    "subscriber_components", metadata,
    Column("subscriber_id", String(32), ForeignKey("subscribers.id", ondelete="CASCADE"),
           primary_key=True),
    Column("component_id", String(32), primary_key=True),
)

# The operators' own channels: Apprise URLs (chat, push, SMS…), webhooks, emails.
notify_channels = Table(
    "notify_channels", metadata,
    Column("id", String(32), primary_key=True),
    Column("page_id", String(32), ForeignKey("pages.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),  # apprise | webhook | email
    Column("target", String(2000), nullable=False),  # may hold secrets: shown masked
    Column("secret", String(128)),
    Column("events", JSON),  # event kinds it wants; null: all
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
    Column("last_error", Text),
    UniqueConstraint("page_id", "name", name="uq_channel_name"),
)

# The outbox: one row per event, written in the transaction of the change.
notify_events = Table(
    "notify_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("page_id", String(32), ForeignKey("pages.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("audience", String(16), nullable=False),
    Column("subject_id", String(32), nullable=False),  # the incident or component
    Column("component_ids", JSON, nullable=False),
    Column("data", JSON, nullable=False),  # what the message says, as of the change
    Column("created_at", UTCDateTime, nullable=False),
    Column("fanned_out_at", UTCDateTime),
    Index("ix_notify_events_pending", "fanned_out_at", "id"),
)

# One message to one subscriber or channel. Claimed with a conditional update,
# so two dispatchers never send the same row.
deliveries = Table(
    "deliveries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", Integer, ForeignKey("notify_events.id", ondelete="CASCADE"),
           nullable=False),
    Column("subscriber_id", String(32), ForeignKey("subscribers.id", ondelete="CASCADE")),
    Column("channel_id", String(32), ForeignKey("notify_channels.id", ondelete="CASCADE")),
    Column("kind", String(16), nullable=False),  # email | webhook | apprise
    Column("coalesce_key", String(80), nullable=False),
    Column("status", String(16), nullable=False),  # pending | sent | failed | merged
    Column("attempts", Integer, nullable=False, default=0),
    Column("not_before", UTCDateTime, nullable=False),
    Column("claimed_by", String(64)),
    Column("claimed_until", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("event_id", "subscriber_id", name="uq_delivery_subscriber"),
    UniqueConstraint("event_id", "channel_id", name="uq_delivery_channel"),
    Index("ix_deliveries_due", "status", "kind", "not_before"),
    Index("ix_deliveries_coalesce", "subscriber_id", "channel_id", "coalesce_key", "status"),
)
