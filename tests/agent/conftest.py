"""Fixtures of the agent tests: the anyio backend and a queue on a temporary file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from signalfire.agent.queue import ObservationQueue


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def queue(tmp_path) -> Iterator[ObservationQueue]:
    q = ObservationQueue(tmp_path / "agent-eu.db", region="eu")
    yield q
    q.close()
