"""The server and two agents as real processes, as users run them.

The monitor runs every second from regions eu and us against a target on
loopback; the target fails the checks of the regions the test names (it reads
the region from the probe's User-Agent).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from agent_processes import Target, World, parse_ts, to_ms, wait_for


@pytest.fixture
def target() -> Iterator[Target]:
    t = Target()
    yield t
    t.close()


@pytest.fixture
def world(tmp_path, target) -> Iterator[World]:
    w = World(tmp_path, target)
    try:
        yield w
    finally:
        w.close()


def test_every_observation_arrives_once_with_its_own_time_across_a_server_restart(world):
    world.start_server()
    tokens = {r: world.cli("agents", "create", "--name", f"{r}-1", "--region", r)
              for r in ("eu", "us")}
    agents = {r: world.start_agent(tokens[r], r) for r in ("eu", "us")}
    monitor = world.monitor_id()

    for region in ("eu", "us"):
        wait_for(f"observations from {region}",
                 lambda r=region: len(world.observations(monitor, r)) >= 3, timeout_s=20)

    world.stop_server()
    down_at = datetime.now(UTC)
    time.sleep(6)
    for region, agent in agents.items():
        assert agent.alive(), agent.output()[-2000:]
        made_while_down = [at for at in agent.queued().values() if at > down_at]
        assert len(made_while_down) >= 3, f"{region} kept probing while the server was down"
        assert "event=send_failed" in agent.output()
    up_at = datetime.now(UTC)
    world.start_server()

    def delivered(region: str) -> bool:
        before_restart = {i for i, at in agents[region].queued().items() if at < up_at}
        return before_restart <= set(world.observations(monitor, region))

    for region in ("eu", "us"):
        wait_for(f"{region}'s queue to drain into the restarted server",
                 lambda r=region: delivered(r), timeout_s=40)

    for agent in agents.values():
        assert agent.terminate() == 0, agent.output()[-2000:]
        assert "event=agent_stopped reason=signal depth=0" in agent.output()

    for region, agent in agents.items():
        made = agent.queued()
        stored = world.observations(monitor, region)
        # Exactly once: the same ids on both sides (the API lists each stored
        # observation; an id is stored once), nothing lost, nothing invented.
        assert len(made) == len(stored) >= 10
        assert set(made) == set(stored)
        assert {d["region"] for d in stored.values()} == {region}
        for obs_id, at in made.items():
            doc = stored[obs_id]
            # The prober's own time, however late it was delivered…
            assert parse_ts(doc["at"]) == to_ms(at)
            # …and the server's time of receipt beside it.
            if down_at < at < up_at:
                assert parse_ts(doc["received_at"]) >= to_ms(up_at)
        late = [i for i, at in made.items() if down_at < at < up_at]
        assert len(late) >= 3


def test_an_agent_killed_and_restarted_while_the_server_is_down_loses_nothing(world):
    world.start_server()
    token = world.cli("agents", "create", "--name", "eu-1", "--region", "eu")
    first = world.start_agent(token, "eu")
    monitor = world.monitor_id()
    wait_for("observations from eu", lambda: world.observations(monitor, "eu"), timeout_s=20)

    world.stop_server()
    down_at = datetime.now(UTC)
    wait_for("observations queued while the server is down",
             lambda: sum(at > down_at for at in first.queued().values()) >= 3, timeout_s=20)
    first.kill()  # SIGKILL: no flush, no last send
    # Started while the server is still down: it probes the monitor list it saved.
    second = world.start_agent(token, "eu", run=2)
    wait_for("the restarted agent to probe without the server",
             lambda: len(second.queued()) >= 3, timeout_s=20)
    assert "event=monitors_pull_failed" in second.output()
    world.start_server()
    made = first.queued() | second.queued()
    wait_for("both runs' observations on the server",
             lambda: set(made) <= set(world.observations(monitor, "eu")), timeout_s=40)
    assert second.terminate() == 0, second.output()[-2000:]

    made = first.queued() | second.queued()
    stored = world.observations(monitor, "eu")
    assert set(made) <= set(stored)
    # A check whose batch was committed in the instant before the kill may be
    # stored without its log line: the server may hold one more, never fewer.
    assert len(set(stored) - set(made)) <= 1
    for obs_id, at in made.items():
        assert parse_ts(stored[obs_id]["at"]) == to_ms(at)


def test_a_region_failing_alone_is_a_partial_outage_and_both_a_major_one(world, target):
    world.start_server()
    for r in ("eu", "us"):
        world.start_agent(world.cli("agents", "create", "--name", f"{r}-1", "--region", r), r)
    monitor = world.monitor_id()
    wait_for("both regions up", lambda: sorted(
        s["region"] for s in world.admin_get(f"/api/v1/pages/app/monitors/{monitor}")["states"]
        if s["up"]) == ["eu", "us"], timeout_s=20)
    assert world.component_status() == "operational"

    target.failing = {"eu"}
    wait_for("partial_outage", lambda: world.component_status() == "partial_outage",
             timeout_s=20)
    target.failing = {"eu", "us"}
    wait_for("major_outage", lambda: world.component_status() == "major_outage", timeout_s=20)
    target.failing = set()
    wait_for("operational again", lambda: world.component_status() == "operational",
             timeout_s=20)


def test_a_revoked_token_stops_the_agent_with_code_2_and_says_why(world):
    world.start_server()
    token = world.cli("agents", "create", "--name", "eu-1", "--region", "eu")
    agent = world.start_agent(token, "eu")
    monitor = world.monitor_id()
    wait_for("observations from eu", lambda: world.observations(monitor, "eu"), timeout_s=20)

    agent_id = next(a["id"] for a in world.admin_get("/api/v1/agents") if a["name"] == "eu-1")
    world.cli("agents", "revoke", agent_id)

    assert agent.wait(timeout_s=20) == 2
    output = agent.output()
    assert ("error: --token: the server refused this agent's token (the agent token was "
            "revoked); create a new one with `signalfire agents create`") in output
    assert "Traceback" not in output
    assert token not in output


def test_an_unknown_token_stops_the_agent_at_once(world):
    world.start_server()
    agent = world.start_agent("sfa_not-a-real-token", "eu")
    assert agent.wait(timeout_s=20) == 2
    assert "the agent token is not valid" in agent.output()


def test_a_token_of_another_region_stops_the_agent_naming_both(world):
    world.start_server()
    token = world.cli("agents", "create", "--name", "eu-1", "--region", "eu")
    agent = world.start_agent(token, "us")
    assert agent.wait(timeout_s=20) == 2
    assert ("the token belongs to region 'eu' but the agent was started with --region 'us'"
            in agent.output())
