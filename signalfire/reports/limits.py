"""Per-client rate limits for the public intake: a token bucket per key, in memory.

Limits are per node (several nodes each allow the rate); they exist to keep
one client's flood from crowding out everyone else, not to count exactly.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class RateLimiter:
    def __init__(self, *, per_minute: float, burst: int, max_keys: int = 100_000,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.rate_s = per_minute / 60.0
        self.burst = burst
        self.max_keys = max_keys
        self.monotonic = monotonic
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, key: str, cost: float = 1.0) -> bool:
        now = self.monotonic()
        tokens, last = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate_s)
        allowed = tokens >= cost
        if allowed:
            tokens -= cost
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)  # the least recently seen
        return allowed
