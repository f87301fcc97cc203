"""The "is it down?" numbers: buckets, the time-of-day baseline, shares, the verdict."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from signalfire.domain.crowd import Report
from signalfire.publish.crowd_view import (
    Bucket,
    baseline,
    bucket_starts,
    bucket_sums,
    buckets_with_baseline,
    chart_geometry,
    country_name,
    crowd_view,
    floor_to,
    is_problem,
    recent_baseline,
    recent_reports,
    shares,
    verdict,
)

NOW = datetime(2026, 6, 1, 12, 7, 30, tzinfo=UTC)


def test_it_floors_to_the_quarter_hour() -> None:
    assert floor_to(NOW, 900) == datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_the_last_bucket_holds_now_and_there_are_96() -> None:
    starts = bucket_starts(NOW)
    assert len(starts) == 96
    assert starts[-1] == datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert starts[0] == starts[-1] - timedelta(hours=23, minutes=45)


def test_minutes_are_summed_into_their_bucket() -> None:
    at = datetime(2026, 6, 1, 11, 0, tzinfo=UTC)
    sums = bucket_sums({at: 2, at + timedelta(minutes=14): 3, at + timedelta(minutes=15): 1})
    assert sums == {at: 5, at + timedelta(minutes=15): 1}


def test_the_baseline_is_the_mean_of_the_same_bucket_on_the_7_days_before() -> None:
    start = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    sums = {start - timedelta(days=1): 7, start - timedelta(days=3): 7,
            start - timedelta(days=8): 100,  # outside the week: ignored
            start - timedelta(days=1, minutes=15): 50}  # another time of day: ignored
    assert baseline(sums, start) == 2.0


def test_buckets_carry_their_count_and_baseline() -> None:
    minutes = {datetime(2026, 6, 1, 12, 3, tzinfo=UTC): 4,
               datetime(2026, 5, 31, 12, 10, tzinfo=UTC): 14}
    buckets = buckets_with_baseline(minutes, NOW)
    assert buckets[-1] == Bucket(datetime(2026, 6, 1, 12, 0, tzinfo=UTC), 4, 2.0)
    assert sum(b.count for b in buckets) == 4


def test_recent_reports_use_a_sliding_window_and_its_own_baseline() -> None:
    minutes = {NOW - timedelta(minutes=16): 100, NOW - timedelta(minutes=14): 3,
               NOW - timedelta(days=2, minutes=5): 21}
    assert recent_reports(minutes, NOW) == 3
    assert recent_baseline(minutes, NOW) == 3.0


def test_it_says_problems_only_with_enough_reports_well_above_normal() -> None:
    assert is_problem(10, 3.0)
    assert not is_problem(9, 0.0)  # a few reports on a quiet night
    assert not is_problem(30, 10.0)  # exactly 3x is normal enough
    assert verdict("Clipstream", 40, 2.0) == "Users report problems with Clipstream"
    assert verdict("Clipstream", 4, 0.0) == "No widespread problems reported"


def test_shares_are_percentages_of_all_reports_with_labels() -> None:
    rows = shares([("login", 3), ("video", 1)], {"login": "Login"})
    assert [(s.key, s.label, s.count, s.pct) for s in rows] == [
        ("login", "Login", 3, 75.0), ("video", "video", 1, 25.0)]
    assert shares([], {}) == []
    assert len(shares([("a", 1), ("b", 1)], {}, limit=1)) == 1


def test_the_chart_scales_to_the_highest_value_with_headroom() -> None:
    start = datetime(2026, 6, 1, tzinfo=UTC)
    chart = chart_geometry([Bucket(start, 10, 0.0), Bucket(start, 0, 5.0)], width=200, height=110)
    assert chart.top == 11.0
    assert chart.bars[0] == (0, 10.0, 100.0)
    assert chart.bars[1][2] == 0
    assert chart.baseline_points.split()[1].endswith(",60.0")


def test_countries_have_names() -> None:
    assert country_name("BR") == "Brazil"
    assert country_name("XX") == "XX"


def test_the_view_reads_reports_from_the_store(store, clock) -> None:
    page = store.put_page("clipstream", name="Clipstream", now=clock())
    store.set_report_categories(page.id, [("login", "Login"), ("video", "Video playback")])
    now = clock()
    reports = [Report(page_id=page.id, category="login" if n % 4 else "video",
                      at=now - timedelta(minutes=n % 10), reporter=f"r{n}",
                      country="BR" if n % 2 else "US") for n in range(12)]
    store.add_reports(reports)

    view = crowd_view(store, page, now=now + timedelta(seconds=1))

    assert view.recent_count == 12
    assert view.has_problems
    assert view.verdict == "Users report problems with Clipstream"
    assert [(s.label, s.count) for s in view.categories] == [("Login", 9), ("Video playback", 3)]
    assert {s.label for s in view.countries} == {"Brazil", "United States"}
    assert view.category_options == (("login", "Login"), ("video", "Video playback"))
    doc = view.to_doc()
    assert len(doc["buckets"]) == 96 and doc["last_15_min"]["reports"] == 12
