"""A simulation on disk, in the shapes the backtest reads: one CSV per series
(``timestamp,value``), NAB's ``windows.json`` and a ``faults.json``.

- ``<key>.csv``, e.g. ``reports/total.csv``, ``reports/country/BR.csv``,
  ``reports/category/app-not-loading.csv``, ``reports/component/login.csv``,
  ``probes/eu-west/feed/failed.csv``, ``probes/eu-west/feed/latency_ms.csv``;
  timestamps ``YYYY-MM-DD HH:MM:SS`` (UTC), the start of each minute;
- ``windows.json``: ``{"reports/total.csv": [["2026-01-07 10:00:00.000000",
  "2026-01-07 11:10:00.000000"], ...], ...}``, every series, ``[]`` when nothing
  happened to it. A window runs from a fault's start to its end (report series:
  10 minutes more, while reports die down). The total report series is labelled
  for every outage; a country, category or component series only where the
  outage shows (twice the usual rate at some minute, 10 extra reports in the
  first hour); probe series where the fault's regions and components are;
- ``faults.json``: every fault, outages and benign events, with its kind,
  start, end, scope, magnitude and what it did to the total report series.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from signalfire.sim.outages import FaultRecord, Simulation
from signalfire.sim.world import countries_in

CSV_TIME = "%Y-%m-%d %H:%M:%S"
WINDOW_TIME = "%Y-%m-%d %H:%M:%S.%f"


def write_simulation(sim: Simulation, out_dir: Path) -> list[Path]:
    """Write every series, ``windows.json`` and ``faults.json`` under ``out_dir``;
    the files written."""
    stamps = [(sim.start + timedelta(minutes=m)).strftime(CSV_TIME) for m in range(sim.minutes)]
    written: list[Path] = []
    for key, values in sim.series().items():
        path = out_dir / f"{key}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        body = "\n".join(f"{t},{v}" for t, v in zip(stamps, values.tolist(), strict=True))
        path.write_text(f"timestamp,value\n{body}\n", encoding="utf-8")
        written.append(path)
    windows = {f"{key}.csv": [[_at(sim.start, lo, WINDOW_TIME), _at(sim.start, hi, WINDOW_TIME)]
                              for lo, hi in sim.windows.get(key, [])]
               for key in sim.series()}
    for name, data in (("windows.json", windows), ("faults.json", faults_document(sim))):
        path = out_dir / name
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


def faults_document(sim: Simulation) -> list[dict[str, Any]]:
    return [_fault(sim.start, record) for record in sim.faults]


def _fault(start: datetime, record: FaultRecord) -> dict[str, Any]:
    fault = record.fault
    return {
        "kind": fault.kind,
        "outage": fault.is_outage,
        "start": _at(start, fault.start_min, CSV_TIME),
        "end": _at(start, fault.end_min, CSV_TIME),
        "duration_min": fault.duration_min,
        "scope": {
            "regions": list(fault.regions),
            "countries": [c.code for c in countries_in(fault.regions)],
            "components": list(fault.components),
        },
        "magnitude": fault.magnitude,
        "dominant_category": fault.dominant_category,
        "dominant_share": fault.dominant_share,
        "steps": [list(step) for step in fault.steps],
        "peak_ratio": record.peak_ratio,
        "extra_reports_first_hour": record.extra_first_hour,
        "at_or_above_detection_limit": record.qualifies,
    }


def _at(start: datetime, minute: int, fmt: str) -> str:
    return (start + timedelta(minutes=minute)).strftime(fmt)
