"""Writing crowd reports in bulk, straight through the database driver.

During an outage this is the hottest write path there is: thousands of reports a
second, each acknowledged only once committed. SQLAlchemy's per-row work (bind
processing, compiled-statement lookup, result objects) cost more than the
database itself here, so these few statements go to the driver directly, with
plain tuples:

- SQLite (``sqlite3``): ``executemany`` of prepared statements. Times are
  written in the very format SQLAlchemy uses for ``DateTime`` on SQLite
  (``YYYY-MM-DD HH:MM:SS.ffffff``, naive UTC), so everything else reads them
  back unchanged and string comparison stays time order.
- PostgreSQL (psycopg 3): one ``INSERT … SELECT FROM unnest(…)`` per table,
  whatever the batch size, the writes pipelined: two round trips and the
  commit.

Which reports count is decided by the pure ``counted_flags`` from the windows
stored so far; the caller holds the write transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from signalfire.domain.crowd import Report, counted_flags, minute_counts

_LOOKUP_CHUNK = 500  # SQLite's host-parameter limit is 999 on old builds

_SQLITE_INSERT_REPORT = (
    "INSERT INTO reports (page_id, component_id, category, country, at, reporter, counted,"
    " source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
_SQLITE_UPSERT_WINDOW = (
    "INSERT INTO reporter_windows (page_id, reporter, counted_at) VALUES (?, ?, ?)"
    " ON CONFLICT (page_id, reporter) DO UPDATE SET counted_at = excluded.counted_at")
_SQLITE_UPSERT_COUNT = (
    "INSERT INTO report_counts (page_id, minute, component_id, category, country, count)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (page_id, minute, component_id, category, country)"
    " DO UPDATE SET count = report_counts.count + excluded.count")

# Decides each reporter's first report of the batch, stores the result and locks
# the row, in one statement that always goes through the primary key (an
# ``ON CONFLICT`` arbiter, whatever the planner thinks of a table that grew a
# million rows since it was last analysed). The row comes back with its time:
# the candidate's own when it counted (new reporter, or the window had closed),
# the earlier one when it did not. The lock keeps two writers (or two nodes)
# from both counting one reporter: the second waits, then sees the first's time.
_PG_CLAIM_WINDOWS = (
    "INSERT INTO reporter_windows AS w (page_id, reporter, counted_at)"
    " SELECT * FROM unnest(%b::text[], %b::text[], %b::timestamptz[])"
    " ON CONFLICT (page_id, reporter) DO UPDATE SET counted_at = CASE"
    " WHEN w.counted_at <= excluded.counted_at - make_interval(secs => %s)"
    " THEN excluded.counted_at ELSE w.counted_at END"
    " RETURNING page_id, reporter, counted_at")
_PG_INSERT_REPORTS = (
    "INSERT INTO reports (page_id, component_id, category, country, at, reporter, counted,"
    " source) SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[],"
    " %b::timestamptz[], %b::text[], %b::bool[], %b::text[])")
_PG_UPSERT_WINDOWS = (
    "INSERT INTO reporter_windows (page_id, reporter, counted_at)"
    " SELECT * FROM unnest(%b::text[], %b::text[], %b::timestamptz[])"
    " ON CONFLICT (page_id, reporter) DO UPDATE SET counted_at = excluded.counted_at")
_PG_UPSERT_COUNTS = (
    "INSERT INTO report_counts (page_id, minute, component_id, category, country, count)"
    " SELECT * FROM unnest(%b::text[], %b::timestamptz[], %b::text[], %b::text[], %b::text[],"
    " %b::int[]) ON CONFLICT (page_id, minute, component_id, category, country)"
    " DO UPDATE SET count = report_counts.count + excluded.count")


def sqlite_time(at: datetime) -> str:
    """An aware time as SQLAlchemy's SQLite ``DateTime`` stores it."""
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}"


