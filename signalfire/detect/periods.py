"""The bucket size and the seasonal slots of a series, learnt from its timestamps.

Series arrive in buckets of any size (1 minute for reports, 5 minutes for
social mentions, 1 hour for a rollup). The detectors need to know which slot of
the day and which day of the week a bucket belongs to, so the clock learns the
bucket size from the gaps between the first timestamps (the median gap, so a
missing bucket or two among the first ones do not fool it) and then freezes it.

Time-of-day slots are at least ``min_slot_s`` wide (15 minutes by default):
with 1-minute buckets a slot then sees 15 buckets a day, enough to learn a
rhythm within a few days, where 1,440 one-minute slots would each need weeks.
Days of the week are counted in UTC from the epoch (day 0 was a Thursday); only
their distinctness matters.
"""

from __future__ import annotations

_DAY_S = 86_400.0
_LEARN_GAPS = 15  # gaps looked at before the bucket size is frozen


class BucketClock:
    """Learns the bucket size and maps a timestamp to its seasonal slots."""

    __slots__ = ("_gaps", "_last_s", "bucket_s", "is_learnt", "min_slot_s", "slot_s", "slots_per_day")

    def __init__(self, *, min_slot_s: float = 900.0, bucket_s: float | None = None) -> None:
        self.min_slot_s = min_slot_s
        self._gaps: list[float] = []
        self._last_s: float | None = None
        self.bucket_s: float | None = None
        self.slot_s = _DAY_S
        self.slots_per_day = 1
        self.is_learnt = False
        if bucket_s is not None:
            self._freeze(bucket_s)

    def _freeze(self, bucket_s: float) -> None:
        self.bucket_s = bucket_s
        self.is_learnt = True
        self._gaps = []
        # A slot is a whole number of buckets that divides the day when it can,
        # so every day has the same slots.
        per_slot = max(1, round(max(bucket_s, self.min_slot_s) / bucket_s))
        slot_s = per_slot * bucket_s
        self.slots_per_day = max(1, int(_DAY_S // slot_s))
        self.slot_s = _DAY_S / self.slots_per_day

    def observe(self, at_s: float) -> float:
        """Note a new timestamp; the number of buckets since the previous one (1 if unknown)."""
        last = self._last_s
        self._last_s = at_s
        if last is None:
            return 1.0
        gap = at_s - last
        if not self.is_learnt:
            if gap > 0:
                gaps = self._gaps
                gaps.append(gap)
                if len(gaps) >= _LEARN_GAPS:
                    gaps.sort()
                    self._freeze(gaps[len(gaps) // 2])
                else:
                    ordered = sorted(gaps)
                    self.bucket_s = ordered[len(ordered) // 2]
            return 1.0
        return gap / self.bucket_s

    def slot_of_day(self, at_s: float) -> int:
        return int((at_s % _DAY_S) / self.slot_s) % self.slots_per_day

    def weekday(self, at_s: float) -> int:
        return int(at_s // _DAY_S) % 7

    def buckets_in(self, duration_s: float) -> float:
        """How many buckets ``duration_s`` holds (at least 1)."""
        if self.bucket_s is None or self.bucket_s <= 0:
            return 1.0
        return max(1.0, duration_s / self.bucket_s)
