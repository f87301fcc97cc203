"""What goes wrong with the simulated service, when, for whom and how badly, and
the harmless surprises (a benign bump, a busy day) that must not be taken for
outages.

A fault is data: a kind, a window in minutes since the start of the simulation,
a scope (probe regions and components; empty means all) and a magnitude. For an
outage the magnitude is how many times more reports than usual come from the
users it hits once they have all noticed; for a benign bump or a busy day it is
how many times more people use the app.

Pure: the schedule is drawn from a NumPy ``Generator`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from signalfire.sim.world import APP_CATEGORY, COMPONENTS, REGIONS

OUTAGE_KINDS: tuple[str, ...] = (
    "global_outage",  # the whole app, everywhere
    "regional_outage",  # the whole app, for the users behind one probe region
    "component_down",  # one component, everywhere
    "degradation",  # one component gets slower and slower until it is fixed
    "flapping",  # down for a few minutes, up for a few, again and again
    "partial_recovery",  # down, then back for most users but not all, then fixed
)
BENIGN_KINDS: tuple[str, ...] = ("benign_bump", "busy_day")
KINDS = OUTAGE_KINDS + BENIGN_KINDS

# How often each outage kind is drawn, and its range of durations (minutes) and of
# magnitudes (log-uniform). A global outage of a big app reaches several hundred
# times the usual reports; one slow component far less.
_KIND_WEIGHTS = (0.15, 0.20, 0.25, 0.15, 0.10, 0.15)
_DURATION_MIN: dict[str, tuple[float, float]] = {
    "global_outage": (15, 240), "regional_outage": (15, 240), "component_down": (6, 180),
    "degradation": (45, 240), "flapping": (30, 120), "partial_recovery": (60, 300),
}
_MAGNITUDE: dict[str, tuple[float, float]] = {
    "global_outage": (30, 1200), "regional_outage": (10, 800), "component_down": (3, 150),
    "degradation": (3, 60), "flapping": (5, 300), "partial_recovery": (10, 600),
}
SMALL_MAGNITUDE = (1.5, 6.0)  # outages near the detection limit


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str
    start_min: int  # minutes since the start of the simulation
    end_min: int  # exclusive
    magnitude: float
    regions: tuple[str, ...] = ()  # probe regions whose users it hits; () = everywhere
    components: tuple[str, ...] = ()  # () = the whole app
    dominant_category: str | None = None  # what most of its reports say
    dominant_share: float = 0.0  # of its extra reports
    # Step changes of severity, (minutes after the start, severity 0..1), for
    # flapping and partial recovery; other kinds are 1 throughout (a degradation
    # ramps from 0 to 1).
    steps: tuple[tuple[int, float], ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}")
        if self.end_min <= self.start_min:
            raise ValueError("a fault ends after it starts")
        unknown = set(self.regions) - set(REGIONS) or set(self.components) - set(COMPONENTS)
        if unknown:
            raise ValueError(f"unknown region or component {sorted(unknown)}")

    @property
    def is_outage(self) -> bool:
        return self.kind in OUTAGE_KINDS

    @property
    def duration_min(self) -> int:
        return self.end_min - self.start_min


def outage(kind: str, start_min: int, duration_min: int, magnitude: float, *,
           regions: tuple[str, ...] = (), components: tuple[str, ...] = (),
           dominant_share: float = 0.79, steps: tuple[tuple[int, float], ...] = ()) -> Fault:
    """An outage whose reports mostly name what broke: "App not loading" when the
    whole app is down, the component's own category otherwise."""
    dominant = APP_CATEGORY if not components else components[0]
    return Fault(kind, start_min, start_min + duration_min, magnitude, regions, components,
                 dominant, dominant_share, steps)


def severity(fault: Fault) -> np.ndarray:
    """How broken the service is for the users in scope, 0..1, per minute of the fault."""
    n = fault.duration_min
    if fault.kind == "degradation":
        return np.arange(1, n + 1, dtype=float) / n
    if not fault.steps:
        return np.ones(n)
    out = np.empty(n)
    for i, (offset, level) in enumerate(fault.steps):
        until = fault.steps[i + 1][0] if i + 1 < len(fault.steps) else n
        out[offset:until] = level
    return out


