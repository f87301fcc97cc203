"""The counts detector: user reports per minute, mentions per five minutes.

For each bucket it predicts the expected count from a seasonal baseline learnt
online, then asks how unlikely the counts of the last ``windows`` buckets
(1, 3, 10, 30 and 60) are under a negative binomial with that mean and an
overdispersion learnt per window (the maths: docs/detection.md):

    expected  mu_t = c_t * L_t * f_tod[slot(t)] * f_dow[day(t)]

- ``L`` is the slow level (ratio of decayed sums: counts over seasonal factors,
  half-life ``baseline_halflife_s``);
- ``f_tod`` and ``f_dow`` are the time-of-day and day-of-week factors (decayed
  ratios of counts to what the level alone predicts, half-life
  ``season_halflife_s``), from priors worth a slot's usual counts;
- ``c`` is a short correction (half-life ``level_halflife_s``) so that a slow
  drift of the whole day does not look like an outage.

The baseline stays robust to past outages: a bucket whose evidence reaches
``learn_nlp`` teaches the level and the seasons nothing, and every other
bucket teaches through a winsorised count (at most ``clip_sd`` standard
deviations above the expectation), so an outage a week ago does not raise this
week's expectation in the same slot. Only after ``relearn_s`` of continuous
alarm does the baseline accept the new level (a permanent change, not an
outage).

The alarm is a state, not a pulse: it rises on the first bucket where the
score reaches ``threshold`` and one window of at least ``min_alarm_buckets``
also clears the floors (at least ``min_excess`` counts above its expectation
and ``min_ratio`` times it, or times the level just before it when that was
higher), and it stays up until the evidence has stayed below half the
threshold's for ``hold_s``. One outage is one alarm episode, however it
flickers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from signalfire.detect.detector import StepDetector
from signalfire.detect.periods import BucketClock
from signalfire.detect.tails import nb_lower_nlp, nb_upper_nlp, score_of

_PRIOR = 2.0  # pseudo-counts that pull an unlearnt factor towards 1


def _decay(halflife_s: float, bucket_s: float) -> float:
    return 0.5 ** (bucket_s / halflife_s) if halflife_s > 0 else 0.0


class CountsDetector(StepDetector):
    """Streaming detector for count series; see the module docstring."""

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        half_nlp: float = 5.0,
        windows: Sequence[int] = (1, 3, 10, 30, 60),
        min_excess: float = 10.0,
        min_ratio: float = 2.2,
        min_alarm_buckets: int = 3,
        relative_floor_buckets: int = 30,
        level_halflife_s: float = 3 * 3600.0,
        baseline_halflife_s: float = 3 * 86_400.0,
        season_halflife_s: float = 14 * 86_400.0,
        dispersion_halflife_s: float = 3 * 86_400.0,
        phi_min: float = 0.02,
        phi_max: float = 1000.0,
        clip_sd: float = 3.0,
        hold_s: float = 1800.0,
        relearn_s: float = 6 * 3600.0,
        learn_nlp: float = 4.0,
        follow_raised: bool = True,
        warmup_buckets: int = 30,
        direction: str = "up",
        min_slot_s: float = 900.0,
        bucket_s: float | None = None,
    ) -> None:
        self.threshold = threshold
        self.half_nlp = half_nlp
        self.windows = tuple(sorted({int(w) for w in windows if int(w) >= 1})) or (1,)
        self.min_excess = min_excess
        self.min_ratio = min_ratio
        self.min_alarm_buckets = min_alarm_buckets
        self.relative_floor_buckets = relative_floor_buckets
        self.phi_min = phi_min
        self.phi_max = phi_max
        self.clip_sd = clip_sd
        self.hold_s = hold_s
        self.relearn_s = relearn_s
        self.learn_nlp = learn_nlp
        self.follow_raised = follow_raised
        self.warmup_buckets = warmup_buckets
        if direction not in ("up", "both"):
            raise ValueError(f"direction must be 'up' or 'both', not {direction!r}")
        self._both = direction == "both"
        self._halflives = (level_halflife_s, baseline_halflife_s, season_halflife_s,
                           dispersion_halflife_s)
        # the nlp at which the score reaches the threshold
        self._cut_nlp = threshold * half_nlp / (1.0 - threshold) if threshold < 1.0 else math.inf
        self._bonferroni = math.log10(len(self.windows) * (2 if self._both else 1))
        self.clock = BucketClock(min_slot_s=min_slot_s, bucket_s=bucket_s)
        self._decays: tuple[float, float, float, float, float] | None = None
        # seasonal factors: decayed sums of counts and of what the level predicted
        self._tod_num: list[float] = []
        self._tod_den: list[float] = []
        self._dow_num = [0.0] * 7
        self._dow_den = [0.0] * 7
        self._level_num = 0.0
        self._level_den = 0.0
        self._buckets_per_slot = 1.0
        self._buckets_per_day = 1.0
        self._corr_num = 0.0
        self._corr_den = 0.0
        # the last buckets, as a ring, and the running window sums
        size = self.windows[-1]
        self._size = size
        self._ring_x = [0.0] * size
        self._ring_mu = [0.0] * size
        self._pos = 0
        self._filled = 0
        nw = len(self.windows)
        self._sum_x = [0.0] * nw
        self._sum_mu = [0.0] * nw
        self._phi_num = [0.0] * nw
        self._phi_den = [0.0] * nw
        self._phis = [0.0] * nw  # this bucket's overdispersion per window
        self._seen = 0
        self._alarm_since_s: float | None = None
        self._quiet_since_s: float | None = None
        self._raised_since_s: float | None = None

    # -- the baseline -----------------------------------------------------

    def _learn_decays(self) -> None:
        clock = self.clock
        bucket_s = clock.bucket_s or 60.0
        level, baseline, season, dispersion = self._halflives
        # A time-of-day slot is taught once a bucket within it, i.e. slot_s / bucket_s
        # times a day; a weekday 1/7 of the days: scale their decays to keep half-lives in time.
        self._decays = (
            _decay(level, bucket_s),
            _decay(baseline, bucket_s),
            _decay(season, bucket_s * clock.slots_per_day),
            _decay(dispersion, bucket_s),
            _decay(season, 7.0 * bucket_s),
        )
        self._tod_num = [0.0] * clock.slots_per_day
        self._tod_den = [0.0] * clock.slots_per_day
        self._buckets_per_slot = clock.slot_s / bucket_s
        self._buckets_per_day = 0.5 * 86_400.0 / bucket_s

    def expected(self, at_s: float) -> float:
        """What the baseline expects in the bucket at ``at_s`` (before seeing it)."""
        return self._predict(at_s)[0]

    def _predict(self, at_s: float) -> tuple[float, float, float, int, int]:
        if self._level_den <= 0.0:
            return -1.0, 1.0, 1.0, -1, -1
        f_tod = f_dow = 1.0
        slot = day = -1
        level = self._level_num / self._level_den
        if self._decays is not None:
            clock = self.clock
            slot = clock.slot_of_day(at_s)
            day = clock.weekday(at_s)
            # Priors worth a slot's (a day's) usual counts, so that one odd bucket in
            # a new slot (weekday) does not set its factor. An unlearnt slot leans on
            # the slot before it rather than on 1: the day's shape is continuous, and
            # a jump back to the flat level would look like an outage.
            prior_tod = _PRIOR + level * self._buckets_per_slot
            prior_dow = _PRIOR + level * self._buckets_per_day
            prev_den = self._tod_den[slot - 1]
            f_prev = self._tod_num[slot - 1] / prev_den if prev_den > 0.0 else 1.0
            f_tod = (self._tod_num[slot] + prior_tod * f_prev) / (self._tod_den[slot] + prior_tod)
            f_dow = (self._dow_num[day] + prior_dow) / (self._dow_den[day] + prior_dow)
        base = level * f_tod * f_dow
        corr = (self._corr_num + _PRIOR) / (self._corr_den + _PRIOR)
        mu = corr * base
        return (mu if mu > 0.05 else 0.05), f_tod, f_dow, slot, day

    def _learn(self, x: float, f_tod: float, f_dow: float, slot: int, day: int) -> None:
        decays = self._decays
        if decays is None:
            d_level = d_base = d_season = d_day = 1.0
        else:
            d_level, d_base, d_season, _, d_day = decays
        level = self._level_num / self._level_den if self._level_den > 0.0 else x
        base = level * f_tod * f_dow
        self._level_num = self._level_num * d_base + x
        self._level_den = self._level_den * d_base + f_tod * f_dow
        self._corr_num = self._corr_num * d_level + x
        self._corr_den = self._corr_den * d_level + base
        if slot >= 0:
            self._tod_num[slot] = self._tod_num[slot] * d_season + x
            self._tod_den[slot] = self._tod_den[slot] * d_season + level * f_dow
            self._dow_num[day] = self._dow_num[day] * d_day + x
            self._dow_den[day] = self._dow_den[day] * d_day + level * f_tod

    # -- the verdicts -----------------------------------------------------

    def _step(self, at_s: float, value: float) -> tuple[float, bool]:
        best, alarm = self.evidence(at_s, value)
        return score_of(best, self.half_nlp), alarm

    def evidence(self, at_s: float, value: float) -> tuple[float, bool]:
        """Step the detector: (nlp after correction, whether it is alarming)."""
        x = float(value)
        if x != x or x < 0.0:  # a missing or impossible count teaches nothing
            return 0.0, False
        clock = self.clock
        steps = clock.observe(at_s)
        if self._decays is None and clock.is_learnt:
            self._learn_decays()
        if steps > self._size:
            self._forget_windows()
        mu, f_tod, f_dow, slot, day = self._predict(at_s)
        if mu < 0.0:  # the very first bucket: nothing to compare with yet
            self._learn(x, f_tod, f_dow, slot, day)
            self._push(x, x)
            return 0.0, False
        self._push(x, mu)
        self._seen += 1

        windows = self.windows
        sum_x = self._sum_x
        sum_mu = self._sum_mu
        phi_num = self._phi_num
        phi_den = self._phi_den
        phi_min = self.phi_min
        phi_max = self.phi_max
        filled = self._filled
        best = 0.0
        floor_met = False
        bonferroni = self._bonferroni
        both_sides = self._both
        cut = self._cut_nlp
        min_alarm = self.min_alarm_buckets if self.min_alarm_buckets <= filled else filled
        last = len(windows) - 1
        while last > 0 and windows[last] > filled:
            last -= 1
        long_w = windows[last]
        long_x = sum_x[last]
        long_mu = sum_mu[last]
        phis = self._phis
        for i, w in enumerate(windows):
            if w > filled:
                break
            total = sum_x[i]
            expect = sum_mu[i]
            phi = phi_num[i] / phi_den[i] if phi_den[i] > 0.0 else phi_min
            phi = phi_min if phi < phi_min else (phi_max if phi > phi_max else phi)
            phis[i] = phi
            nlp = nb_upper_nlp(total, expect, phi)
            if w >= min_alarm and nlp - bonferroni >= cut and total - expect >= self.min_excess:
                # the ratio floor is against the baseline, or against the level of the
                # buckets just before this window when that was already higher (a busy
                # day at 2x is not an outage because one minute of it is 3x)
                before = long_mu - expect
                ratio_to = expect
                if before > 0.0 and w < long_w and w <= self.relative_floor_buckets:
                    level_before = (long_x - total) / before
                    if level_before > 1.0:
                        ratio_to = expect * level_before
                if total >= self.min_ratio * ratio_to:
                    floor_met = True  # this window alone carries the alarm
            if both_sides:
                low = nb_lower_nlp(total, expect, phi)
                if low > nlp:
                    nlp = low
            if nlp > best:
                best = nlp
        best -= bonferroni
        if best < 0.0:
            best = 0.0

        since = self._alarm_since_s
        if since is not None:
            if best >= 0.5 * cut:
                self._quiet_since_s = None
            elif self._quiet_since_s is None:
                self._quiet_since_s = at_s
            elif at_s - self._quiet_since_s >= self.hold_s:
                self._alarm_since_s = since = None
        elif floor_met and best >= cut and self._seen > self.warmup_buckets:
            self._alarm_since_s = since = at_s
            self._quiet_since_s = None

        # learning: not from raised buckets, unless raised has become the new normal
        if best >= self.learn_nlp:
            if self._raised_since_s is None:
                self._raised_since_s = at_s
            teach = at_s - self._raised_since_s >= self.relearn_s
        else:
            self._raised_since_s = None
            teach = True
        if teach or (since is None and self.follow_raised):
            phi0 = phis[0] if filled >= windows[0] else self._phi(0)
            var1 = mu + phi0 * mu * mu
            cap = mu + self.clip_sd * math.sqrt(var1)
            if not teach:
                # raised but not alarming: only the short correction follows, so a
                # busy day is learnt within hours but does not enter the seasonal slots
                d_level = self._decays[0] if self._decays is not None else 1.0
                level = self._level_num / self._level_den
                self._corr_num = self._corr_num * d_level + (x if x < cap else cap)
                self._corr_den = self._corr_den * d_level + level * f_tod * f_dow
        if teach:
            d_disp = self._decays[3] if self._decays is not None else 1.0
            self._learn(x if x < cap else cap, f_tod, f_dow, slot, day)
            for i, w in enumerate(windows):
                if w > filled:
                    break
                expect = sum_mu[i]
                dev = sum_x[i] - expect
                var = expect + phis[i] * expect * expect
                lim = self.clip_sd * math.sqrt(var)
                if dev > lim:
                    dev = lim
                phi_num[i] = phi_num[i] * d_disp + (dev * dev - (expect + dev))
                phi_den[i] = phi_den[i] * d_disp + expect * expect
        return best, since is not None

    def _phi(self, i: int) -> float:
        den = self._phi_den[i]
        phi = self._phi_num[i] / den if den > 0.0 else self.phi_min
        return self.phi_min if phi < self.phi_min else (self.phi_max if phi > self.phi_max else phi)

    def _push(self, x: float, mu: float) -> None:
        size = self._size
        pos = self._pos
        ring_x = self._ring_x
        ring_mu = self._ring_mu
        filled = self._filled + 1
        self._filled = filled
        sum_x = self._sum_x
        sum_mu = self._sum_mu
        for i, w in enumerate(self.windows):
            sum_x[i] += x
            sum_mu[i] += mu
            if filled > w:
                old = (pos - w) % size
                sum_x[i] -= ring_x[old]
                sum_mu[i] -= ring_mu[old]
        ring_x[pos] = x
        ring_mu[pos] = mu
        self._pos = (pos + 1) % size

    def _forget_windows(self) -> None:
        """A long gap in the data: buckets before it no longer belong to the windows."""
        self._filled = 0
        self._pos = 0
        n = len(self.windows)
        self._sum_x = [0.0] * n
        self._sum_mu = [0.0] * n
