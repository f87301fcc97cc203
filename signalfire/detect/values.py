"""The values detector: latency, CPU, queue depth — anything measured, not counted.

It keeps a robust running mean ``m`` and scale ``s`` of the series (decayed
sums; every value teaches them winsorised to ``m ± clip_sd * s``, and a value
that scores above the threshold teaches nothing), and standardises each new
value: ``r_t = (x_t - m_{t-1}) / s_{t-1}``. Over each window of the last ``w``
buckets it then tests

- a level shift: the mean of ``r`` over the window against its own running
  spread (windows overlap, so their spread is learnt rather than assumed to be
  ``1 / sqrt(w)``) — a normal tail, one or both sides per ``direction``;
- a variance change: the mean of ``r^2`` over the window against its running
  mean, as a chi-square with ``w`` degrees of freedom.

With ``local_halflife_buckets``, a third test compares each value with a
short running mean (that half-life, in buckets) and its own spread: a jump
against the last few buckets, which a slow baseline would call ordinary when
the series has just moved.

The largest of those tail statistics (minus log10 of the number of tests, a
Bonferroni correction) is the evidence; the score maps it to [0, 1] as for
counts, so one threshold serves both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from signalfire.detect.detector import StepDetector
from signalfire.detect.periods import BucketClock
from signalfire.detect.tails import chi2_upper_nlp, normal_upper_nlp, score_of

_DIRECTIONS = {"up": (True, False), "down": (False, True), "both": (True, True)}


class ValuesDetector(StepDetector):
    """Streaming detector for value series; see the module docstring."""

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        half_nlp: float = 7.0,
        windows: Sequence[int] = (1, 5, 20),
        direction: str = "both",
        level_halflife_s: float = 86_400.0,
        clip_sd: float = 4.0,
        min_change: float = 0.0,
        suppress_s: float = 1800.0,
        relearn_s: float = 6 * 3600.0,
        learn_nlp: float = 8.0,
        seasonal: bool = False,
        season_halflife_s: float = 7 * 86_400.0,
        season_max_error: float = 0.8,
        min_slot_s: float = 900.0,
        local_halflife_buckets: float = 0.0,
        warmup_buckets: int = 30,
        bucket_s: float | None = None,
    ) -> None:
        if direction not in _DIRECTIONS:
            raise ValueError(f"direction must be one of {sorted(_DIRECTIONS)}, not {direction!r}")
        self.threshold = threshold
        self.half_nlp = half_nlp
        self.windows = tuple(sorted({int(w) for w in windows if int(w) >= 1})) or (1,)
        self.direction = direction
        self._up, self._down = _DIRECTIONS[direction]
        self.clip_sd = clip_sd
        self.min_change = min_change
        self.suppress_s = suppress_s
        self.relearn_s = relearn_s
        self.learn_nlp = learn_nlp
        self.seasonal = seasonal
        self.local_halflife_buckets = local_halflife_buckets
        self._local_decay = 0.5 ** (1.0 / local_halflife_buckets) if local_halflife_buckets > 0 else 0.0
        self._local_m = self._local_w = self._local_sq = self._local_sw = 0.0
        self.season_halflife_s = season_halflife_s
        self.season_max_error = season_max_error
        self._offsets: list[float] | None = None
        self._slot_n: list[int] = []
        self._season_rate = 0.0
        self._err_f = self._err_s = self._err_w = 0.0
        self.warmup_buckets = warmup_buckets
        self.level_halflife_s = level_halflife_s
        self.clock = BucketClock(min_slot_s=min_slot_s, bucket_s=bucket_s)
        self._decay: float | None = None
        tests = len(self.windows) * (2 if direction == "both" else 1) + len(self.windows)
        self._bonferroni = math.log10(tests)
        self._w0 = self._w1 = self._w2 = 0.0  # decayed weight, sum, sum of squares
        size = self.windows[-1]
        self._size = size
        self._ring_r = [0.0] * size
        self._ring_r2 = [0.0] * size
        self._pos = 0
        self._filled = 0
        nw = len(self.windows)
        self._sum_r = [0.0] * nw
        self._sum_r2 = [0.0] * nw
        self._var_mean = [0.0] * nw  # decayed sums of (window mean of r)^2 ...
        self._var_w = [0.0] * nw  # ... and their weights
        self._sq_mean = [0.0] * nw  # decayed sums of window mean of r^2
        self._seen = 0
        self._last_alarm_s = -math.inf
        self._anomalous_since_s: float | None = None

    def evidence(self, at_s: float, value: float) -> tuple[float, float]:
        """Step the detector; (best nlp after correction, signed change in scale units)."""
        x = float(value)
        if x != x:
            return 0.0, 0.0
        clock = self.clock
        steps = clock.observe(at_s)
        if self._decay is None and clock.is_learnt:
            bucket_s = clock.bucket_s or 60.0
            self._decay = 0.5 ** (bucket_s / self.level_halflife_s)
            if self.seasonal:
                self._offsets = [0.0] * clock.slots_per_day
                self._slot_n = [0] * clock.slots_per_day
                # a slot is taught slot_s / bucket_s times a day
                updates = self.season_halflife_s / 86_400.0 * clock.slot_s / bucket_s
                self._season_rate = 1.0 - 0.5 ** (1.0 / max(updates, 1.0))
        if steps > self._size:
            self._forget_windows()
        w0 = self._w0
        if w0 <= 0.0:
            self._teach(x)
            return 0.0, 0.0
        mean = self._w1 / w0
        var = self._w2 / w0 - mean * mean
        spread = math.sqrt(var) if var > 0.0 else 0.0
        # a floor on the scale: a flat series is not infinitely surprised by a tiny wiggle
        floor = 1e-3 * abs(mean) + 1e-9
        if spread < floor:
            spread = floor
        flat_spread = spread
        level = mean
        slot = -1
        offsets = self._offsets
        if offsets is not None:
            slot = clock.slot_of_day(at_s)
            # the time-of-day profile serves only once it predicts better than the level
            if self._slot_n[slot] >= 2 and self._err_s < self.season_max_error * self._err_f:
                level = mean + offsets[slot]
                seasonal_spread = math.sqrt(self._err_s / self._err_w)
                spread = seasonal_spread if seasonal_spread > floor else floor
        r = (x - level) / spread
        self._push(r)
        self._seen += 1
        best = 0.0
        change = 0.0
        filled = self._filled
        up = self._up
        down = self._down
        for i, w in enumerate(self.windows):
            if w > filled:
                break
            m_r = self._sum_r[i] / w
            vw = self._var_w[i]
            v_mean = self._var_mean[i] / vw if vw > 0.0 else 1.0 / w
            if v_mean < 1.0 / w:
                v_mean = 1.0 / w
            z = m_r / math.sqrt(v_mean)
            if up and z > 0.0:
                nlp = normal_upper_nlp(z)
                if nlp > best:
                    best = nlp
                    change = m_r
            if down and z < 0.0:
                nlp = normal_upper_nlp(-z)
                if nlp > best:
                    best = nlp
                    change = m_r
            sq = self._sq_mean[i] / vw if vw > 0.0 else 1.0
            if sq < 1.0:
                sq = 1.0
            nlp = chi2_upper_nlp(self._sum_r2[i] / sq, w)
            # a one-sided detector only hears a wider spread on its own side
            if nlp > best and ((up and m_r >= 0.0) or (down and m_r <= 0.0)):
                best = nlp
                change = m_r
        local = self.local_halflife_buckets
        if local > 0.0:
            # a jump against the last few buckets, with its own spread
            lw = self._local_w
            if lw > 0.0 and self._local_sw > 0.0:
                spread_l = math.sqrt(self._local_sq / self._local_sw)
                if spread_l < floor:
                    spread_l = floor
                z = (x - self._local_m / lw) / spread_l
                if (up and z > 0.0) or (down and z < 0.0):
                    nlp = normal_upper_nlp(z if z > 0.0 else -z)
                    if nlp > best:
                        best = nlp
                        change = z
                dev = x - self._local_m / lw
                lim_l = self.clip_sd * spread_l
                dev = lim_l if dev > lim_l else (-lim_l if dev < -lim_l else dev)
                d_long = self._decay if self._decay is not None else 1.0
                self._local_sq = self._local_sq * d_long + dev * dev
                self._local_sw = self._local_sw * d_long + 1.0
                x_l = self._local_m / lw + dev
            else:
                x_l = x
                if lw > 0.0:
                    dev = x - self._local_m / lw
                    self._local_sq += dev * dev
                    self._local_sw += 1.0
            d_l = self._local_decay
            self._local_m = self._local_m * d_l + x_l
            self._local_w = lw * d_l + 1.0
        best -= self._bonferroni
        if best < 0.0:
            best = 0.0
        # learning
        anomalous = best >= self.learn_nlp
        if anomalous:
            if self._anomalous_since_s is None:
                self._anomalous_since_s = at_s
        else:
            self._anomalous_since_s = None
        since = self._anomalous_since_s
        if since is None or at_s - since >= self.relearn_s or self._seen <= self.warmup_buckets:
            lim = self.clip_sd * flat_spread
            self._teach(mean + lim if x > mean + lim else (mean - lim if x < mean - lim else x))
            d = self._decay if self._decay is not None else 1.0
            if offsets is not None:
                self._learn_season(x - mean, slot, lim, self.clip_sd * spread, d)
            for i, w in enumerate(self.windows):
                if w > filled:
                    break
                m_r = self._sum_r[i] / w
                m_r2 = self._sum_r2[i] / w
                cap = self.clip_sd * self.clip_sd
                self._var_mean[i] = self._var_mean[i] * d + (m_r * m_r if m_r * m_r < cap else cap)
                self._sq_mean[i] = self._sq_mean[i] * d + (m_r2 if m_r2 < cap else cap)
                self._var_w[i] = self._var_w[i] * d + 1.0
        return best, change

    def _step(self, at_s: float, value: float) -> tuple[float, bool]:
        best, change = self.evidence(at_s, value)
        score = score_of(best, self.half_nlp)
        alarm = False
        if (score >= self.threshold and abs(change) >= self.min_change
                and self._seen > self.warmup_buckets and at_s - self._last_alarm_s >= self.suppress_s):
            alarm = True
            self._last_alarm_s = at_s
        return score, alarm

    def _learn_season(self, dev: float, slot: int, lim: float, lim_s: float, d: float) -> None:
        """Teach the time-of-day offset of ``slot`` and the errors with and without it
        (each residual winsorised at ``clip_sd`` of its own spread)."""
        offsets = self._offsets
        assert offsets is not None
        res_s = dev - offsets[slot]
        res_s = lim_s if res_s > lim_s else (-lim_s if res_s < -lim_s else res_s)
        dev = lim if dev > lim else (-lim if dev < -lim else dev)
        self._err_f = self._err_f * d + dev * dev
        self._err_s = self._err_s * d + res_s * res_s
        self._err_w = self._err_w * d + 1.0
        n = self._slot_n[slot] + 1
        self._slot_n[slot] = n
        rate = 1.0 / n if 1.0 / n > self._season_rate else self._season_rate
        offsets[slot] += rate * res_s

    def _teach(self, x: float) -> None:
        d = self._decay if self._decay is not None else 1.0
        self._w0 = self._w0 * d + 1.0
        self._w1 = self._w1 * d + x
        self._w2 = self._w2 * d + x * x

    def _push(self, r: float) -> None:
        size = self._size
        pos = self._pos
        r2 = r * r
        filled = self._filled + 1
        self._filled = filled
        ring_r = self._ring_r
        ring_r2 = self._ring_r2
        sum_r = self._sum_r
        sum_r2 = self._sum_r2
        for i, w in enumerate(self.windows):
            sum_r[i] += r
            sum_r2[i] += r2
            if filled > w:
                old = (pos - w) % size
                sum_r[i] -= ring_r[old]
                sum_r2[i] -= ring_r2[old]
        ring_r[pos] = r
        ring_r2[pos] = r2
        self._pos = (pos + 1) % size

    def _forget_windows(self) -> None:
        self._filled = 0
        self._pos = 0
        n = len(self.windows)
        self._sum_r = [0.0] * n
        self._sum_r2 = [0.0] * n
