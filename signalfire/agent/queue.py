"""The agent's durable queue of observations, in one local SQLite file.

An observation is in the queue from the moment ``put`` returns until the
server has acknowledged it (``ack``). ``put`` commits with WAL and
``synchronous=FULL``: the commit is on disk when ``put`` returns, so a
``kill -9`` (or a power cut) right after loses nothing that was put.

Rows are the observations' JSON bodies as they will be sent (``wire``),
keyed by observation id and kept in the order they were put, which is the
order they were made; ``at`` stays the prober's time, however late they are
sent.

The same file keeps the last monitor list pulled from the server, so an agent
restarted while the server is down still knows what to probe, and the region
it belongs to: observations carry no region of their own (the server takes it
from the token), so one region's queue must never be sent with another
region's token.

One process at a time: the file is locked (``flock``) while open. Calls are
serialised by a lock; the agent makes them all from one thread anyway.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from signalfire.agent.wire import observation_to_wire
from signalfire.domain.probe import Observation
from signalfire.errors import ConfigError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS observations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    at TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    doc TEXT NOT NULL,
    reason TEXT NOT NULL,
    rejected_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class ObservationQueue:
    """``put`` / ``peek`` / ``ack``; ``close()`` when done."""

    def __init__(self, path: Path, *, region: str) -> None:
        self.path = path
        self.region = region
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(path.with_name(path.name + ".lock"), "a")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise ConfigError(f"queue {path}: another agent is using this queue file; "
                              "give each agent its own --queue") from None
        # isolation_level=None: transactions are begun and ended explicitly below.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._mutex = threading.Lock()
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            self._claim(region)
        except BaseException:
            self.close()
            raise

    def _claim(self, region: str) -> None:
        owner = self._get("region")
        if owner is None:
            self._set("region", region)
        elif owner != region:
            raise ConfigError(f"queue {self.path} holds observations of region {owner!r}, "
                              f"not {region!r}; give each region its own --queue")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._mutex:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- observations -------------------------------------------------------------

    def put(self, batch: Sequence[Observation]) -> int:
        """Queue observations durably; returns how many were new (an id already
        queued is kept once)."""
        rows = [(o.id, o.at.isoformat(), json.dumps(observation_to_wire(o), separators=(",", ":")))
                for o in batch]
        with self._transaction() as db:
            before = db.total_changes
            db.executemany("INSERT OR IGNORE INTO observations (id, at, doc) VALUES (?, ?, ?)",
                           rows)
            return db.total_changes - before

    def peek(self, n: int, *, max_bytes: int | None = None) -> list[dict[str, Any]]:
        """The ``n`` oldest queued observations (wire bodies), without removing them.

        With ``max_bytes``, stop before their JSON would exceed it (but always
        return at least one when the queue is not empty).
        """
        with self._mutex:
            rows = self._db.execute("SELECT doc FROM observations ORDER BY seq LIMIT ?",
                                    (n,)).fetchall()
        docs: list[dict[str, Any]] = []
        size = 0
        for (doc,) in rows:
            size += len(doc) + 1
            if max_bytes is not None and docs and size > max_bytes:
                break
            docs.append(json.loads(doc))
        return docs

    def ack(self, ids: Iterable[str]) -> int:
        """Remove observations the server has acknowledged; returns how many were queued."""
        with self._transaction() as db:
            before = db.total_changes
            db.executemany("DELETE FROM observations WHERE id = ?", [(i,) for i in ids])
            return db.total_changes - before

    def depth(self) -> int:
        with self._mutex:
            return int(self._db.execute("SELECT count(*) FROM observations").fetchone()[0])

    def oldest_at(self) -> str | None:
        with self._mutex:
            row = self._db.execute("SELECT at FROM observations ORDER BY seq LIMIT 1").fetchone()
        return row[0] if row else None

    def bury(self, observation_id: str, *, reason: str, now: datetime) -> None:
        """Move an observation the server will never accept out of the way, but keep it.

        Only for a refusal of that one observation (a 4xx for a batch of one):
        left at the head of the queue it would block every later one.
        """
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO rejected (id, at, doc, reason, rejected_at) "
                       "SELECT id, at, doc, ?, ? FROM observations WHERE id = ?",
                       (reason, now.isoformat(), observation_id))
            db.execute("DELETE FROM observations WHERE id = ?", (observation_id,))

    def rejected_depth(self) -> int:
        with self._mutex:
            return int(self._db.execute("SELECT count(*) FROM rejected").fetchone()[0])

    # -- the last monitor list ----------------------------------------------------

    def save_monitors(self, docs: list[dict[str, Any]]) -> None:
        self._set("monitors", json.dumps(docs, separators=(",", ":")))

    def load_monitors(self) -> list[dict[str, Any]] | None:
        """The monitor list saved last, or None when none was ever saved."""
        value = self._get("monitors")
        return None if value is None else list(json.loads(value))

    # -- plumbing -----------------------------------------------------------------

    def _get(self, key: str) -> str | None:
        with self._mutex:
            row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set(self, key: str, value: str) -> None:
        with self._transaction() as db:
            db.execute("INSERT INTO kv (key, value) VALUES (?, ?) "
                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        self._lock_file.close()
