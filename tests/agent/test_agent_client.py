"""The agent's HTTP client against canned answers: each kind of failure becomes
its own error, and the token never shows in one."""

from __future__ import annotations

import json

import httpx
import pytest
from agent_helpers import make_monitor

from signalfire.agent.client import (
    AgentClient,
    RequestRefused,
    SendResult,
    ServerUnavailable,
    TokenRejected,
)
from signalfire.agent.wire import monitor_to_wire
from signalfire.errors import AuthError

pytestmark = pytest.mark.anyio

TOKEN = "sfa_secret-token-value"


def client_answering(handler) -> AgentClient:
    return AgentClient("http://server.test/", TOKEN, transport=httpx.MockTransport(handler))


def problem(status: int, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"error": message, "field": None, "status": status},
                          headers=headers)


async def test_monitors_gives_the_region_and_its_monitors():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        doc = monitor_to_wire(make_monitor()) | {"states": [], "heartbeat_url": None}
        return httpx.Response(200, json={"region": "eu", "monitors": [doc]})

    client = client_answering(handler)
    region, monitors = await client.monitors()
    await client.aclose()
    assert (region, monitors) == ("eu", [make_monitor()])
    assert seen[0].url == "http://server.test/api/v1/agent/monitors"
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"


async def test_a_monitor_it_cannot_read_is_left_out(caplog):
    good = monitor_to_wire(make_monitor())
    odd = monitor_to_wire(make_monitor(id="m2")) | {"kind": "smtp"}
    client = client_answering(lambda r: httpx.Response(200, json={"region": "eu",
                                                                  "monitors": [odd, good]}))
    _, monitors = await client.monitors()
    await client.aclose()
    assert [m.id for m in monitors] == ["m1"]
    assert "event=monitor_unreadable monitor=m2" in caplog.text


async def test_send_posts_the_batch_and_reads_the_result():
    bodies = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"accepted": 1, "duplicates": 1,
                                         "unknown_monitors": ["gone"]})

    client = client_answering(handler)
    result = await client.send([{"id": "a"}, {"id": "b"}])
    await client.aclose()
    assert result == SendResult(accepted=1, duplicates=1, unknown_monitors=["gone"])
    assert bodies == [{"observations": [{"id": "a"}, {"id": "b"}]}]


@pytest.mark.parametrize("status", [401, 403])
async def test_a_refused_token_is_its_own_error(status):
    client = client_answering(lambda r: problem(status, "the agent token was revoked"))
    with pytest.raises(TokenRejected) as caught:
        await client.send([{"id": "a"}])
    await client.aclose()
    assert isinstance(caught.value, AuthError)
    assert "the agent token was revoked" in caught.value.message
    assert "signalfire agents create" in caught.value.message
    assert TOKEN not in caught.value.message


@pytest.mark.parametrize(("response", "retry_after_s"), [
    (problem(500, "boom"), None),
    (problem(502, "bad gateway"), None),
    (problem(503, "maintenance", **{"Retry-After": "7"}), 7.0),
    (problem(429, "slow down", **{"Retry-After": "2"}), 2.0),
    (problem(408, "too slow"), None),
    (httpx.Response(200, text="<html>Log in to the hotel Wi-Fi</html>"), None),
    (httpx.Response(200, json=["not", "an", "object"]), None),
    (httpx.Response(200, json={"unexpected": True}), None),
])
async def test_a_passing_failure_is_transient(response, retry_after_s):
    client = client_answering(lambda r: response)
    with pytest.raises(ServerUnavailable) as caught:
        await client.send([{"id": "a"}])
    await client.aclose()
    assert caught.value.retry_after_s == retry_after_s


@pytest.mark.parametrize("exc", [
    httpx.ConnectError("connection refused"),
    httpx.ReadTimeout("read timed out"),
    httpx.ConnectTimeout("connect timed out"),
    httpx.RemoteProtocolError("server disconnected"),
])
async def test_a_network_failure_is_transient(exc):
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    client = client_answering(handler)
    with pytest.raises(ServerUnavailable):
        await client.monitors()
    await client.aclose()


@pytest.mark.parametrize(("response", "status", "says"), [
    (problem(422, "observations.0.error: too long"), 422, "too long"),
    (problem(413, "the body is too large"), 413, "too large"),
    (problem(404, "Not Found"), 404, "Not Found"),
    (httpx.Response(301, headers={"Location": "https://status.example.com/api/v1/agent/monitors"}),
     301, "use that address as --server"),
])
async def test_any_other_answer_is_a_refusal_with_its_status(response, status, says):
    client = client_answering(lambda r: response)
    with pytest.raises(RequestRefused) as caught:
        await client.send([{"id": "a"}])
    await client.aclose()
    assert caught.value.status == status
    assert says in caught.value.message
    assert TOKEN not in caught.value.message


async def test_a_monitor_list_without_a_region_is_not_trusted():
    client = client_answering(lambda r: httpx.Response(200, json={"monitors": []}))
    with pytest.raises(ServerUnavailable, match="Signalfire server"):
        await client.monitors()
    await client.aclose()
