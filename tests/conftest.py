"""Shared fixtures: a frozen clock, and stores on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from signalfire.store import Store, open_store

POSTGRES_URL = os.environ.get(
    "SIGNALFIRE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


class FrozenClock:
    """A clock that only moves when told to."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))


@contextlib.contextmanager
def postgres_schema_url(what: str) -> Iterator[str]:
    """A URL of the real PostgreSQL with a fresh schema of its own, dropped after.

    Unreachable: the test is skipped, loudly naming ``what`` is not being
    checked, or fails when SIGNALFIRE_REQUIRE_POSTGRES=1 (as in CI)."""
    import sqlalchemy

    schema = "sf_test_" + secrets.token_hex(4)
    admin = sqlalchemy.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    except sqlalchemy.exc.OperationalError as exc:
        admin.dispose()
        message = (f"PostgreSQL is not reachable at {POSTGRES_URL} ({exc.orig}); "
                   f"{what} is NOT being checked on PostgreSQL")
        if os.environ.get("SIGNALFIRE_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _postgres_store() -> Iterator[Store]:
    with postgres_schema_url("the Store contract") as url:
        store = open_store(url)
        try:
            yield store
        finally:
            store.close()


@pytest.fixture(params=["sqlite", "postgres"])
def any_db_url(request, tmp_path) -> Iterator[str]:
    """A database URL for a server process of the test's own: a fresh SQLite file,
    then a fresh schema of the real PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'process.db'}"
        return
    with postgres_schema_url(f"{request.node.name} (a real server process)") as url:
        yield url


@pytest.fixture
def store(tmp_path) -> Iterator[Store]:
    """A migrated store on a fresh SQLite file."""
    s = open_store(f"sqlite:///{tmp_path / 'signalfire.db'}")
    yield s
    s.close()


@pytest.fixture(params=["sqlite", "postgres"])
def any_store(request, tmp_path) -> Iterator[Store]:
    """The same test on SQLite and on the real PostgreSQL: the Store contract."""
    if request.param == "sqlite":
        s = open_store(f"sqlite:///{tmp_path / 'signalfire.db'}")
        yield s
        s.close()
    else:
        yield from _postgres_store()
