"""Prometheus metrics at ``/metrics``: monitors up or down per region, probe
latency, scheduler lag and queue depths, cache use, what detection sees.

One registry per application (no process-wide singletons), so tests and
several apps in one process do not share counters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from signalfire.domain.probe import Monitor, Observation
from signalfire.store import Store

LATENCY_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _MonitorStates(Collector):
    """Read at scrape time from the store: the truth, also for agents' regions."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("signalfire_monitor_up",
                               "1 when the monitor is up in the region, 0 when down "
                               "(absent while unknown)", labels=["monitor", "page", "region"])
        latency = GaugeMetricFamily("signalfire_monitor_last_duration_seconds",
                                    "Duration of the monitor's last check in the region",
                                    labels=["monitor", "page", "region"])
        for monitor, states in self.store.all_monitor_states():
            for s in states:
                labels = [monitor.name, monitor.page_id, s.region]
                if s.up is not None:
                    up.add_metric(labels, 1.0 if s.up else 0.0)
                if s.last_duration_ms is not None:
                    latency.add_metric(labels, s.last_duration_ms / 1000)
        yield up
        yield latency


class _Detection(Collector):
    """What detection sees now, per page: read at scrape time from the engine."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        confidence = GaugeMetricFamily(
            "signalfire_detection_confidence",
            "Confidence of the page's current signal (0 when nothing is unusual)",
            labels=["page"])
        series = GaugeMetricFamily("signalfire_detection_series",
                                   "Report series the page's detectors watch", labels=["page"])
        for page_id, watch in list(self.engine.pages.items()):
            signal = watch.last_signal
            confidence.add_metric([page_id], signal.confidence if signal else 0.0)
            series.add_metric([page_id], float(len(watch.watches)))
        yield confidence
        yield series


class Metrics:
    def __init__(self, store: Store) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(_MonitorStates(store))
        self.checks = Counter("signalfire_checks", "Probe checks received, by region and result",
                              ["region", "kind", "result"], registry=self.registry)
        self.check_latency = Histogram(
            "signalfire_check_duration_seconds", "Duration of probe checks, by region and kind",
            ["region", "kind"], buckets=LATENCY_BUCKETS_S, registry=self.registry)
        self.scheduler_lag = Histogram(
            "signalfire_scheduler_lag_seconds", "How late the local scheduler started checks",
            buckets=(0.001, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0), registry=self.registry)
        self._gauges: dict[str, Gauge] = {}

    def gauge(self, name: str, doc: str, read: Callable[[], float]) -> None:
        """A gauge read when scraped (queue depths, checks in flight, cache size)."""
        g = Gauge(name, doc, registry=self.registry)
        g.set_function(read)
        self._gauges[name] = g

    def watch_detection(self, engine: Any) -> None:
        """Export the detection engine's per-page view (``signalfire.engine.detection``)."""
        self.registry.register(_Detection(engine))

    def observed(self, observations: Iterable[Observation], kinds: dict[str, Monitor]) -> None:
        for o in observations:
            monitor = kinds.get(o.monitor_id)
            kind = monitor.kind.value if monitor else "unknown"
            self.checks.labels(o.region, kind, "ok" if o.ok else "failed").inc()
            self.check_latency.labels(o.region, kind).observe(o.duration_ms / 1000)

    def render(self) -> bytes:
        return generate_latest(self.registry)
