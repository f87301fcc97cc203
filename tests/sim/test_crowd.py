import random
from collections import Counter
from datetime import UTC, datetime

from signalfire.sim.crowd import crowd_minute
from signalfire.sim.target import Faults

AT = datetime(2026, 6, 1, 23, 0, tzinfo=UTC)  # evening in the Americas


def per_country(broken, minutes=60):
    rng = random.Random(1)
    counts: Counter[str] = Counter()
    for _ in range(minutes):
        for r in crowd_minute(AT, ["app", "login"], rng, broken=broken, page_id="p"):
            counts[r.country] += 1
    return counts


def test_a_regional_break_makes_a_burst_where_it_is():
    faults = Faults(("video-upload",), ("eu-west", "sa-east"))
    quiet = per_country(faults.badness)
    faults.set("video-upload", "down", frozenset({"sa-east"}))
    loud = per_country(faults.badness)
    assert loud["BR"] > 20 * max(quiet["BR"], 1)
    assert loud["DE"] < 3 * max(quiet["DE"], 1) + 3
    faults.set("video-upload", "down")
    everywhere = per_country(faults.badness)
    assert everywhere["DE"] > 20 * max(quiet["DE"], 1)
