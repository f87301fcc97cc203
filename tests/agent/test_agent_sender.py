"""From the queue to a server behind a MockTransport that stores each id once,
like the real one: acknowledged means stored, and nothing is lost or doubled."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx
import pytest
from agent_helpers import T0, call_here, make_observation

from signalfire.agent.backoff import Backoff
from signalfire.agent.client import AgentClient, RequestRefused, ServerUnavailable, TokenRejected
from signalfire.agent.sender import Sender

pytestmark = pytest.mark.anyio


class FakeServer:
    """Stores observations by id; ``fail`` decides a response before storing,
    ``fail_after`` one after storing (the answer is lost, the data is not)."""

    def __init__(self) -> None:
        self.stored: dict[str, dict] = {}
        self.batches: list[list[str]] = []
        self.fail: Callable[[list[dict]], httpx.Response | None] = lambda batch: None
        self.fail_after: Callable[[list[dict]], Exception | None] = lambda batch: None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        batch = json.loads(request.content)["observations"]
        self.batches.append([o["id"] for o in batch])
        refusal = self.fail(batch)
        if refusal is not None:
            return refusal
        fresh = [o for o in batch if o["id"] not in self.stored]
        self.stored.update((o["id"], o) for o in fresh)
        lost = self.fail_after(batch)
        if lost is not None:
            raise lost
        return httpx.Response(200, json={"accepted": len(fresh),
                                         "duplicates": len(batch) - len(fresh),
                                         "unknown_monitors": []})


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
async def sender(queue, server):
    client = AgentClient("http://server.test", "sfa_t", transport=httpx.MockTransport(server))
    yield Sender(queue, client, call=call_here, clock=lambda: T0,
                 backoff=Backoff(first_s=0.01, cap_s=0.01))
    await client.aclose()


async def test_batches_go_oldest_first_at_most_1000_at_a_time(queue, server, sender):
    batch = [make_observation(n) for n in range(2500)]
    queue.put(batch)
    assert await sender.drain(timeout_s=10) == 2500
    assert [len(b) for b in server.batches] == [1000, 1000, 500]
    assert [i for b in server.batches for i in b] == [o.id for o in batch]
    assert queue.depth() == 0


async def test_a_batch_is_cut_to_the_byte_budget(queue, server, sender):
    sender.max_batch_bytes = 2000
    queue.put([make_observation(n) for n in range(20)])
    await sender.drain(timeout_s=10)
    assert len(server.batches) > 1 and len(server.stored) == 20


async def test_nothing_leaves_the_queue_without_a_2xx(queue, server, sender):
    queue.put([make_observation(n) for n in range(3)])
    server.fail = lambda batch: httpx.Response(503, json={"error": "restarting"})
    with pytest.raises(ServerUnavailable):
        await sender.send_once()
    assert queue.depth() == 3 and not server.stored


async def test_a_lost_answer_means_a_resend_that_is_stored_once(queue, server, sender):
    batch = [make_observation(n) for n in range(3)]
    queue.put(batch)
    server.fail_after = lambda b: httpx.ReadTimeout("the answer never came")
    with pytest.raises(ServerUnavailable):
        await sender.send_once()
    assert queue.depth() == 3 and len(server.stored) == 3
    server.fail_after = lambda b: None
    assert await sender.send_once() == 3
    assert queue.depth() == 0
    assert sorted(server.stored) == sorted(o.id for o in batch)
    assert server.batches[0] == server.batches[1]


async def test_the_one_observation_the_server_refuses_is_set_aside(queue, server, sender):
    batch = [make_observation(n) for n in range(9)]
    bad = batch[5].id
    queue.put(batch)
    server.fail = lambda b: (httpx.Response(422, json={"error": "observations.5.at: bad"})
                             if any(o["id"] == bad for o in b) else None)
    assert await sender.send_once() == 9
    assert queue.depth() == 0 and queue.rejected_depth() == 1
    assert sorted(server.stored) == sorted(o.id for o in batch if o.id != bad)


async def test_a_refusal_that_is_not_about_the_content_keeps_everything(queue, server, sender):
    queue.put([make_observation(n) for n in range(3)])
    server.fail = lambda b: httpx.Response(404, json={"error": "Not Found"})
    with pytest.raises(RequestRefused):
        await sender.send_once()
    assert queue.depth() == 3 and queue.rejected_depth() == 0


async def test_a_revoked_token_stops_the_sender(queue, server, sender):
    queue.put([make_observation()])
    server.fail = lambda b: httpx.Response(401, json={"error": "the agent token was revoked"})
    with pytest.raises(TokenRejected):
        await sender.send_once()
    assert queue.depth() == 1


async def test_the_last_send_gives_up_quietly_and_keeps_the_rest(queue, server, sender, caplog):
    queue.put([make_observation(n) for n in range(3)])
    server.fail = lambda b: httpx.Response(502)
    assert await sender.drain(timeout_s=5) == 0
    assert queue.depth() == 3
    assert "event=final_send_incomplete" in caplog.text


async def test_the_loop_rides_out_an_outage(queue, server, sender, caplog):
    import anyio

    caplog.set_level(logging.INFO, logger="signalfire")
    calls = {"n": 0}

    def flaky(batch):
        calls["n"] += 1
        return httpx.Response(503) if calls["n"] <= 3 else None

    server.fail = flaky
    queue.put([make_observation(n) for n in range(5)])
    async with anyio.create_task_group() as tg:
        tg.start_soon(sender.run)
        with anyio.fail_after(5):
            while queue.depth():
                await anyio.sleep(0.01)
        tg.cancel_scope.cancel()
    assert len(server.stored) == 5
    assert "event=send_failed" in caplog.text and "event=server_back" in caplog.text
