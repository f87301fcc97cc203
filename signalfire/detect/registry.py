"""Detectors by name, for the replay command, the benchmarks and the engine."""

from __future__ import annotations

from collections.abc import Callable

from signalfire.detect.auto import AutoDetector
from signalfire.detect.counts import CountsDetector
from signalfire.detect.detector import Detector, Verdict
from signalfire.detect.rules_baseline import RollingMedianRule
from signalfire.detect.values import ValuesDetector

_QUIET = Verdict(0.0, False)


class NullDetector:
    """Never alarms. NAB's normalisation scores it 0; useful as a floor."""

    def update(self, at_s: float, value: float) -> Verdict:
        return _QUIET


DETECTORS: dict[str, Callable[[], Detector]] = {
    "null": NullDetector,
    "rolling-median-4x": RollingMedianRule,
    "counts": CountsDetector,
    "values": ValuesDetector,
    "auto": AutoDetector,
}
DEFAULT_DETECTOR = "auto"


def make_detector(name: str = DEFAULT_DETECTOR) -> Detector:
    try:
        factory = DETECTORS[name]
    except KeyError:
        known = ", ".join(sorted(DETECTORS))
        raise KeyError(f"unknown detector {name!r} (known: {known})") from None
    return factory()
