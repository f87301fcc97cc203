"""Simulated outages of a short-video service, minute by minute: the problem reports
of its users (in total, per country, per category, per component), the results of
its probes (per region and component), and where the faults are (labels).

The crowd: every country reports at a rate that follows its users' day (local
time) and week, scaled by its share of users. On top of that, service-wide drift
(a day-to-day level and a slow hourly wander) and minute-to-minute
overdispersion (a Gamma-mixed Poisson), so counts are as lumpy as real ones.

When users cannot use the service they report far more: the extra rate is the
usual rate of the countries hit × the fault's magnitude × how broken it is
(``faults.severity``), seen through human delays: noticing and then getting
round to report (two lags in a row, about 3 minutes on average, so reports
build up over the first minutes and keep coming for a while after a recovery)
and tiring (after a couple of hours of an outage everyone knows about, a third
as many people still bother to report). The extra reports' category mix is the
fault's: mostly "App not loading" when the app does not open.

Calibrated to published figures: a global outage of a big app took one public
tracker from about 15 reports per 15 minutes to over 11,000 within 15 minutes,
so ``base_per_min`` defaults to 1 and a global outage's magnitude reaches about
a thousand; the tracker's categories then read 79 % "App". Pure: randomness
comes from the NumPy ``Generator`` passed in, time is minutes since ``start``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from signalfire.sim.faults import Fault, benign_factor, severity
from signalfire.sim.probes import simulate_probes
from signalfire.sim.world import (
    BASE_CATEGORY_MIX,
    CATEGORIES,
    CATEGORY_COMPONENT,
    COMPONENTS,
    COUNTRIES,
    countries_in,
    slug,
    usage,
)

NOTICE_UP_MIN = 1.5  # time constant of users noticing a failure
NOTICE_DOWN_MIN = 3.0  # ... and noticing that it works again
REPORT_DELAY_MIN = 1.5  # time constant of getting round to report it
TAIL_MIN = 30  # how long after a fault its reports are followed
REPORT_WINDOW_TAIL_MIN = 10  # label windows of report series reach this far past the end
DISPERSION_SHAPE = 30.0  # Gamma shape of the per-minute rate noise (CV ≈ 18 %)
QUALIFY_RATIO = 3.0  # an outage "counts" when its reports reach 3× the usual ...
QUALIFY_EXTRA_FIRST_HOUR = 20.0  # ... and bring at least 20 extra in its first hour


@dataclass(frozen=True, slots=True)
class FaultRecord:
    """A scheduled fault with what it did to the total report series (expected
    rates, without noise)."""

    fault: Fault
    peak_ratio: float  # highest expected total rate over the usual one
    extra_first_hour: float  # expected extra reports in the first 60 minutes
    qualifies: bool  # an outage at or above the detection limit (3×, ≥ 20 extra)


@dataclass
class Simulation:
    start: datetime  # UTC, a midnight
    minutes: int
    reports: dict[str, np.ndarray]  # key → reports per minute (int64)
    probe_failed: dict[str, np.ndarray]  # key → 1 when the minute's check failed
    probe_latency_ms: dict[str, np.ndarray]  # key → the check's latency (timeout when failed)
    faults: list[FaultRecord]
    windows: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # key → [start, end)

    def series(self) -> dict[str, np.ndarray]:
        """Every series by key, reports first."""
        return {**self.reports, **self.probe_failed, **self.probe_latency_ms}


def simulate(rng: np.random.Generator, faults: Sequence[Fault], *, start: datetime, days: int,
             base_per_min: float = 1.0, probes: bool = True) -> Simulation:
    """``days`` days of minute buckets from ``start`` (a UTC midnight) with ``faults``."""
    if days < 1 or base_per_min <= 0:
        raise ValueError("days must be ≥ 1 and base_per_min > 0")
    if start.utcoffset() != timedelta(0) or start != start.replace(hour=0, minute=0, second=0,
                                                                   microsecond=0):
        # The rhythms count hours and weekdays from the first minute.
        raise ValueError(f"start must be a UTC midnight, not {start.isoformat()}")
    n = days * 1440
    minutes = np.arange(n)
    level = _drift(rng, n) * _benign(faults, n)
    usual = {c.code: base_per_min * c.share * level
             * usage(minutes, start_weekday=start.weekday(), utc_offset_h=c.utc_offset_h)
             for c in COUNTRIES}
    noise = rng.gamma(DISPERSION_SHAPE, 1.0 / DISPERSION_SHAPE, n)
    counts = {code: rng.poisson(rate * noise) for code, rate in usual.items()}
    usual_total = sum(usual.values())
    base_mix = np.array(BASE_CATEGORY_MIX)
    by_category = rng.multinomial(sum(counts.values()), base_mix)  # (n, categories)
    expected_category = usual_total[:, None] * base_mix
    records: list[FaultRecord] = []
    windows: dict[str, list[tuple[int, int]]] = {}
    for fault in faults:
        if not fault.is_outage or fault.start_min >= n:
            records.append(FaultRecord(fault, 1.0, 0.0, False))
            continue
        lo, hi = fault.start_min, min(fault.end_min + TAIL_MIN, n)
        response = crowd_response(severity(fault))[: hi - lo]
        extra_total = np.zeros(hi - lo)
        drawn_total = np.zeros(hi - lo, dtype=np.int64)
        window = (lo, min(fault.end_min + REPORT_WINDOW_TAIL_MIN, n))
        for country in countries_in(fault.regions):
            extra = usual[country.code][lo:hi] * fault.magnitude * response
            extra_total += extra
            drawn = rng.poisson(extra * noise[lo:hi])
            counts[country.code][lo:hi] += drawn
            drawn_total += drawn
            if _material(usual[country.code][lo:hi], extra):
                windows.setdefault(f"reports/country/{country.code}", []).append(window)
        mix = fault_mix(fault)
        by_category[lo:hi] += rng.multinomial(drawn_total, mix)
        for k, category in enumerate(CATEGORIES):
            if _material(expected_category[lo:hi, k], extra_total * mix[k]):
                windows.setdefault(f"reports/category/{slug(category)}", []).append(window)
        for component in COMPONENTS:
            cols = [k for k, c in enumerate(CATEGORIES) if CATEGORY_COMPONENT[c] == component]
            if _material(expected_category[lo:hi, cols].sum(axis=1), extra_total * mix[cols].sum()):
                windows.setdefault(f"reports/component/{slug(component)}", []).append(window)
        windows.setdefault("reports/total", []).append(window)
        records.append(_record(fault, usual_total[lo:hi], extra_total))
    reports = {"reports/total": sum(counts.values())}
    reports |= {f"reports/country/{code}": c for code, c in counts.items()}
    reports |= {f"reports/category/{slug(c)}": by_category[:, k] for k, c in enumerate(CATEGORIES)}
    for component in COMPONENTS:
        cols = [k for k, c in enumerate(CATEGORIES) if CATEGORY_COMPONENT[c] == component]
        reports[f"reports/component/{slug(component)}"] = by_category[:, cols].sum(axis=1)
    failed: dict[str, np.ndarray] = {}
    latency: dict[str, np.ndarray] = {}
    if probes:
        failed, latency, probe_windows = simulate_probes(rng, faults, n)
        windows |= probe_windows
    return Simulation(start, n, reports, failed, latency, records, windows)


def crowd_response(sev: np.ndarray) -> np.ndarray:
    """Reports per usual report, per unit of magnitude, from a fault's start until
    ``TAIL_MIN`` after its end: severity seen through two human delays in a row
    (noticing that something is wrong, then getting round to report it; about 3
    minutes on average, so the first minute brings only a few per cent of the
    full rate) and the tiring of a long outage."""
    padded = np.concatenate([sev, np.zeros(TAIL_MIN)])
    up, down = 1 - np.exp(-1 / NOTICE_UP_MIN), 1 - np.exp(-1 / NOTICE_DOWN_MIN)
    act = 1 - np.exp(-1 / REPORT_DELAY_MIN)
    out = np.empty(len(padded))
    noticed = reporting = 0.0
    for i, s in enumerate(padded.tolist()):
        before = reporting
        noticed += (s - noticed) * (up if s > noticed else down)
        reporting += (noticed - reporting) * act
        out[i] = (before + reporting) / 2  # the mean over the minute
    tiring = 0.35 + 0.65 * np.exp(-np.arange(len(padded)) / 120.0)
    return out * tiring


def fault_mix(fault: Fault) -> np.ndarray:
    """The category mix of a fault's extra reports: its dominant category's share,
    the rest like an ordinary day's."""
    base = np.array(BASE_CATEGORY_MIX)
    k = CATEGORIES.index(fault.dominant_category) if fault.dominant_category in CATEGORIES else 0
    rest = np.delete(base, k)
    mix = np.insert(rest / rest.sum() * (1 - fault.dominant_share), k, fault.dominant_share)
    return mix


