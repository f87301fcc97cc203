"""The JSON the agent sends and reads: the server's limits applied before queueing."""

from __future__ import annotations

from datetime import datetime

import pytest
from agent_helpers import make_monitor, make_observation

from signalfire.agent.wire import (
    MAX_CONDITIONS,
    MAX_ERROR_CHARS,
    MAX_ERROR_DETAIL_CHARS,
    monitor_from_wire,
    monitor_to_wire,
    observation_to_wire,
)
from signalfire.domain.probe import ConditionResult, MonitorKind


def test_an_observation_is_clipped_to_what_the_server_accepts():
    o = make_observation(error="e" * 100, error_detail="d" * 5000,
                         conditions=tuple(ConditionResult(f"c{i}", True) for i in range(80)))
    doc = observation_to_wire(o)
    assert len(doc["error"]) == MAX_ERROR_CHARS
    assert len(doc["error_detail"]) == MAX_ERROR_DETAIL_CHARS
    assert len(doc["conditions"]) == MAX_CONDITIONS
    assert "region" not in doc  # the server takes it from the token


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        observation_to_wire(make_observation(at=datetime(2026, 6, 1, 12, 0)))


def test_a_monitor_reads_back_as_it_was_written():
    m = make_monitor(conditions=("[STATUS] == 200",), degraded_ms=300.0,
                     options={"method": "HEAD"}, kind=MonitorKind.TCP)
    assert monitor_from_wire(monitor_to_wire(m)) == m


def test_a_monitor_of_an_unknown_kind_is_an_error():
    doc = monitor_to_wire(make_monitor()) | {"kind": "carrier-pigeon"}
    with pytest.raises(ValueError):
        monitor_from_wire(doc)
