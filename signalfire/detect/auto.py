"""The default detector for series of unknown kind (the backtest, NAB, imports).

It looks at the first ``decide_after`` values: if they are all whole numbers,
not negative, their median is at most ``max_count_median`` and their
timestamps sit on a grid of buckets, the series is a count and the counts
detector (both tails) gives the evidence; otherwise the values detector does
(a byte counter is integral but not Poisson; a travel time in whole seconds,
taken per trip, is not a count either).

The evidence of those detectors (nlp, minus log10 of a tail probability) is
then judged against this series' own history, as an *anomaly likelihood*: the
mean of the evidence over the last ``short_buckets`` buckets (each capped at
``cap_nlp``) is compared with the decayed mean and spread of the evidence over
the series' past (half-life ``long_buckets``), and the normal tail of that
z-score, again as an nlp, is the likelihood. A series that is always a little
surprising (bursty tweets) thus needs a bigger surprise than a calm one.

Its score is shaped for alarms rather than for charts: one anomaly should be
one alarm, as early as possible. The score is the likelihood's only at the
bucket where it first rises to ``report_nlp``; for the next
``suppress_buckets`` buckets the score is 0, and the likelihood must fall back
below ``report_nlp`` before a new onset counts. A threshold on this score (the
engine's, or the one a backtest sweeps) sees each anomaly once. Nothing is
reported during the first ``warmup_buckets`` buckets. An onset's score is
divided by ``1 + busy_penalty * n``, n being the onsets in the last
``busy_horizon_buckets`` buckets: in a bursty series, the isolated surprise
ranks above the tenth burst of the month. With ``record_power``, an onset
whose raw evidence falls short of the biggest seen before in the series is
scaled down by (evidence / biggest) ** record_power.

Counts are also judged by how rare their values are in the series' own history
(``Novelty``: the empirical tail probability of the most extreme count of the
last ``short_buckets``, on a scale where 1 is a count beyond all seen before):
an onset needs a novelty of at least ``counts_novelty_gate``, and its score is
scaled by the novelty ** ``counts_novelty_power``. Tweets and reports have a
daily rhythm and bursts every other day; a baseline that adapts calls each of
them surprising, while the history of values knows they are common.

The alarm is the counts detector's own for counts (an episode per outage,
with its floors on absolute counts); for measurements, every onset alarms.

Counts use their own ``counts_*`` values of the long half-life, the report
level, the suppression, the penalty and the record power: tweets and reports
are burstier than measurements. Measurements are not judged by novelty: their
anomalies are often usual values at unusual times (a busy-hour load at night).
"""

from __future__ import annotations

import math
from collections import deque
from itertools import pairwise

from signalfire.detect.counts import CountsDetector
from signalfire.detect.detector import StepDetector
from signalfire.detect.novelty import Novelty
from signalfire.detect.tails import normal_upper_nlp, score_of
from signalfire.detect.values import ValuesDetector


def _on_a_grid(times_s: list[float]) -> bool:
    """Whether every gap is a whole number of the smallest: counts come in buckets,
    measurements taken when something happens (a trip's travel time) do not."""
    gaps = [b - a for a, b in pairwise(times_s) if b > a]
    if not gaps:
        return True
    step = min(gaps)
    return all(abs(g / step - round(g / step)) < 1e-6 for g in gaps)


