"""The demo's simulated crowd: users in several countries reporting problems with a
daily rhythm (more by day, fewer by night, in each country's own time), and a
burst when the demo service is broken for them."""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from signalfire.domain.crowd import Report
from signalfire.store import Store

# country → (share of users, UTC offset in hours, demo region whose probes see it)
COUNTRIES = {
    "US": (0.22, -6, None), "BR": (0.16, -3, "sa-east"), "MX": (0.09, -6, "sa-east"),
    "AR": (0.05, -3, "sa-east"), "GB": (0.08, 0, "eu-west"), "DE": (0.08, 1, "eu-west"),
    "FR": (0.07, 1, "eu-west"), "ES": (0.05, 1, "eu-west"), "IN": (0.12, 5, None),
    "JP": (0.08, 9, None),
}
BASE_PER_MINUTE = 1.2  # a quiet day: a handful of people whose own phone is the problem


def _rhythm(at: datetime, offset_h: int) -> float:
    """1.0 at 8 pm local time, about 0.2 at 5 am."""
    hour = (at.hour + at.minute / 60 + offset_h) % 24
    return 0.6 + 0.4 * math.cos((hour - 20) / 24 * 2 * math.pi)


def crowd_minute(at: datetime, categories: list[str], rng: random.Random, *,
                 broken: Callable[[str | None], float] = lambda region: 0.0,
                 page_id: str) -> list[Report]:
    """The reports of one minute. ``broken(region)`` is how bad things are (0..1) for
    the users a region stands for (None: everywhere)."""
    reports = []
    for country, (share, offset, region) in COUNTRIES.items():
        badness = max(broken(None), broken(region) if region else 0.0)
        rate = BASE_PER_MINUTE * share * _rhythm(at, offset) * (1 + 60 * badness)
        for _ in range(_poisson(rng, rate)):
            # The first categories are the most common; any count of them works.
            weights = [1.0 / (i + 1) for i in range(len(categories))]
            category = rng.choices(categories, weights=weights)[0] if badness == 0 else (
                categories[0])
            reports.append(Report(page_id=page_id, category=category, country=country,
                                  at=at + timedelta(seconds=rng.uniform(0, 59)),
                                  reporter=f"sim-{rng.getrandbits(64):016x}", source="sim"))
    return reports


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method is fine for the small rates of one minute.
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def backfill(store: Store, page_id: str, *, now: datetime, days: int = 7, seed: int = 11) -> int:
    """Seven quiet days of reports, so the page has a baseline to compare with."""
    rng = random.Random(seed)
    categories = [slug for slug, _ in store.report_categories(page_id)]
    start = (now - timedelta(days=days)).replace(second=0, microsecond=0)
    batch: list[Report] = []
    total = 0
    minute = start
    while minute < now - timedelta(minutes=1):
        batch += crowd_minute(minute, categories, rng, page_id=page_id)
        if len(batch) >= 5000:
            store.add_reports(batch)
            total += len(batch)
            batch = []
        minute += timedelta(minutes=1)
    if batch:
        store.add_reports(batch)
        total += len(batch)
    return total


class LiveCrowd:
    """Every minute, this minute's reports, through the same group-commit writer as
    real ones."""

    def __init__(self, submit: Callable[[list[Report]], object], categories: list[str],
                 page_id: str, broken: Callable[[str | None], float],
                 clock: Callable[[], datetime]) -> None:
        self.submit, self.categories, self.page_id = submit, categories, page_id
        self.broken, self.clock = broken, clock
        self._stop = threading.Event()
        self._rng = random.Random()

    def run(self) -> None:
        while not self._stop.wait(10):
            now = self.clock()
            # A sixth of a minute's reports every 10 s keeps the chart moving.
            reports = [replace(r, at=now) for r in crowd_minute(
                now, self.categories, self._rng, broken=self.broken, page_id=self.page_id)
                if self._rng.random() < 1 / 6]
            if reports:
                self.submit(reports)

    def start(self) -> None:
        threading.Thread(target=self.run, name="demo-crowd", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
