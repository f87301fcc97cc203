"""``signalfire simulate``: labelled series of a simulated short-video service's
outages, for backtesting detectors (``signalfire detect replay`` / ``score``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from click.core import ParameterSource

OUTAGES_PER_30_DAYS = 12


@click.command()
@click.option("--days", type=click.IntRange(1, 366), default=30, show_default=True,
              help="Simulated days of 1-minute buckets.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="The same seed gives the same files.")
@click.option("--out", "out_dir", required=True,
              type=click.Path(file_okay=False, writable=True, path_type=Path),
              help="Directory to write into (created if missing).")
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]), default="2026-01-05",
              show_default=True, help="First day (UTC midnight).")
@click.option("--outages", type=click.IntRange(0, 10_000), default=None,
              help=f"Outages to schedule [default: {OUTAGES_PER_30_DAYS} per 30 days].")
@click.option("--bumps", type=click.IntRange(0, 10_000), default=3, show_default=True,
              help="Benign bumps (about 1.5× for about an hour), not outages.")
@click.option("--busy-days", type=click.IntRange(0, 366), default=2, show_default=True,
              help="Busy days (1.8× all day), not outages.")
@click.option("--base-rate", type=click.FloatRange(0.01, 100_000), default=1.0,
              show_default=True,
              help="Usual reports per minute over a day (a big app on a public tracker: about 1).")
@click.option("--small-share", type=click.FloatRange(0, 1), default=0.2, show_default=True,
              help="Share of outages near the detection limit (1.5–6× the usual reports).")
@click.option("--probes/--no-probes", default=True, show_default=True,
              help="Also write probe results per region and component.")
def simulate(days: int, seed: int, out_dir: Path, start: datetime, outages: int | None,
             bumps: int, busy_days: int, base_rate: float, small_share: float,
             probes: bool) -> None:
    """Write labelled series of simulated outages to OUT.

    One CSV (timestamp,value) per series: reports in total, per country, per
    category and per component, and probe failures and latency per region and
    component; windows.json with the labelled fault windows of each series
    (NAB's format) and faults.json with every fault (kind, start, end, scope,
    magnitude). Replay and score them with `signalfire detect`.
    """
    import numpy as np

    from signalfire.sim.export import write_simulation
    from signalfire.sim.faults import schedule
    from signalfire.sim.outages import simulate as run

    if busy_days > days:
        if click.get_current_context().get_parameter_source("busy_days") is ParameterSource.DEFAULT:
            busy_days = days // 10
        else:
            raise click.BadParameter(f"{busy_days} busy days do not fit in {_days(days)}",
                                     param_hint="'--busy-days'")
    if out_dir.exists() and not out_dir.is_dir():
        raise click.BadParameter(f"{out_dir} is not a directory", param_hint="'--out'")
    count = outages if outages is not None else round(days * OUTAGES_PER_30_DAYS / 30)
    rng = np.random.default_rng(seed)
    faults = schedule(rng, minutes=days * 1440, outages=count, bumps=bumps, busy_days=busy_days,
                      warmup_min=min(2 * 1440, days * 1440 // 4), small_share=small_share)
    sim = run(rng, faults, start=start.replace(tzinfo=UTC), days=days, base_per_min=base_rate,
              probes=probes)
    written = write_simulation(sim, out_dir)
    placed = [r for r in sim.faults if r.fault.is_outage]
    benign = len(sim.faults) - len(placed)
    click.echo(f"wrote {len(written) - 2} series of {sim.minutes:,} minutes, windows.json and "
               f"faults.json to {out_dir}: {len(placed)} outages "
               f"({sum(r.qualifies for r in placed)} at or above the detection limit), "
               f"{benign} benign bumps and busy days")
    if len(placed) < count:
        click.echo(f"note: only {len(placed)} of {count} outages fit in {_days(days)}", err=True)


def _days(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"