def _record(fault: Fault, usual: np.ndarray, extra: np.ndarray) -> FaultRecord:
    peak = float(np.max((usual + extra) / usual))
    first_hour = float(extra[:60].sum())
    qualifies = peak >= QUALIFY_RATIO and first_hour >= QUALIFY_EXTRA_FIRST_HOUR
    return FaultRecord(fault, round(peak, 2), round(first_hour, 1), qualifies)


def _material(usual: np.ndarray, extra: np.ndarray) -> bool:
    """Does a fault show on a series (a country, a category, a component): at least
    twice its usual rate at some minute and 10 extra reports in the first hour?
    Below that no detector could tell it from noise, and labelling it would count
    every detector's silence as a miss. (The total is labelled for every outage.)"""
    return bool(np.max(extra / np.maximum(usual, 1e-9)) >= 1.0 and extra[:60].sum() >= 10)


def _drift(rng: np.random.Generator, n: int) -> np.ndarray:
    """Service-wide level: a day-to-day factor and a slow hourly wander."""
    days = -(-n // 1440)
    daily = np.repeat(rng.lognormal(0.0, 0.06, days), 1440)[:n]
    hours = -(-n // 60) + 1
    knots = rng.normal(0.0, 0.07, hours)
    wander = np.exp(np.interp(np.arange(n) / 60.0, np.arange(hours), knots))
    return daily * wander


def _benign(faults: Sequence[Fault], n: int) -> np.ndarray:
    level = np.ones(n)
    for fault in faults:
        if not fault.is_outage and fault.start_min < n:
            hi = min(fault.end_min, n)
            level[fault.start_min:hi] *= benign_factor(fault)[: hi - fault.start_min]
    return level
