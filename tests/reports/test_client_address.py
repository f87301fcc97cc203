"""Whose address a report comes from: X-Forwarded-For only through trusted proxies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from signalfire.reports.geo import ClientAddress
from signalfire.reports.identity import ReporterKeys

PROXIES = ("127.0.0.1", "10.0.0.0/8", "::1")


@pytest.mark.parametrize("peer, forwarded, expected", [
    ("203.0.113.7", None, "203.0.113.7"),                       # no proxy at all
    ("203.0.113.7", "198.51.100.1", "203.0.113.7"),             # untrusted peer: header ignored
    ("127.0.0.1", "198.51.100.1", "198.51.100.1"),              # local proxy
    ("127.0.0.1", "198.51.100.1, 10.1.2.3", "198.51.100.1"),    # two proxies of ours
    ("127.0.0.1", "6.6.6.6, 198.51.100.1", "198.51.100.1"),     # a forged first hop is skipped
    ("10.9.9.9", " 198.51.100.1 ,", "198.51.100.1"),            # spaces and empty hops
    ("::1", "2001:db8::5", "2001:db8::5"),                      # IPv6 proxy and client
    ("127.0.0.2", "198.51.100.1", "127.0.0.2"),                 # outside 127.0.0.1/32
])
def test_the_client_is_the_last_hop_that_is_not_ours(peer, forwarded, expected):
    assert ClientAddress(PROXIES).of(peer, forwarded) == expected


def test_without_trusted_proxies_the_header_changes_nothing():
    assert ClientAddress().of("127.0.0.1", "198.51.100.1") == "127.0.0.1"


def test_reporter_keys_are_stable_for_a_day_and_change_the_next():
    keys = ReporterKeys(b"k" * 32)
    morning = datetime(2026, 5, 1, 8, tzinfo=UTC)
    same = keys.key("198.51.100.1", "phone", now=morning)
    assert same == keys.key("198.51.100.1", "phone", now=morning + timedelta(hours=10))
    assert same != keys.key("198.51.100.1", "phone", now=morning + timedelta(days=1))
    assert same != keys.key("198.51.100.2", "phone", now=morning)
    assert same != ReporterKeys(b"x" * 32).key("198.51.100.1", "phone", now=morning)
    assert "198.51.100.1" not in same and len(same) == 32


def test_a_batch_keys_its_reporters_as_one_at_a_time_would():
    keys = ReporterKeys(b"k" * 32)
    now = datetime(2026, 5, 1, 8, tzinfo=UTC)
    batch = keys.collector_keyer("c1", now=now)
    assert [batch(r) for r in ("install-1", "install-2", "")] == [
        keys.collector_key("c1", r, now=now) for r in ("install-1", "install-2", "")]
    assert batch("install-1") != keys.collector_keyer("c2", now=now)("install-1")