class AutoDetector(StepDetector):
    """Counts or values by the look of the data, with one score per onset."""

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        half_nlp: float = 2.0,
        report_nlp: float = 2.0,
        counts_report_nlp: float = 3.0,
        suppress_buckets: int = 200,
        counts_suppress_buckets: int = 200,
        warmup_buckets: int = 150,
        short_buckets: int = 5,
        long_buckets: float = 2000.0,
        counts_long_buckets: float = 10_000.0,
        busy_penalty: float = 0.0,
        counts_busy_penalty: float = 0.0,
        busy_horizon_buckets: int = 10_000,
        record_power: float = 0.0,
        counts_record_power: float = 0.5,
        cap_nlp: float = 10.0,
        counts_novelty_power: float = 1.0,
        counts_novelty_gate: float = 0.7,
        novelty_history: int = 50_000,
        decide_after: int = 20,
        max_count_median: float = 1000.0,
        counts_options: dict[str, object] | None = None,
        values_options: dict[str, object] | None = None,
    ) -> None:
        self.threshold = threshold
        self.half_nlp = half_nlp
        self.report_nlp = report_nlp
        self.suppress_buckets = suppress_buckets
        self.decide_after = decide_after
        self.max_count_median = max_count_median
        self.warmup_buckets = warmup_buckets
        self.cap_nlp = cap_nlp
        self._short = [0.0] * max(1, short_buckets)
        self._short_sum = 0.0
        self._decay = 0.5 ** (1.0 / long_buckets)
        self._counts_decay = 0.5 ** (1.0 / counts_long_buckets)
        self._counts_report_nlp = counts_report_nlp
        self._counts_suppress_buckets = counts_suppress_buckets
        self.busy_penalty = busy_penalty
        self._counts_busy_penalty = counts_busy_penalty
        self.busy_horizon_buckets = busy_horizon_buckets
        self.record_power = record_power
        self._counts_record_power = counts_record_power
        self.novelty_power = 0.0
        self._counts_novelty_power = counts_novelty_power
        self.novelty_gate = 0.0
        self._counts_novelty_gate = counts_novelty_gate
        self._novelty = Novelty(novelty_history)
        self._novel = [0.0] * max(1, short_buckets)
        self._past_peak = 0.0
        self._event_peak = 0.0
        self._onsets: deque[int] = deque()
        self._w0 = self._w1 = self._w2 = 0.0
        self._first: list[float] = []
        self._first_times: list[float] = []
        self._n = 0
        # Here the detectors only give evidence, judged again below against the
        # series' history, so their baselines learn from every bucket.
        counts_kw: dict[str, object] = {"direction": "both", "learn_nlp": math.inf,
                                        "windows": (1, 3, 10), **(counts_options or {})}
        # a time-of-day profile only for series with a clear daily rhythm (it must
        # explain 90 % of the variance): elsewhere a profile learnt from a few days
        # mostly adds noise
        values_kw: dict[str, object] = {"learn_nlp": math.inf, "local_halflife_buckets": 12.0,
                                        "seasonal": True, "season_max_error": 0.1,
                                        **(values_options or {})}
        self._counts = CountsDetector(**counts_kw)  # type: ignore[arg-type]
        self._values = ValuesDetector(**values_kw)  # type: ignore[arg-type]
        self._kind: str | None = None
        self._integral = True
        self._seen = 0
        self._quiet_left = 0
        self._armed = True

    @property
    def kind(self) -> str | None:
        """"counts" or "values" once decided."""
        return self._kind

    def _step(self, at_s: float, value: float) -> tuple[float, bool]:
        kind = self._kind
        if kind is None:
            self._seen += 1
            x = float(value)
            if self._integral and not (x >= 0.0 and x == int(x)):
                self._integral = False
            self._first.append(x)
            self._first_times.append(at_s)
            nlp_c, alarm_c = self._counts.evidence(at_s, value)
            nlp_v, _ = self._values.evidence(at_s, value)
            if self._seen >= self.decide_after:
                first = sorted(self._first)
                if self._integral and (first[len(first) // 2] > self.max_count_median
                                       or not _on_a_grid(self._first_times)):
                    self._integral = False
                self._kind = kind = "counts" if self._integral else "values"
                if kind == "counts":
                    # bursty counts need a longer memory and a bigger surprise
                    self._decay = self._counts_decay
                    self.report_nlp = self._counts_report_nlp
                    self.busy_penalty = self._counts_busy_penalty
                    self.record_power = self._counts_record_power
                    self.suppress_buckets = self._counts_suppress_buckets
                    self.novelty_power = self._counts_novelty_power
                    self.novelty_gate = self._counts_novelty_gate
            nlp = nlp_c if self._integral else nlp_v
            inner_alarm = alarm_c if kind == "counts" else False
        elif kind == "counts":
            nlp, inner_alarm = self._counts.evidence(at_s, value)
        else:
            nlp, _ = self._values.evidence(at_s, value)
            inner_alarm = False
        # only counts are judged by how rare their values are: a measurement's
        # anomaly is often a usual value at an unusual time
        novelty = self._novelty.observe(value) if kind != "values" else 0.0
        score, onset = self._shape(nlp, novelty)
        # Counts alarm as the counts detector does (an episode per outage, with its
        # floors on absolute counts); measurements alarm at each onset.
        return score, inner_alarm if kind == "counts" else onset

    def _shape(self, nlp: float, novelty: float) -> tuple[float, bool]:
        """The score of one bucket from its evidence: non-zero only at an onset."""
        raw = nlp
        nlp = self._likelihood(raw)
        # the novelty of the last short_buckets values; an onset takes the highest
        ring = self._novel
        ring[self._n % len(ring)] = novelty
        self._n += 1
        if self._n <= self.warmup_buckets:
            return 0.0, False
        if self._quiet_left > 0:
            self._quiet_left -= 1
            if raw > self._event_peak:
                self._event_peak = raw
            if self._quiet_left == 0 and self._event_peak > self._past_peak:
                self._past_peak = self._event_peak
            if nlp < self.report_nlp:
                self._armed = True
            return 0.0, False
        if nlp < self.report_nlp or not self._armed:
            if nlp < self.report_nlp:
                self._armed = True
            if raw > self._past_peak:
                self._past_peak = raw
            return 0.0, False
        novel = max(ring)
        if novel < self.novelty_gate:
            # counts no higher (or lower) than the series has often had: a burst
            # like those of every other day is no onset, and silences nothing
            return 0.0, False
        self._armed = False
        self._quiet_left = self.suppress_buckets
        self._event_peak = raw
        onsets = self._onsets
        while onsets and onsets[0] < self._n - self.busy_horizon_buckets:
            onsets.popleft()
        # A series that keeps having onsets is bursty by nature: each recent one
        # lowers the score of the next, so isolated surprises rank first; and an
        # onset whose evidence falls short of the biggest seen before ranks lower.
        record = 1.0
        if self.record_power > 0.0 and self._past_peak > 0.0 and raw < self._past_peak:
            record = (raw / self._past_peak) ** self.record_power
        if self.novelty_power > 0.0:
            record *= novel ** self.novelty_power
        score = score_of(nlp * record / (1.0 + self.busy_penalty * len(onsets)), self.half_nlp)
        onsets.append(self._n)
        # the penalty ranks onsets against each other; whether this one alarms is
        # the evidence's own business
        return score, score_of(nlp, self.half_nlp) >= self.threshold

    def _likelihood(self, nlp: float) -> float:
        """The evidence judged against this series' own history of evidence."""
        a = nlp if nlp < self.cap_nlp else self.cap_nlp
        ring = self._short
        pos = self._n % len(ring)
        self._short_sum += a - ring[pos]
        ring[pos] = a
        mean_short = self._short_sum / len(ring)
        w0 = self._w0
        out = 0.0
        if w0 > 50.0:
            mean = self._w1 / w0
            var = self._w2 / w0 - mean * mean
            spread = math.sqrt(var) if var > 1e-12 else 1e-6
            z = (mean_short - mean) / spread
            if z > 0.0:
                out = normal_upper_nlp(z)
        d = self._decay
        self._w0 = w0 * d + 1.0
        self._w1 = self._w1 * d + a
        self._w2 = self._w2 * d + a * a
        return out
