"""Group commit for crowd reports.

A report is acknowledged only once committed. Committing each one alone would
cost a disk flush per report; instead a writer thread owns the writes and
commits whatever has queued up meanwhile in one transaction, so under load a
flush is shared by hundreds of reports and an idle server still answers in
about one commit's time.

SQLite has one writer anyway: one thread. On PostgreSQL a commit is a network
round trip and a WAL flush, so several writer threads commit side by side, each
on its own connection, taking whatever has queued when they come free. The
counting stays exact because each transaction locks its reporters' window rows
before deciding (see ``store/report_bulk.py``), all locks in one order, so
writers never deadlock each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass

from sqlalchemy import Connection

from signalfire.domain.crowd import DEFAULT_WINDOW_S, Report
from signalfire.store import Store

log = logging.getLogger("signalfire.intake")


@dataclass(slots=True)
class _Job:
    reports: list[Report]
    done: Future[list[bool]] | None = None  # for threads
    waiter: asyncio.Future[list[bool]] | None = None  # for coroutines, on ``loop``
    loop: asyncio.AbstractEventLoop | None = None


class ReportWriter:
    def __init__(self, store: Store, *, window_s: float = DEFAULT_WINDOW_S,
                 max_batch: int = 5000, writers: int | None = None) -> None:
        self.store = store
        self.window_s = window_s
        self.max_batch = max_batch
        self.writers = writers or (1 if store.is_sqlite else 3)
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()  # C: ~4× cheaper
        self._threads: list[threading.Thread] = []
        self._start_lock = threading.Lock()
        self._stopping = threading.Event()
        self.commits = 0
        self.committed = 0

    def start(self) -> None:
        with self._start_lock:
            if not self._threads:
                self._stopping.clear()
                self._threads = [threading.Thread(target=self._run, args=(self._queue,),
                                                  daemon=True, name=f"report-writer-{i}")
                                 for i in range(self.writers)]
                if self.store.is_sqlite:
                    self._threads.append(threading.Thread(
                        target=self._checkpoint, daemon=True, name="wal-checkpointer"))
                for thread in self._threads:
                    thread.start()

    def stop(self) -> None:
        """Commit what is queued, then stop."""
        with self._start_lock:
            threads, self._threads = self._threads, []
        self._stopping.set()
        for _ in range(self.writers if threads else 0):
            self._queue.put(None)
        for thread in threads:
            thread.join(30)

    def submit(self, reports: list[Report]) -> Future[list[bool]]:
        """Store ``reports`` from a thread; the future resolves once they are committed."""
        if not self._threads:
            self.start()
        done: Future[list[bool]] = Future()
        self._queue.put(_Job(reports, done=done))
        return done

    async def add(self, reports: list[Report]) -> list[bool]:
        """Store ``reports``; returns once they are committed (which of them counted)."""
        if not self._threads:
            self.start()
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[list[bool]] = loop.create_future()
        self._queue.put(_Job(reports, waiter=waiter, loop=loop))
        return await waiter

    def _run(self, jobs_in: queue.SimpleQueue[_Job | None]) -> None:
        conn: Connection | None = None
        stopping = False
        try:
            while not stopping:
                first = jobs_in.get()
                if first is None:
                    break
                jobs = [first]
                size = len(first.reports)
                # Take everything that queued while the last commit ran.
                while size < self.max_batch:
                    try:
                        job = jobs_in.get_nowait()
                    except queue.Empty:
                        break
                    if job is None:  # this writer's stop: the others have their own
                        stopping = True
                        break
                    jobs.append(job)
                    size += len(job.reports)
                if conn is None:
                    # The thread keeps its connection: no pool checkout (and on
                    # PostgreSQL no liveness ping) per commit.
                    conn = self.store.engine.connect()
                    if self.store.is_sqlite:
                        # Its commits checkpoint rarely, and find little left to
                        # copy: _checkpoint does most of it beside them. The
                        # writer's own checkpoint is what lets the WAL start over.
                        conn.exec_driver_sql("PRAGMA wal_autocheckpoint=2000")
                        conn.commit()
                if not self._commit(jobs, conn):
                    conn.invalidate()  # it may be broken: the next commit opens another
                    conn.close()
                    conn = None
        finally:
            if conn is not None:
                if self.store.is_sqlite:
                    with contextlib.suppress(Exception):  # back to the pool as found
                        conn.exec_driver_sql("PRAGMA wal_autocheckpoint=1000")
                        conn.commit()
                conn.close()

    def _checkpoint(self, every_s: float = 0.5) -> None:
        """Copy the WAL into the database file beside the writer, not in its commits.

        SQLite checkpoints when a commit finds the WAL long enough, and that
        commit waits for it (a flush of the database file): during a flood of
        single reports that was the p99. A passive checkpoint here takes no lock
        the writer needs, so commits go on while it copies; the writer's own
        occasional checkpoint then has little left to do, and restarts the WAL
        (a checkpoint from another connection cannot, while the writer keeps
        appending, so the WAL would grow without end)."""
        while not self._stopping.wait(every_s):
            try:
                with self.store.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
                    conn.commit()
            except Exception:  # busy or gone: the next round tries again
                log.debug("event=wal_checkpoint_skipped", exc_info=True)

    def _commit(self, jobs: list[_Job], conn: Connection) -> bool:
        reports = [r for job in jobs for r in job.reports]
        try:
            flags = self.store.add_reports(reports, window_s=self.window_s, conn=conn)
        except Exception as exc:
            # Nothing was committed: every waiting request gets the error
            # (a 503), none is acknowledged.
            log.exception("event=report_commit_failed size=%d", len(reports))
            self._settle([(job, None, exc) for job in jobs])
            return False
        self.commits += 1
        self.committed += len(reports)
        outcomes, start = [], 0
        for job in jobs:
            outcomes.append((job, flags[start:start + len(job.reports)], None))
            start += len(job.reports)
        self._settle(outcomes)
        return True

    @staticmethod
    def _settle(outcomes: list[tuple[_Job, list[bool] | None, BaseException | None]]) -> None:
        # One wake-up of each event loop per commit, not one per request: under
        # load a commit answers hundreds of waiting requests at once.
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Job, list[bool] | None,
                                                            BaseException | None]]] = {}
        for job, flags, exc in outcomes:
            if job.done is not None:
                if exc is not None:
                    job.done.set_exception(exc)
                else:
                    job.done.set_result(flags or [])
            elif job.loop is not None:
                by_loop.setdefault(job.loop, []).append((job, flags, exc))
        for loop, settled in by_loop.items():
            try:
                loop.call_soon_threadsafe(_wake, settled)
            except RuntimeError:  # that loop has closed: nobody is waiting any more
                pass


def _wake(settled: list[tuple[_Job, list[bool] | None, BaseException | None]]) -> None:
    for job, flags, exc in settled:
        waiter = job.waiter
        if waiter is None or waiter.done():  # the request was cancelled meanwhile
            continue
        if exc is not None:
            waiter.set_exception(exc)
        else:
            waiter.set_result(flags or [])
