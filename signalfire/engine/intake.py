"""Group commit for crowd reports.

A report is acknowledged only once committed. Committing each one alone would
cost a disk flush per report; instead one writer thread owns the writes and
commits whatever has queued up meanwhile in one transaction, so under load a
flush is shared by hundreds of reports and an idle server still answers in
about one commit's time. SQLite has one writer anyway; on PostgreSQL the same
batching turns many small inserts into a few large ones.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass

from signalfire.domain.crowd import DEFAULT_WINDOW_S, Report
from signalfire.store import Store

log = logging.getLogger("signalfire.intake")


@dataclass
class _Job:
    reports: list[Report]
    done: Future[list[bool]]


class ReportWriter:
    def __init__(self, store: Store, *, window_s: float = DEFAULT_WINDOW_S,
                 max_batch: int = 5000) -> None:
        self.store = store
        self.window_s = window_s
        self.max_batch = max_batch
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.commits = 0
        self.committed = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="report-writer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Commit what is queued, then stop."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(30)
            self._thread = None

    def submit(self, reports: list[Report]) -> Future[list[bool]]:
        if self._thread is None:
            self.start()
        job = _Job(reports, Future())
        self._queue.put(job)
        return job.done

    async def add(self, reports: list[Report]) -> list[bool]:
        """Store ``reports``; returns once they are committed (which of them counted)."""
        return await asyncio.wrap_future(self.submit(reports))

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            jobs = [first]
            size = len(first.reports)
            # Take everything that queued while the last commit ran.
            while size < self.max_batch:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stopping = True
                    break
                jobs.append(job)
                size += len(job.reports)
            self._commit(jobs)

    def _commit(self, jobs: list[_Job]) -> None:
        reports = [r for job in jobs for r in job.reports]
        try:
            flags = self.store.add_reports(reports, window_s=self.window_s)
        except Exception as exc:
            # Nothing was committed: every waiting request gets the error
            # (a 503), none is acknowledged.
            log.exception("event=report_commit_failed size=%d", len(reports))
            for job in jobs:
                job.done.set_exception(exc)
            return
        self.commits += 1
        self.committed += len(reports)
        start = 0
        for job in jobs:
            job.done.set_result(flags[start:start + len(job.reports)])
            start += len(job.reports)