def benign_factor(fault: Fault) -> np.ndarray:
    """How many times the usual use, per minute of a benign bump or busy day: the
    magnitude with smooth (raised-cosine) edges, 10 minutes for a bump and an hour
    for a busy day, as crowds gather and leave gradually."""
    n = fault.duration_min
    edge = min(60 if fault.kind == "busy_day" else 10, n // 2)
    shape = np.ones(n)
    if edge:
        rise = 0.5 - 0.5 * np.cos(np.pi * (np.arange(edge) + 0.5) / edge)
        shape[:edge] = rise
        shape[n - edge:] = rise[::-1]
    return 1.0 + (fault.magnitude - 1.0) * shape


def schedule(rng: np.random.Generator, *, minutes: int, outages: int, bumps: int = 3,
             busy_days: int = 2, warmup_min: int = 2 * 1440, gap_min: int = 180,
             small_share: float = 0.2) -> list[Fault]:
    """A random, non-overlapping schedule: ``busy_days`` whole UTC days at 1.8×,
    ``bumps`` benign bumps of about 1.5× for about an hour, and ``outages`` outages
    of mixed kinds, ``small_share`` of them near the detection limit. Events keep
    ``gap_min`` apart and stay out of the first ``warmup_min`` (a detector needs
    some history) and away from the last hour. Fewer are placed when they do not
    fit."""
    faults: list[Fault] = []
    busy: list[tuple[int, int]] = []
    days = [d for d in range(minutes // 1440) if d * 1440 >= warmup_min]
    for day in sorted(rng.choice(days, size=min(busy_days, len(days)), replace=False).tolist()):
        faults.append(Fault("busy_day", day * 1440, (day + 1) * 1440, 1.8))
        busy.append((day * 1440, (day + 1) * 1440))
    taken = [(s - gap_min, e + gap_min) for s, e in busy]

    def place(duration: int) -> int | None:
        latest = minutes - duration - 60
        for _ in range(200):
            if latest <= warmup_min:
                return None
            start = int(rng.integers(warmup_min, latest))
            if all(start + duration + gap_min <= s or start - gap_min >= e for s, e in taken):
                taken.append((start, start + duration))
                return start
        return None

    for _ in range(bumps):
        duration = int(rng.integers(45, 121))
        start = place(duration)
        if start is not None:
            faults.append(Fault("benign_bump", start, start + duration,
                                round(float(rng.uniform(1.4, 1.6)), 2)))
    misses = 0
    for _ in range(outages):
        kind = OUTAGE_KINDS[int(rng.choice(len(OUTAGE_KINDS), p=_KIND_WEIGHTS))]
        duration = round(_log_uniform(rng, *_DURATION_MIN[kind]))
        start = place(duration)
        if start is not None:
            faults.append(_draw_outage(rng, kind, start, duration, small_share))
            misses = 0
        elif (misses := misses + 1) >= 20:
            break  # the calendar is full
    return sorted(faults, key=lambda f: f.start_min)


def _draw_outage(rng: np.random.Generator, kind: str, start: int, duration: int,
                 small_share: float) -> Fault:
    low, high = SMALL_MAGNITUDE if rng.random() < small_share else _MAGNITUDE[kind]
    magnitude = round(_log_uniform(rng, low, high), 2)
    regions: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    steps: tuple[tuple[int, float], ...] = ()
    if kind == "regional_outage" or (kind == "partial_recovery" and rng.random() < 0.5):
        regions = (str(rng.choice(REGIONS)),)
    if kind in ("component_down", "degradation") or (kind == "flapping" and rng.random() < 0.5):
        components = (str(rng.choice(COMPONENTS)),)
    if kind == "flapping":
        steps, duration = _flaps(rng, duration)
    elif kind == "partial_recovery":
        back = int(duration * rng.uniform(0.25, 0.5))
        steps = ((0, 1.0), (back, round(float(rng.uniform(0.2, 0.5)), 2)))
    share = rng.uniform(0.7, 0.85) if not components else rng.uniform(0.55, 0.8)
    return outage(kind, start, duration, magnitude, regions=regions, components=components,
                  dominant_share=round(float(share), 2), steps=steps)


def _flaps(rng: np.random.Generator, duration: int) -> tuple[tuple[tuple[int, float], ...], int]:
    """Down 2–6 minutes, up 3–10, until ``duration`` is used; it ends down."""
    steps: list[tuple[int, float]] = []
    at = 0
    while True:
        steps.append((at, 1.0))
        at += int(rng.integers(2, 7))
        if at >= duration - 3:
            return tuple(steps), at
        steps.append((at, 0.0))
        at += int(rng.integers(3, 11))


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))
