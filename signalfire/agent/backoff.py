"""How long to wait before trying the server again.

Doubling from ``first_s`` up to ``cap_s``, each wait drawn between half and
all of that ("equal jitter"): a hundred agents that lost the server at the
same moment must not all knock again at the same moment when it comes back,
and none waits longer than ``cap_s`` once it is back.
"""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    def __init__(self, *, first_s: float = 1.0, cap_s: float = 30.0,
                 rng: Callable[[], float] = random.random) -> None:
        if not 0 < first_s <= cap_s:
            raise ValueError("need 0 < first_s <= cap_s")
        self.first_s = first_s
        self.cap_s = cap_s
        self._rng = rng
        self.failures = 0

    def next_s(self, *, at_least_s: float = 0.0) -> float:
        """The wait after one more failure (``at_least_s``: a server's Retry-After,
        still capped)."""
        ceiling = min(self.cap_s, self.first_s * 2 ** min(self.failures, 30))
        self.failures += 1
        wait = ceiling / 2 + self._rng() * ceiling / 2
        return min(self.cap_s, max(wait, at_least_s))

    def reset(self) -> None:
        self.failures = 0
