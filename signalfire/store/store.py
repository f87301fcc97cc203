"""The Store: every read and write Signalfire makes, over one SQLAlchemy engine.

Writes run in one transaction each, so a failed write leaves nothing behind; on
SQLite they also take a process-wide lock, because SQLite has one writer and
waiting in Python is cheaper than spinning on ``database is locked``.
"""

from __future__ import annotations

import secrets
import string
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite

from signalfire.store import schema as t
from signalfire.store.components import ComponentsMixin
from signalfire.store.detection import DetectionMixin
from signalfire.store.engine import make_engine, upgrade
from signalfire.store.incidents import IncidentsMixin
from signalfire.store.monitoring import MonitoringMixin
from signalfire.store.notifications import NotificationsMixin
from signalfire.store.reports import ReportsMixin
from signalfire.store.rollups import RollupsMixin
from signalfire.store.tokens import TokensMixin

_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_id() -> str:
    """A 12-character id like Statuspage's, so clients that parse ids see what they expect."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))


class Store(ComponentsMixin, IncidentsMixin, TokensMixin, MonitoringMixin, RollupsMixin,
            ReportsMixin, DetectionMixin, NotificationsMixin):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._write_lock = threading.Lock()
        # Connections holding the advisory locks of singleton duties (PostgreSQL).
        self._duties: dict[str, Connection] = {}

    # -- plumbing -------------------------------------------------------------

    def upgrade(self) -> None:
        upgrade(self.engine)

    def close(self) -> None:
        self.release_duties()
        self.engine.dispose()

    @contextmanager
    def _write(self, *, public: bool = True) -> Iterator[Connection]:
        """One write transaction; ``public`` when it changes what the status page shows."""
        lock = self._write_lock if self.is_sqlite else None
        if lock:
            lock.acquire()
        try:
            with self.engine.begin() as conn:
                yield conn
                if public:
                    self._bump_revision(conn)
        finally:
            if lock:
                lock.release()

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def _bump_revision(self, conn: Connection) -> None:
        insert = (sqlite.insert if self.is_sqlite else postgresql.insert)(t.revisions)
        conn.execute(
            insert.values(name="public", value=1).on_conflict_do_update(
                index_elements=["name"], set_={"value": t.revisions.c.value + 1}
            )
        )

    def revision(self) -> int:
        """A number that changes whenever anything the public sees changed, on any node."""
        with self._read() as conn:
            value = conn.execute(
                select(t.revisions.c.value).where(t.revisions.c.name == "public")
            ).scalar()
        return int(value or 0)

    def new_id(self) -> str:
        return new_id()

    def touch(self, table: t.Table, row_id: str, now: datetime, conn: Connection) -> None:
        conn.execute(update(table).where(table.c.id == row_id).values(updated_at=now))


def open_store(url: str, *, migrate: bool = True) -> Store:
    store = Store(make_engine(url))
    if migrate:
        store.upgrade()
    return store
