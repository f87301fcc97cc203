"""Crowd reports through the Store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from signalfire.domain.crowd import Report
from signalfire.errors import AuthError


@pytest.fixture
def page(any_store, clock):
    p = any_store.put_page("app", name="App", now=clock())
    any_store.set_report_categories(p.id, [("app", "App not loading"), ("login", "Login")])
    return p


def rep(page, at, reporter="r1", category="app", country="BR", **kw):
    return Report(page_id=page.id, category=category, at=at, reporter=reporter,
                  country=country, **kw)


def test_categories_keep_their_order(any_store, page):
    assert any_store.report_categories(page.id) == [("app", "App not loading"), ("login", "Login")]


def test_a_reporter_counts_once_per_window(any_store, clock, page):
    t = clock()
    flags = any_store.add_reports([rep(page, t), rep(page, t + timedelta(minutes=5)),
                                   rep(page, t, reporter="r2")])
    assert flags == [True, False, True]
    # Another batch, later: the window is remembered across transactions.
    assert any_store.add_reports([rep(page, t + timedelta(minutes=10))]) == [False]
    assert any_store.add_reports([rep(page, t + timedelta(minutes=31))]) == [True]
    assert any_store.count_raw_reports(page.id) == 5  # every report is kept raw


def test_minute_counts_by_category_and_country(any_store, clock, page):
    t = clock()
    any_store.add_reports([rep(page, t, reporter=f"a{i}", country="BR") for i in range(3)]
                          + [rep(page, t + timedelta(minutes=1), reporter="b", country="MX",
                                 category="login")])
    by_minute = any_store.report_minutes(page.id, since=t, until=t + timedelta(minutes=5))
    assert by_minute == {"": {t: 3, t + timedelta(minutes=1): 1}}
    by_country = any_store.report_totals(page.id, since=t, until=t + timedelta(hours=1),
                                         by="country")
    assert by_country == [("BR", 3), ("MX", 1)]
    by_cat = any_store.report_minutes(page.id, since=t, until=t + timedelta(minutes=5),
                                      by="category")
    assert by_cat["login"] == {t + timedelta(minutes=1): 1}


def test_raw_reports_go_the_counts_stay(any_store, clock, page):
    t = clock()
    any_store.add_reports([rep(page, t)])
    assert any_store.prune_reports(before=t + timedelta(days=1)) == 1
    assert any_store.count_raw_reports(page.id) == 0
    assert any_store.report_totals(page.id, since=t, until=t + timedelta(hours=1),
                                   by="category") == [("app", 1)]


def test_collector_tokens(any_store, clock):
    cid, secret = any_store.create_collector("edge", now=clock())
    assert any_store.authenticate_collector(secret) == cid
    any_store.revoke_collector(cid, now=clock())
    with pytest.raises(AuthError):
        any_store.authenticate_collector(secret)


def test_one_batch_spanning_two_windows_counts_twice_and_remembers_the_second(
        any_store, clock, page):
    t = clock()
    flags = any_store.add_reports([rep(page, t), rep(page, t + timedelta(minutes=10)),
                                   rep(page, t + timedelta(minutes=31))])
    assert flags == [True, False, True]
    # The window now runs from the second counted report, not the first.
    assert any_store.add_reports([rep(page, t + timedelta(minutes=40))]) == [False]
    assert any_store.add_reports([rep(page, t + timedelta(minutes=61))]) == [True]
