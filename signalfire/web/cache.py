"""Rendered public documents, kept as bytes until a write makes them stale.

Under a thundering herd only one request per document renders it; the others
wait for that render instead of all hitting the database (single flight).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable

import anyio.to_thread

from signalfire.publish.site import Rendered


class RenderCache:
    def __init__(self, *, max_entries: int = 2048) -> None:
        self._entries: dict[str, tuple[Rendered, float]] = {}
        self._inflight: dict[str, asyncio.Future[Rendered]] = {}
        self._lock = threading.Lock()
        self._generation = 0
        self.max_entries = max_entries
        self.hits = 0
        self.renders = 0

    def get(self, key: str) -> Rendered | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        rendered, expires = entry
        if time.monotonic() >= expires:
            return None
        self.hits += 1
        return rendered

    async def get_or_render(self, key: str, render: Callable[[], Rendered]) -> Rendered:
        hit = self.get(key)
        if hit is not None:
            return hit
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Rendered] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        generation = self._generation
        try:
            rendered = await anyio.to_thread.run_sync(render)
        except BaseException as exc:
            future.set_exception(exc)
            # Nobody else may be waiting; keep asyncio from warning about it.
            future.exception()
            raise
        finally:
            self._inflight.pop(key, None)
        self.renders += 1
        # A write that landed while we rendered may have made this render stale
        # already: serve it to this request, but do not keep it.
        self.put_if_current(key, rendered, generation)
        future.set_result(rendered)
        return rendered

    @property
    def generation(self) -> int:
        return self._generation

    def put_if_current(self, key: str, rendered: Rendered, generation: int) -> bool:
        """Keep ``rendered`` unless a write landed since ``generation`` was read."""
        with self._lock:
            if generation != self._generation or rendered.status != 200:
                return False
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (rendered, time.monotonic() + rendered.max_age_s)
            return True

    def invalidate(self, topics: Iterable[str]) -> list[str]:
        """Drop every document that depends on any of ``topics``; returns their keys."""
        wanted = set(topics)
        with self._lock:
            self._generation += 1
            stale = [k for k, (r, _) in self._entries.items() if r.topics & wanted]
            for k in stale:
                del self._entries[k]
        return stale

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
