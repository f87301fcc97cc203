from datetime import UTC, datetime, timedelta

import pytest

from signalfire.domain.model import StatusChange
from signalfire.domain.status import ComponentStatus as C
from signalfire.domain.uptime import daily_uptime, window_uptime_pct

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
DAY = datetime(2026, 3, 9, tzinfo=UTC)


def ch(status, at):
    return StatusChange("c", status, at)


def test_days_before_the_first_record_have_no_data():
    days = daily_uptime([ch(C.OPERATIONAL, NOW - timedelta(hours=1))], days=3, now=NOW)
    assert [d.has_data for d in days] == [False, False, True]
    assert days[-1].uptime_pct == 100.0
    assert window_uptime_pct(days) == 100.0
    assert window_uptime_pct(days[:2]) is None


def test_a_major_outage_counts_in_full_and_a_partial_one_in_part():
    history = [ch(C.OPERATIONAL, DAY - timedelta(days=5)),
               ch(C.MAJOR_OUTAGE, DAY + timedelta(hours=6)),
               ch(C.OPERATIONAL, DAY + timedelta(hours=12)),
               ch(C.PARTIAL_OUTAGE, DAY + timedelta(hours=18)),
               ch(C.OPERATIONAL, DAY + timedelta(hours=24))]
    yesterday = daily_uptime(history, days=2, now=NOW)[0]
    assert yesterday.day == DAY.date()
    assert yesterday.worst is C.MAJOR_OUTAGE
    assert yesterday.uptime_pct == pytest.approx(100 * (1 - (6 + 0.3 * 6) / 24))
    assert yesterday.outage_s[C.MAJOR_OUTAGE] == 6 * 3600


def test_an_outage_running_into_today_counts_only_until_now():
    history = [ch(C.OPERATIONAL, DAY - timedelta(days=1)), ch(C.MAJOR_OUTAGE, NOW - timedelta(hours=3))]
    today = daily_uptime(history, days=1, now=NOW)[0]
    assert today.uptime_pct == pytest.approx(100 * (1 - 3 / 12))


def test_degraded_and_maintenance_are_not_downtime():
    history = [ch(C.DEGRADED_PERFORMANCE, DAY - timedelta(days=1)),
               ch(C.UNDER_MAINTENANCE, DAY + timedelta(hours=2))]
    d = daily_uptime(history, days=2, now=NOW)[0]
    assert d.uptime_pct == 100.0 and d.worst is C.DEGRADED_PERFORMANCE
