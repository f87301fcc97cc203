"""The agent's durable queue: order, acknowledgement, and what survives a restart or kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from agent_helpers import make_monitor, make_observation

from signalfire.agent.queue import ObservationQueue
from signalfire.agent.wire import monitor_to_wire
from signalfire.errors import ConfigError


def test_peek_gives_the_oldest_first_without_removing(queue):
    batch = [make_observation(n) for n in range(5)]
    assert queue.put(batch[:3]) == 3
    assert queue.put(batch[3:]) == 2
    assert [d["id"] for d in queue.peek(4)] == [o.id for o in batch[:4]]
    assert queue.depth() == 5


def test_ack_removes_only_the_acknowledged(queue):
    batch = [make_observation(n) for n in range(4)]
    queue.put(batch)
    assert queue.ack([batch[0].id, batch[2].id, "never-queued"]) == 2
    assert [d["id"] for d in queue.peek(10)] == [batch[1].id, batch[3].id]
    assert queue.depth() == 2


def test_an_observation_put_twice_is_queued_once(queue):
    o = make_observation()
    assert queue.put([o]) == 1
    assert queue.put([o, make_observation(1)]) == 1
    assert queue.depth() == 2


def test_a_queued_observation_keeps_its_own_time_and_fields(queue):
    o = make_observation(7, ok=False, status=503, error="timeout", error_detail="no answer in 2s")
    queue.put([o])
    (doc,) = queue.peek(1)
    assert doc == {"id": o.id, "monitor_id": "m1", "at": "2026-06-01T12:00:07+00:00", "ok": False,
                   "duration_ms": 12.5, "status": 503, "error": "timeout",
                   "error_detail": "no answer in 2s",
                   "conditions": [{"condition": "[STATUS] == 200", "ok": True, "actual": "200"}]}
    assert queue.oldest_at() == "2026-06-01T12:00:07+00:00"


def test_peek_stops_at_the_byte_budget_but_always_gives_one(queue):
    queue.put([make_observation(n) for n in range(10)])
    one_size = len(str(queue.peek(1)[0]))
    assert 1 <= len(queue.peek(10, max_bytes=one_size * 3)) < 10
    assert len(queue.peek(10, max_bytes=1)) == 1


def test_the_queue_survives_reopening(tmp_path):
    path = tmp_path / "q.db"
    q = ObservationQueue(path, region="eu")
    batch = [make_observation(n) for n in range(3)]
    q.put(batch)
    q.ack([batch[0].id])
    q.save_monitors([monitor_to_wire(make_monitor())])
    q.close()
    again = ObservationQueue(path, region="eu")
    try:
        assert [d["id"] for d in again.peek(10)] == [batch[1].id, batch[2].id]
        assert again.load_monitors() == [monitor_to_wire(make_monitor())]
    finally:
        again.close()


def test_an_acknowledged_put_survives_kill_9(tmp_path):
    path = tmp_path / "q.db"
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from agent_helpers import make_observation
        from signalfire.agent.queue import ObservationQueue
        q = ObservationQueue(__import__("pathlib").Path({str(path)!r}), region="eu")
        q.put([make_observation(n, id=f"obs{{n:05d}}") for n in range(50)])
        print("put", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "put"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    q = ObservationQueue(path, region="eu")
    try:
        assert q.depth() == 50
        assert q.peek(1)[0]["id"] == "obs00000"
    finally:
        q.close()


def test_no_monitor_list_is_saved_at_first(queue):
    assert queue.load_monitors() is None


def test_a_queue_of_another_region_is_refused(tmp_path):
    ObservationQueue(tmp_path / "q.db", region="eu").close()
    with pytest.raises(ConfigError, match="region 'eu', not 'us'"):
        ObservationQueue(tmp_path / "q.db", region="us")


def test_two_agents_cannot_share_a_queue_file(queue, tmp_path):
    with pytest.raises(ConfigError, match="another agent is using this queue file"):
        ObservationQueue(tmp_path / "agent-eu.db", region="eu")


def test_a_buried_observation_leaves_the_queue_but_is_kept(queue):
    from agent_helpers import T0

    batch = [make_observation(n) for n in range(3)]
    queue.put(batch)
    queue.bury(batch[0].id, reason="HTTP 422", now=T0)
    assert [d["id"] for d in queue.peek(10)] == [batch[1].id, batch[2].id]
    assert queue.rejected_depth() == 1
