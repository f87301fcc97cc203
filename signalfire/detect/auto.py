"""The default detector for series of unknown kind (the backtest, NAB, imports).

It looks at the first ``decide_after`` values: if they are all whole numbers
and not negative, the series is a count and the counts detector (both tails)
judges it; otherwise the values detector does.

Its score is shaped for alarms rather than for charts: one anomaly should be
one alarm, as early as possible. So the score is the evidence only at the
bucket where the evidence first rises above ``report_nlp``; for the next
``suppress_buckets`` buckets the score is held at 0, and the evidence must
fall back below ``report_nlp`` before a new onset counts. A threshold on
this score (the engine's, or the one a backtest sweeps) then sees each
anomaly once.
"""

from __future__ import annotations

from collections.abc import Sequence

from signalfire.detect.counts import CountsDetector
from signalfire.detect.detector import Verdict
from signalfire.detect.tails import score_of
from signalfire.detect.values import ValuesDetector


class AutoDetector:
    """Counts or values by the look of the data, with one score per onset."""

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        half_nlp: float = 7.0,
        report_nlp: float = 2.0,
        suppress_buckets: int = 100,
        decide_after: int = 20,
        counts_options: dict[str, object] | None = None,
        values_options: dict[str, object] | None = None,
    ) -> None:
        self.threshold = threshold
        self.half_nlp = half_nlp
        self.report_nlp = report_nlp
        self.suppress_buckets = suppress_buckets
        self.decide_after = decide_after
        self._counts = CountsDetector(direction="both", **(counts_options or {}))  # type: ignore[arg-type]
        self._values = ValuesDetector(**(values_options or {}))  # type: ignore[arg-type]
        self._kind: str | None = None
        self._integral = True
        self._seen = 0
        self._quiet_left = 0
        self._armed = True

    @property
    def kind(self) -> str | None:
        """"counts" or "values" once decided."""
        return self._kind

    def update(self, at_s: float, value: float) -> Verdict:
        score, alarm = self._step(at_s, value)
        return Verdict(score, alarm)

    def update_many(self, times_s: Sequence[float], values: Sequence[float]
                    ) -> tuple[list[float], list[bool]]:
        step = self._step
        scores: list[float] = []
        alarms: list[bool] = []
        for at_s, value in zip(times_s, values, strict=True):
            score, alarm = step(at_s, value)
            scores.append(score)
            alarms.append(alarm)
        return scores, alarms

    def _step(self, at_s: float, value: float) -> tuple[float, bool]:
        kind = self._kind
        if kind is None:
            self._seen += 1
            x = float(value)
            if self._integral and not (x >= 0.0 and x == int(x)):
                self._integral = False
            nlp_c, _ = self._counts.evidence(at_s, value)
            nlp_v, _ = self._values.evidence(at_s, value)
            if self._seen >= self.decide_after:
                self._kind = kind = "counts" if self._integral else "values"
            nlp = nlp_c if self._integral else nlp_v
        elif kind == "counts":
            nlp, _ = self._counts.evidence(at_s, value)
        else:
            nlp, _ = self._values.evidence(at_s, value)
        if self._quiet_left > 0:
            self._quiet_left -= 1
            if nlp < self.report_nlp:
                self._armed = True
            return 0.0, False
        if nlp < self.report_nlp:
            self._armed = True
            return score_of(nlp, self.half_nlp), False
        if not self._armed:
            return 0.0, False
        self._armed = False
        self._quiet_left = self.suppress_buckets
        score = score_of(nlp, self.half_nlp)
        return score, score >= self.threshold
