"""The contract every detector keeps.

A detector sees one bucket at a time, in time order, and answers at once with a
score in [0, 1] and an alarm yes/no. It never looks ahead: the verdict for a
bucket depends only on that bucket and the ones before it, so replaying a
prefix of a series gives exactly the first verdicts of the whole replay.

A detector may also offer ``update_many`` for replays. It must give the very
same verdicts as calling ``update`` point by point (a test checks each one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Verdict:
    score: float  # 0 = nothing unusual, 1 = as sure as the detector gets
    alarm: bool


class Detector(Protocol):
    def update(self, at_s: float, value: float) -> Verdict: ...


class StepDetector:
    """Base of detectors written as one ``_step`` per bucket: ``update`` and the
    replay's ``update_many`` both run that same step, so they cannot disagree."""

    def _step(self, at_s: float, value: float) -> tuple[float, bool]:
        raise NotImplementedError

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


def score_series(detector: Detector, times_s: Sequence[float],
                 values: Sequence[float]) -> tuple[list[float], list[bool]]:
    """Feed a whole series through ``detector``; the scores and alarms in order."""
    many = getattr(detector, "update_many", None)
    if many is not None:
        return many(times_s, values)
    scores: list[float] = []
    alarms: list[bool] = []
    update = detector.update
    for at_s, value in zip(times_s, values, strict=True):
        verdict = update(at_s, value)
        scores.append(verdict.score)
        alarms.append(verdict.alarm)
    return scores, alarms
