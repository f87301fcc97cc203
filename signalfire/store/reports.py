"""Crowd reports: raw rows (with retention), per-minute counts (kept for good),
the reporter windows that make counting honest, and collector tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from signalfire.domain.crowd import DEFAULT_WINDOW_S, Report
from signalfire.errors import AuthError, InputError, NotFound
from signalfire.store import schema as t
from signalfire.store.report_bulk import add_reports_postgres, add_reports_sqlite

if TYPE_CHECKING:
    from signalfire.store.store import Store

GROUPS = {"category": "category", "country": "country", "component": "component_id"}


class ReportsMixin:
    # -- categories ----------------------------------------------------------------

    def set_report_categories(self: Store, page_id: str,
                              categories: Sequence[tuple[str, str]]) -> None:
        """The page's problem categories, as (slug, label), in order."""
        with self._write() as conn:
            conn.execute(delete(t.report_categories)
                         .where(t.report_categories.c.page_id == page_id))
            if categories:
                conn.execute(insert(t.report_categories), [
                    {"page_id": page_id, "slug": slug, "label": label, "position": i}
                    for i, (slug, label) in enumerate(categories)])

    def report_categories(self: Store, page_id: str) -> list[tuple[str, str]]:
        c = t.report_categories.c
        with self._read() as conn:
            return [(r.slug, r.label) for r in conn.execute(
                select(c.slug, c.label).where(c.page_id == page_id).order_by(c.position))]

    # -- intake ----------------------------------------------------------------------

    def add_reports(self: Store, reports: Sequence[Report], *,
                    window_s: float = DEFAULT_WINDOW_S,
                    conn: Connection | None = None) -> list[bool]:
        """Store reports and count each reporter once per window, in one transaction.

        Returns, in order, whether each report counted. When this returns, the
        reports are committed: only then may they be acknowledged. ``conn`` is a
        connection the caller keeps open between calls (the intake's writers).
        """
        if not reports:
            return []
        # Reports are not on the status page (the "is it down?" page re-reads them
        # every few seconds), so they leave the public revision alone: a flood of
        # reports must not drop every node's cached status page.
        if conn is None:
            with self._write(public=False) as fresh:
                return self._add_reports(fresh, reports, window_s)
        with self._write_lock if self.is_sqlite else nullcontext(), conn.begin():
            return self._add_reports(conn, reports, window_s)

    def _add_reports(self: Store, conn: Connection, reports: Sequence[Report],
                     window_s: float) -> list[bool]:
        raw = conn.connection.driver_connection
        if self.is_sqlite:
            return add_reports_sqlite(raw, reports, window_s=window_s)
        return add_reports_postgres(raw, reports, window_s=window_s)

    # -- reading -----------------------------------------------------------------------

    def report_minutes(self: Store, page_id: str, *, since: datetime, until: datetime,
                       by: str | None = None) -> dict[str, dict[datetime, int]]:
        """Counted reports per minute in [since, until), split by ``by``
        (category, country, component) or all together under the key ``""``."""
        c = t.report_counts.c
        if by is not None and by not in GROUPS:
            raise InputError(f"cannot split reports by {by!r}", field="by")
        key = getattr(c, GROUPS[by]) if by else None
        cols = [c.minute, func.sum(c.count).label("n")] + ([key] if key is not None else [])
        q = (select(*cols).where(c.page_id == page_id, c.minute >= since, c.minute < until)
             .group_by(c.minute, *([key] if key is not None else [])))
        out: dict[str, dict[datetime, int]] = {}
        with self._read() as conn:
            for row in conn.execute(q):
                name = getattr(row, GROUPS[by]) if by else ""
                out.setdefault(name, {})[row.minute] = int(row.n)
        return out

    def report_totals(self: Store, page_id: str, *, since: datetime, until: datetime,
                      by: str) -> list[tuple[str, int]]:
        """Counted reports in [since, until) per category, country or component, most first."""
        if by not in GROUPS:
            raise InputError(f"cannot split reports by {by!r}", field="by")
        c = t.report_counts.c
        key = getattr(c, GROUPS[by])
        with self._read() as conn:
            rows = conn.execute(select(key, func.sum(c.count).label("n")).where(
                c.page_id == page_id, c.minute >= since, c.minute < until)
                .group_by(key).order_by(func.sum(c.count).desc(), key))
            return [(getattr(r, GROUPS[by]), int(r.n)) for r in rows]

    def prune_reports(self: Store, *, before: datetime) -> int:
        """Delete raw reports older than ``before``, and reporter windows that closed
        before it; the minute counts stay."""
        with self._write(public=False) as conn:
            conn.execute(delete(t.reporter_windows)
                         .where(t.reporter_windows.c.counted_at < before))
            return conn.execute(delete(t.reports).where(t.reports.c.at < before)).rowcount

    def count_raw_reports(self: Store, page_id: str) -> int:
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(t.reports)
                                    .where(t.reports.c.page_id == page_id)).scalar_one())

    def instance_secret(self: Store, name: str) -> bytes:
        """A random secret made once per installation and kept in the database."""
        s = t.instance_secrets.c
        with self._read() as conn:
            value = conn.execute(select(s.value).where(s.name == name)).scalar()
        if value is None:
            stmt = (sqlite.insert if self.is_sqlite else postgresql.insert)(t.instance_secrets)
            with self._write() as conn:
                conn.execute(stmt.on_conflict_do_nothing(index_elements=["name"]).values(
                    name=name, value=secrets.token_hex(32)))
            with self._read() as conn:
                value = conn.execute(select(s.value).where(s.name == name)).scalar_one()
        return bytes.fromhex(value)

    # -- collectors (trusted senders of batches) --------------------------------------------

    def create_collector(self: Store, name: str, *, now: datetime) -> tuple[str, str]:
        secret = "sfc_" + secrets.token_urlsafe(32)
        cid = self.new_id()
        with self._write() as conn:
            conn.execute(insert(t.collector_tokens).values(
                id=cid, name=name, token_hash=hashlib.sha256(secret.encode()).hexdigest(),
                created_at=now))
        return cid, secret

    def authenticate_collector(self: Store, secret: str) -> str:
        h = hashlib.sha256(secret.encode()).hexdigest()
        with self._read() as conn:
            row = conn.execute(select(t.collector_tokens)
                               .where(t.collector_tokens.c.token_hash == h)).first()
        if row is None or row.revoked_at is not None:
            raise AuthError("the collector token is not valid", field="Authorization")
        return str(row.id)

    def revoke_collector(self: Store, collector_id: str, *, now: datetime) -> None:
        with self._write() as conn:
            if conn.execute(update(t.collector_tokens).where(
                    t.collector_tokens.c.id == collector_id).values(revoked_at=now)).rowcount != 1:
                raise NotFound(f"no collector {collector_id!r}", field="collector_id")
