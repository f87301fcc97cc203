"""The simulated service as its probes see it: one check per minute per region and
component, with its latency, and failures where a fault is.

An ordinary minute: the region's usual latency with some jitter, and a rare
failed check (a network blip, about one in two thousand) that a failure
threshold of a few checks in a row ignores. Under a fault, a check fails with
the fault's severity as probability; a degradation instead makes checks slower
and slower (up to about 13× at its worst) and only then makes some fail. A
failed check takes the probe's timeout. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from signalfire.sim.faults import Fault, severity
from signalfire.sim.world import COMPONENTS, PROBE_BASE_LATENCY_MS, PROBE_TIMEOUT_MS, REGIONS, slug

BLIP_PROBABILITY = 0.0005
JITTER_SIGMA = 0.2  # log-normal spread of an ordinary check's latency


def probe_key(region: str, component: str, what: str) -> str:
    """``probes/eu-west/video-upload/failed`` or ``…/latency_ms``."""
    return f"probes/{region}/{slug(component)}/{what}"


def simulate_probes(rng: np.random.Generator, faults: Sequence[Fault], n: int) -> tuple[
        dict[str, np.ndarray], dict[str, np.ndarray], dict[str, list[tuple[int, int]]]]:
    """Per region and component: failed (0/1) and latency per minute, and the
    windows of the faults that hit it."""
    failed: dict[str, np.ndarray] = {}
    latency: dict[str, np.ndarray] = {}
    windows: dict[str, list[tuple[int, int]]] = {}
    for region in REGIONS:
        for component in COMPONENTS:
            slow = np.ones(n)
            fail_p = np.full(n, BLIP_PROBABILITY)
            hits = [f for f in faults if f.is_outage and f.start_min < n
                    and (not f.regions or region in f.regions)
                    and (not f.components or component in f.components)]
            for fault in hits:
                lo, hi = fault.start_min, min(fault.end_min, n)
                sev = severity(fault)[: hi - lo]
                if fault.kind == "degradation":
                    slow[lo:hi] *= 1 + 12 * sev
                    fail_p[lo:hi] = np.maximum(fail_p[lo:hi], np.clip((sev - 0.6) / 0.4, 0, 1) ** 2)
                else:
                    fail_p[lo:hi] = np.maximum(fail_p[lo:hi], sev)
                for what in ("failed", "latency_ms"):
                    windows.setdefault(probe_key(region, component, what), []).append((lo, hi))
            down = rng.random(n) < fail_p
            ms = PROBE_BASE_LATENCY_MS[region] * slow * rng.lognormal(0.0, JITTER_SIGMA, n)
            ms = np.where(down | (ms > PROBE_TIMEOUT_MS), PROBE_TIMEOUT_MS, np.round(ms, 1))
            failed[probe_key(region, component, "failed")] = down.astype(np.int64)
            latency[probe_key(region, component, "latency_ms")] = ms
    return failed, latency, windows
