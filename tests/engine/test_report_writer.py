"""The group-commit writer: acknowledged means committed, and every reporter
counts once per window even with several writers committing side by side."""

from __future__ import annotations

import asyncio
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from signalfire.domain.crowd import Report
from signalfire.engine.intake import ReportWriter


@pytest.fixture
def page(any_store, clock):
    p = any_store.put_page("app", name="App", now=clock())
    any_store.set_report_categories(p.id, [("app", "App not loading")])
    return p


def test_concurrent_writers_count_each_reporter_once(any_store, clock, page):
    rng = random.Random(5)
    t = clock()
    reporters = [f"r{i}" for i in range(40)]
    jobs = [[Report(page_id=page.id, category="app", at=t + timedelta(seconds=rng.random()),
                    reporter=rng.choice(reporters), country="BR") for _ in range(25)]
            for _ in range(60)]
    writer = ReportWriter(any_store, writers=3)
    try:
        with ThreadPoolExecutor(8) as pool:
            futures = list(pool.map(writer.submit, jobs))
        flags = [f for future in futures for f in future.result(timeout=60)]
    finally:
        writer.stop()
    used = {r.reporter for job in jobs for r in job}
    assert sum(flags) == len(used)  # once each, whichever writer took them
    assert any_store.count_raw_reports(page.id) == 60 * 25  # and every report is kept
    totals = any_store.report_totals(page.id, since=t, until=t + timedelta(minutes=5),
                                     by="category")
    assert totals == [("app", len(used))]


def test_coroutines_are_answered_after_the_commit(any_store, clock, page):
    writer = ReportWriter(any_store)

    async def send() -> list[list[bool]]:
        return await asyncio.gather(*(writer.add([Report(
            page_id=page.id, category="app", at=clock(), reporter=f"c{i % 10}")])
            for i in range(30)))

    try:
        answers = asyncio.run(send())
    finally:
        writer.stop()
    assert sum(a[0] for a in answers) == 10
    assert any_store.count_raw_reports(page.id) == 30


def test_a_failed_commit_acknowledges_nothing(any_store, clock, page):
    writer = ReportWriter(any_store)
    try:
        # A report for a page that does not exist breaks its whole transaction.
        future = writer.submit([Report(page_id=page.id, category="app", at=clock(),
                                       reporter="y"),
                                Report(page_id="no-such-page", category="app", at=clock(),
                                       reporter="y")])
        with pytest.raises(Exception):  # noqa: B017 - the driver's own error
            future.result(timeout=30)
        # The writer lives on (with a new connection) and the next report goes through.
        ok = writer.submit([Report(page_id=page.id, category="app", at=clock(), reporter="z")])
        assert ok.result(timeout=30) == [True]
    finally:
        writer.stop()
    assert any_store.count_raw_reports(page.id) == 1
