"""Heartbeat monitors are pushed, so their run only says so."""

from __future__ import annotations

import pytest

from signalfire.domain.probe import MonitorKind
from signalfire.probes import PROBES, heartbeat

pytestmark = pytest.mark.anyio


async def test_running_a_heartbeat_returns_not_an_active_probe(ctx, clock, make_monitor):
    result = await heartbeat.run(make_monitor(MonitorKind.HEARTBEAT, ""), ctx)

    assert result.error == "not_an_active_probe"
    assert result.started_at == clock.now
    assert not result.connected


def test_heartbeat_is_registered_as_a_push_kind():
    assert PROBES[MonitorKind.HEARTBEAT].active is False
    assert all(kind.active for key, kind in PROBES.items() if key != MonitorKind.HEARTBEAT)


@pytest.mark.parametrize(("grace_s", "ok"), [(0, True), (30, True), (2.5, True), (-1, False),
                                              ("30", False), (True, False), (float("nan"), False)])
def test_grace_s_must_be_a_number_of_at_least_zero(grace_s, ok):
    problems = PROBES[MonitorKind.HEARTBEAT].validate_options({"grace_s": grace_s})

    assert (problems == []) is ok
    if not ok:
        assert problems[0].startswith("options.grace_s: ")


def test_a_heartbeat_takes_no_target():
    assert heartbeat.validate_target("") is None
    assert "no target" in heartbeat.validate_target("https://example.com")
