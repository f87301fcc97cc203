"""The agent as a whole, in this process, with the server and the targets behind
MockTransports: what it probes when the server is away, and when it stops."""

from __future__ import annotations

import json

import anyio
import httpx
import pytest
from agent_helpers import make_monitor

from signalfire.agent.client import RegionMismatch, TokenRejected
from signalfire.agent.main import Agent, parse_canaries, probe_user_agent
from signalfire.agent.queue import ObservationQueue
from signalfire.agent.wire import monitor_to_wire
from signalfire.errors import ConfigError

pytestmark = pytest.mark.anyio


class Server:
    """The agent API: ``region`` and ``monitors`` to hand out, observations kept
    by id; ``down`` makes every request fail to connect."""

    def __init__(self, *, region: str = "eu", monitors=(), down: bool = False,
                 token_status: int | None = None) -> None:
        self.region = region
        self.monitors = [monitor_to_wire(m) for m in monitors]
        self.down = down
        self.token_status = token_status
        self.stored: dict[str, dict] = {}
        self.posts = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused")
        if self.token_status:
            return httpx.Response(self.token_status, json={"error": "the agent token was revoked"})
        if request.method == "GET":
            return httpx.Response(200, json={"region": self.region, "monitors": self.monitors})
        self.posts += 1
        batch = json.loads(request.content)["observations"]
        fresh = [o for o in batch if o["id"] not in self.stored]
        self.stored.update((o["id"], o) for o in batch)
        return httpx.Response(200, json={"accepted": len(fresh),
                                         "duplicates": len(batch) - len(fresh),
                                         "unknown_monitors": []})


class Target:
    def __init__(self) -> None:
        self.user_agents: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.user_agents.append(request.headers["user-agent"])
        return httpx.Response(200, text="ok")


def make_agent(tmp_path, server: Server, target: Target, **kwargs) -> Agent:
    return Agent(server="http://server.test", token="sfa_t", region="eu",
                 queue_path=tmp_path / "agent-eu.db", refresh_s=0.2,
                 server_transport=httpx.MockTransport(server),
                 probe_transport=httpx.MockTransport(target), **kwargs)


async def run_for(agent: Agent, seconds: float) -> None:
    async with anyio.create_task_group() as tg:
        tg.start_soon(agent.run)
        await anyio.sleep(seconds)
        agent.request_stop()


def queued(tmp_path) -> list[dict]:
    q = ObservationQueue(tmp_path / "agent-eu.db", region="eu")
    try:
        return q.peek(10_000)
    finally:
        q.close()


async def test_it_probes_and_delivers_everything_it_made(tmp_path):
    server, target = Server(monitors=[make_monitor()]), Target()
    agent = make_agent(tmp_path, server, target)
    await run_for(agent, 2.5)
    assert len(server.stored) >= 2
    assert queued(tmp_path) == []
    assert {o["monitor_id"] for o in server.stored.values()} == {"m1"}
    assert all(o["ok"] for o in server.stored.values())
    assert set(target.user_agents) == {probe_user_agent("eu")}
    assert "region eu" in probe_user_agent("eu")


async def test_restarted_while_the_server_is_down_it_probes_its_last_list(tmp_path):
    q = ObservationQueue(tmp_path / "agent-eu.db", region="eu")
    q.save_monitors([monitor_to_wire(make_monitor())])
    q.close()
    server, target = Server(down=True), Target()
    await run_for(make_agent(tmp_path, server, target), 2.5)
    left = queued(tmp_path)
    assert len(left) >= 2 and all(o["ok"] for o in left)
    assert not server.stored


async def test_the_list_it_pulled_is_kept_for_the_next_start(tmp_path):
    server, target = Server(monitors=[make_monitor(), make_monitor(id="m2", name="b")]), Target()
    await run_for(make_agent(tmp_path, server, target), 0.5)
    q = ObservationQueue(tmp_path / "agent-eu.db", region="eu")
    try:
        assert [m["id"] for m in q.load_monitors() or []] == ["m1", "m2"]
    finally:
        q.close()


async def test_a_heartbeat_monitor_is_not_run(tmp_path):
    from signalfire.domain.probe import MonitorKind

    server, target = Server(monitors=[make_monitor(kind=MonitorKind.HEARTBEAT, target="")]), Target()
    await run_for(make_agent(tmp_path, server, target), 1.5)
    assert not server.stored and not target.user_agents


async def test_a_token_of_another_region_stops_it_before_anything_is_sent(tmp_path):
    q = ObservationQueue(tmp_path / "agent-eu.db", region="eu")
    q.save_monitors([monitor_to_wire(make_monitor())])
    q.close()
    server, target = Server(region="us"), Target()
    agent = make_agent(tmp_path, server, target)
    with anyio.fail_after(10), pytest.raises(RegionMismatch) as caught:
        await agent.run()
    assert "region 'us'" in caught.value.message and "--region 'eu'" in caught.value.message
    assert server.posts == 0


async def test_a_revoked_token_stops_it_and_keeps_the_queue(tmp_path):
    q = ObservationQueue(tmp_path / "agent-eu.db", region="eu")
    from agent_helpers import make_observation

    q.put([make_observation()])
    q.close()
    server, target = Server(token_status=401), Target()
    with anyio.fail_after(10), pytest.raises(TokenRejected, match="was revoked"):
        await make_agent(tmp_path, server, target).run()
    assert len(queued(tmp_path)) == 1


async def test_the_server_down_at_stop_leaves_the_rest_queued(tmp_path):
    server, target = Server(monitors=[make_monitor()]), Target()
    agent = make_agent(tmp_path, server, target)
    async with anyio.create_task_group() as tg:
        tg.start_soon(agent.run)
        await anyio.sleep(1.2)
        server.down = True
        await anyio.sleep(1.5)
        agent.request_stop()
    left = queued(tmp_path)
    assert left, "observations made while the server was down stay queued"
    assert not set(o["id"] for o in left) & set(server.stored)


def test_canaries_are_read_from_one_or_several_values():
    assert parse_canaries(["1.1.1.1:53, example.com:443", "[::1]:80"]) == (
        ("1.1.1.1", 53), ("example.com", 443), ("::1", 80))
    assert parse_canaries([]) == ()
    with pytest.raises(ConfigError, match="--canary"):
        parse_canaries(["example.com"])


@pytest.mark.parametrize("server", ["status.example.com", "ftp://x", "http://"])
def test_a_server_that_is_not_an_http_url_is_refused(server, tmp_path):
    with pytest.raises(ConfigError, match="--server"):
        Agent(server=server, token="t", region="eu", queue_path=tmp_path / "q.db")


async def test_a_second_signal_cuts_the_last_send_short(tmp_path):
    server, target = Server(monitors=[make_monitor()]), Target()
    hang = anyio.Event()

    async def hanging(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and hang.is_set():
            await anyio.sleep(60)
        return server(request)

    agent = Agent(server="http://server.test", token="sfa_t", region="eu",
                  queue_path=tmp_path / "agent-eu.db", refresh_s=0.2,
                  server_transport=httpx.MockTransport(hanging),
                  probe_transport=httpx.MockTransport(target))
    async with anyio.create_task_group() as tg:
        tg.start_soon(agent.run)
        await anyio.sleep(1.5)
        hang.set()
        await anyio.sleep(1.2)  # at least one more check is queued, its send hangs
        agent.request_stop()
        await anyio.sleep(0.5)
        started = anyio.current_time()
        agent.request_stop()
    assert anyio.current_time() - started < 2, "the last send (up to 5 s) was cut short"
    assert queued(tmp_path), "what was not sent stays queued"