def _sqlite_parse(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _by_page(reports: Sequence[Report]) -> dict[str, list[str]]:
    """Each page's distinct reporters: windows are looked up by their primary key."""
    pages: dict[str, set[str]] = {}
    for r in reports:
        pages.setdefault(r.page_id, set()).add(r.reporter)
    return {p: list(who) for p, who in pages.items()}


def add_reports_sqlite(dbapi_conn: Any, reports: Sequence[Report], *,
                       window_s: float) -> list[bool]:
    cur = dbapi_conn.cursor()
    try:
        last: dict[tuple[str, str], datetime] = {}
        for page_id, reporters in _by_page(reports).items():
            for start in range(0, len(reporters), _LOOKUP_CHUNK):
                chunk = reporters[start:start + _LOOKUP_CHUNK]
                cur.execute("SELECT reporter, counted_at FROM reporter_windows WHERE page_id = ?"
                            f" AND reporter IN ({','.join('?' * len(chunk))})", [page_id, *chunk])
                for reporter, counted_at in cur.fetchall():
                    last[(page_id, reporter)] = _sqlite_parse(counted_at)
        flags, changed = counted_flags(reports, last, window_s=window_s)
        times: dict[datetime, str] = {}  # a batch shares few distinct times

        def text(at: datetime) -> str:
            s = times.get(at)
            if s is None:
                s = times[at] = sqlite_time(at)
            return s

        cur.executemany(_SQLITE_INSERT_REPORT, [
            (r.page_id, r.component_id, r.category, r.country, text(r.at), r.reporter, f,
             r.source) for r, f in zip(reports, flags, strict=True)])
        if changed:
            cur.executemany(_SQLITE_UPSERT_WINDOW, [
                (page_id, reporter, text(at)) for (page_id, reporter), at in changed.items()])
        counts = minute_counts(reports, flags)
        if counts:
            cur.executemany(_SQLITE_UPSERT_COUNT, [
                (p, text(m), comp, cat, country, n)
                for (p, m, comp, cat, country), n in counts.items()])
    finally:
        cur.close()
    return flags


def add_reports_postgres(dbapi_conn: Any, reports: Sequence[Report], *,
                         window_s: float) -> list[bool]:
    # Two round trips before the commit: the claim, then the other writes in one
    # pipeline. Each wait for the server gives up the GIL, and taking it back
    # from a busy event loop can cost a switch interval, so round trips, not
    # bytes, bound how fast one writer goes.
    firsts: dict[tuple[str, str], datetime] = {}
    for r in reports:
        key = (r.page_id, r.reporter)
        if key not in firsts or r.at < firsts[key]:
            firsts[key] = r.at
    # In key order, like every lock taken here: concurrent writers never wait
    # for each other in a circle.
    keys = sorted(firsts)
    with dbapi_conn.cursor() as cur:
        cur.execute(_PG_CLAIM_WINDOWS, ([k[0] for k in keys], [k[1] for k in keys],
                                        [firsts[k] for k in keys], window_s))
        # Counted just now: no earlier window. Otherwise the open window's start.
        last = {(page_id, reporter): counted_at for page_id, reporter, counted_at
                in cur.fetchall() if counted_at != firsts[page_id, reporter]}
        flags, changed = counted_flags(reports, last, window_s=window_s)
        # Only a batch spanning more than a window counts a reporter twice.
        later = sorted(k for k, at in changed.items() if at != firsts[k])
        with dbapi_conn.pipeline():
            cur.execute(_PG_INSERT_REPORTS, [list(c) for c in zip(*(
                (r.page_id, r.component_id, r.category, r.country, r.at, r.reporter, f,
                 r.source) for r, f in zip(reports, flags, strict=True)), strict=True)])
            if later:
                cur.execute(_PG_UPSERT_WINDOWS, ([k[0] for k in later], [k[1] for k in later],
                                                 [changed[k] for k in later]))
            counts = minute_counts(reports, flags)
            if counts:
                # In key order: concurrent writers then lock count rows in one
                # order and cannot deadlock each other.
                columns = zip(*((*key, counts[key]) for key in sorted(counts)), strict=True)
                cur.execute(_PG_UPSERT_COUNTS, [list(c) for c in columns])
    return flags
