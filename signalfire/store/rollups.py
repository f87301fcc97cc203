"""Minute, hour and day rollups of observations, and retention of the raw rows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, update

from signalfire.domain.rollup import BUCKET_WIDTHS_S, LATENCY_BIN_COUNT, Bucket, combine, rollup
from signalfire.store import schema as t
from signalfire.store.monitoring import observation_from_row

if TYPE_CHECKING:
    from signalfire.store.store import Store

_MARK = "rollup"


def _bucket_data(b: Bucket) -> dict[str, Any]:
    return {"p50": b.p50_ms, "p95": b.p95_ms, "p99": b.p99_ms, "min": b.min_ms, "max": b.max_ms,
            # Sparse: a minute bucket usually holds one or two checks.
            "bins": {str(i): n for i, n in enumerate(b.latency_bins) if n}}


def _bucket_from_row(r: Any) -> Bucket:
    bins = [0] * LATENCY_BIN_COUNT
    for i, n in (r.data.get("bins") or {}).items():
        bins[int(i)] = n
    d = r.data
    return Bucket(monitor_id=r.monitor_id, region=r.region, start=r.start, width_s=r.width_s,
                  checks=r.checks, failures=r.failures, p50_ms=d.get("p50"), p95_ms=d.get("p95"),
                  p99_ms=d.get("p99"), min_ms=d.get("min"), max_ms=d.get("max"),
                  latency_bins=tuple(bins))


class RollupsMixin:
    def roll_up(self: Store, now: datetime, *, batch: int = 20_000) -> int:
        """Fold observations received since the last run into the rollups.

        Works by time of receipt, so observations an agent delivers late (with
        their original ``at``) are counted in the buckets they belong to.
        Returns how many observations were folded in.
        """
        o = t.observations.c
        with self._write() as conn:
            mark = conn.execute(select(t.job_marks.c.at)
                                .where(t.job_marks.c.name == _MARK)).scalar()
            q = select(t.observations).where(o.received_at <= now)
            if mark is not None:
                q = q.where(o.received_at > mark)
            rows = list(conn.execute(q.order_by(o.received_at).limit(batch)))
            if not rows:
                return 0
            new_mark = rows[-1].received_at
            if len(rows) == batch:
                # Do not split one receipt time across two runs.
                rows = [r for r in rows if r.received_at < new_mark] or rows
                new_mark = rows[-1].received_at
            observations = [observation_from_row(r) for r in rows]
            for width in BUCKET_WIDTHS_S:
                self._fold(conn, rollup(observations, width))
            if mark is None:
                conn.execute(insert(t.job_marks).values(name=_MARK, at=new_mark))
            else:
                conn.execute(update(t.job_marks).where(t.job_marks.c.name == _MARK)
                             .values(at=new_mark))
        return len(rows)

    def _fold(self: Store, conn: Connection, buckets: list[Bucket]) -> None:
        r = t.rollups.c
        for start in range(0, len(buckets), 200):
            part = buckets[start:start + 200]
            keys = [and_(r.monitor_id == b.monitor_id, r.region == b.region,
                         r.width_s == b.width_s, r.start == b.start) for b in part]
            stored = {(x.monitor_id, x.region, x.width_s, x.start): _bucket_from_row(x)
                      for x in conn.execute(select(t.rollups).where(or_(*keys)))}
            for b in part:
                key = (b.monitor_id, b.region, b.width_s, b.start)
                old = stored.get(key)
                merged = combine([old, b]) if old else b
                values = {"checks": merged.checks, "failures": merged.failures,
                          "data": _bucket_data(merged)}
                if old:
                    conn.execute(update(t.rollups).where(
                        r.monitor_id == b.monitor_id, r.region == b.region,
                        r.width_s == b.width_s, r.start == b.start).values(**values))
                else:
                    conn.execute(insert(t.rollups).values(
                        monitor_id=b.monitor_id, region=b.region, width_s=b.width_s,
                        start=b.start, **values))

    def buckets(self: Store, monitor_ids: Iterable[str], *, width_s: int,
                since: datetime) -> list[Bucket]:
        ids = list(monitor_ids)
        if not ids:
            return []
        r = t.rollups.c
        with self._read() as conn:
            return [_bucket_from_row(x) for x in conn.execute(
                select(t.rollups).where(r.monitor_id.in_(ids), r.width_s == width_s,
                                        r.start >= since).order_by(r.start))]

    def prune_raw(self: Store, *, before: datetime) -> int:
        """Delete raw observations older than ``before`` that the rollups already hold."""
        o = t.observations.c
        with self._write() as conn:
            mark = conn.execute(select(t.job_marks.c.at)
                                .where(t.job_marks.c.name == _MARK)).scalar()
            if mark is None:
                return 0
            return conn.execute(delete(t.observations).where(
                o.at < before, o.received_at <= mark)).rowcount
