"""``signalfire detect …``: the backtest. Replay history through a detector, then score
the replay against labelled windows the way the Numenta Anomaly Benchmark does."""

from __future__ import annotations

import json
import math
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from signalfire.errors import InputError

err = Console(stderr=True, soft_wrap=True, highlight=False)
out = Console(soft_wrap=True, highlight=False)

PROFILE_CHOICES = ["standard", "reward_low_FP", "reward_low_FN",
                   "reward_low_FP_rate", "reward_low_FN_rate"]


@click.group()
def detect() -> None:
    """Backtest detectors on history: replay series through one, then score it."""


@detect.command("list")
def detect_list() -> None:
    """List the detectors ``replay`` can use; the default is marked."""
    from signalfire.detect.registry import DEFAULT_DETECTOR, DETECTORS

    for name in sorted(DETECTORS):
        out.print(f"{name} (default)" if name == DEFAULT_DETECTOR else name)


@detect.command("replay")
@click.argument("input_dir", type=click.Path(exists=True, path_type=Path))
@click.argument("output_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--detector", "detector_name", metavar="NAME", default=None,
              help="The detector to replay through (`signalfire detect list` names them; "
                   "default: the default detector).")
def detect_replay(input_dir: Path, output_dir: Path, detector_name: str | None) -> None:
    """Replay every *.csv under INPUT_DIR through a detector, one bucket at a time.

    Each input has the columns timestamp,value (any bucket size; timestamps as
    YYYY-MM-DD HH:MM:SS or ISO 8601, UTC unless they say otherwise, in time
    order). The output goes to the same relative path under OUTPUT_DIR with the
    columns timestamp,value,anomaly_score,alarm. A file with bad input is
    reported with its line and gets no output; the others are still replayed,
    and the exit status is then 2.
    """
    from signalfire.cli.series_io import SeriesError, read_columns, series_files, write_scored
    from signalfire.detect.detector import score_series
    from signalfire.detect.registry import DEFAULT_DETECTOR, make_detector

    name = detector_name or DEFAULT_DETECTOR
    try:
        make_detector(name)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="--detector") from None
    files = series_files(input_dir, skip=output_dir)
    if not files:
        raise InputError(f"no *.csv file under {input_dir}")
    base = input_dir if input_dir.is_dir() else input_dir.parent
    failed = points = 0
    started = time.perf_counter()
    for relative in files:
        source, target = base / relative, output_dir / relative
        try:
            columns = read_columns(source)
            values = columns.numbers("value")
            try:
                scores, alarms = score_series(make_detector(name), columns.times_s.tolist(),
                                              values.tolist())
                write_scored(target, columns, scores, alarms)
            except (ValueError, ArithmeticError) as exc:
                raise SeriesError(source, f"detector {name!r} failed: {exc}") from None
        except SeriesError as exc:
            err.print(f"[red]error:[/red] {escape(exc.message)}")
            failed += 1
            continue
        points += len(columns)
    elapsed_s = time.perf_counter() - started
    done = len(files) - failed
    rate = f", {points / elapsed_s:,.0f} points/s" if elapsed_s > 0 and points else ""
    out.print(f"replayed {done} file{'s' if done != 1 else ''} ({points:,} points) through "
              f"'{name}' into {output_dir} in {elapsed_s:.2f} s{rate}")
    if failed:
        raise InputError(f"{failed} of {len(files)} files had bad input and were not replayed")


@detect.command("score")
@click.argument("output_dir", type=click.Path(exists=True, path_type=Path))
@click.option("--windows", "windows_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help='Labelled windows: {"<relative path>.csv": [[start, end], ...]} '
                   "(NAB's format; times as in the series, or seconds since the epoch).")
@click.option("--profile", type=click.Choice(PROFILE_CHOICES), default="standard",
              show_default=True, help="The NAB profile of the per-file and per-window tables.")
@click.option("--threshold", type=click.FloatRange(0, 1.1), default=None,
              help="Anomaly score from which a row counts as an alarm [default: the best "
                   "for each profile over all files, as NAB chooses it].")
@click.option("--alarms", "use_alarms", is_flag=True,
              help="Score the detector's own alarm column instead of a threshold.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
def detect_score(output_dir: Path, windows_path: Path, profile: str, threshold: float | None,
                 use_alarms: bool, as_json: bool) -> None:
    """Score a replay (OUTPUT_DIR of `detect replay`) against labelled windows.

    Prints NAB's normalised score (the null detector 0, a perfect one 100) for
    the profiles standard, reward_low_FP and reward_low_FN; per file the hits,
    misses, false alarms and raw score; per window the time from its start to
    the first alarm in it; and false alarms per day outside windows. The first
    15% of each file (at most 750 rows) is a probation period, not scored.
    """
    from signalfire.cli.series_io import SeriesError

    if use_alarms and threshold is not None:
        raise click.UsageError("use --threshold or --alarms, not both")
    try:
        _score(output_dir, windows_path, profile, threshold, use_alarms, as_json)
    except SeriesError as exc:
        # Printed here rather than by the main group: file text must not be read as markup.
        err.print(f"[red]error:[/red] {escape(exc.message)}")
        raise SystemExit(2) from None


def _score(output_dir: Path, windows_path: Path, profile: str, threshold: float | None,
           use_alarms: bool, as_json: bool) -> None:
    from signalfire.cli.series_io import SeriesError, load_windows, read_columns, series_files
    from signalfire.detect.nab import nab_scores, profile_name

    windows = load_windows(windows_path)
    files = series_files(output_dir)
    if not files:
        raise SeriesError(output_dir, "no *.csv file here")
    base = output_dir if output_dir.is_dir() else output_dir.parent
    column = "alarm" if use_alarms else "anomaly_score"
    results = {}
    for relative in files:
        columns = read_columns(base / relative, ("timestamp", column))
        results[relative.as_posix()] = (columns.times_s, columns.numbers(column))
    notes = [f"{name}: not in {windows_path.name}, so it has no anomaly window"
             for name in results if name not in windows]
    unscored = [name for name in windows if name not in results]
    if unscored:
        notes.append(f"{len(unscored)} file{'s' if len(unscored) != 1 else ''} of "
                     f"{windows_path.name} not under {output_dir} (scored without them), "
                     f"e.g. {unscored[0]}")
    try:
        by_profile = nab_scores(results, windows, threshold=1.0 if use_alarms else threshold)
    except ValueError as exc:
        raise SeriesError(windows_path, str(exc)) from None
    chosen = by_profile[profile_name(profile)]
    if as_json:
        click.echo(json.dumps(_as_json(by_profile, chosen, results, use_alarms, threshold,
                                       notes)))
        return
    for note in notes:
        err.print(f"note: {escape(note)}")
    _print_tables(by_profile, chosen, results)


# -- output -------------------------------------------------------------------------------

def _iso(at_s: float | None) -> str | None:
    if at_s is None:
        return None
    return datetime.fromtimestamp(at_s, UTC).isoformat().replace("+00:00", "Z")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes = round(seconds / 60)
    if abs(seconds) < 60:
        return f"{seconds:.0f} s"
    if abs(minutes) < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _ttd_summary(ttds: list[float]) -> dict[str, float | None]:
    if not ttds:
        return {"median": None, "p90": None}
    ordered = sorted(ttds)
    return {"median": statistics.median(ordered),
            "p90": ordered[math.ceil(0.9 * len(ordered)) - 1]}  # nearest rank


def _profile_json(result) -> dict:  # type: ignore[no-untyped-def]
    return {"score": result.score, "threshold": result.threshold,
            "raw_score": result.raw_score, "null_score": result.null_score,
            "perfect_score": result.perfect_score, "tp": result.tp, "fp": result.fp,
            "fn": result.fn, "false_alarms_per_day": result.false_alarms_per_day,
            "time_to_detection_s": _ttd_summary(result.times_to_detection_s)}


def _as_json(by_profile, chosen, results, use_alarms, threshold, notes) -> dict:  # type: ignore[no-untyped-def]
    files = {}
    for name, f in chosen.files.items():
        files[name] = {
            "rows": len(results[name][0]), "raw_score": f.raw_score, "tp": f.tp, "fp": f.fp,
            "fn": f.fn, "false_alarms_per_day": f.false_alarms_per_day,
            "windows": [{"start": _iso(w.start_s), "end": _iso(w.end_s),
                         "detected_at": _iso(w.detected_at_s),
                         "time_to_detection_s": w.time_to_detection_s, "score": w.score}
                        for w in f.windows]}
    mode = "alarms" if use_alarms else ("fixed" if threshold is not None else "optimised")
    return {"threshold_mode": mode,
            "profiles": {name: _profile_json(r) for name, r in by_profile.items()},
            "profile": chosen.profile, "files": files, "notes": notes}


def _short(at_s: float | None) -> str:
    return "-" if at_s is None else datetime.fromtimestamp(at_s, UTC).strftime("%Y-%m-%d %H:%M")


def _print_tables(by_profile, chosen, results) -> None:  # type: ignore[no-untyped-def]
    # Piped into a file or a pager, rich would squeeze the tables into 80 columns.
    console = out if out.is_terminal else Console(width=160, highlight=False)
    per_file = Table("file", "rows", "windows", "hit", "missed", "false alarms",
                     "false alarms/day", "raw score",
                     title=f"Per file ({chosen.profile}, threshold {chosen.threshold:.6g})")
    for name, f in chosen.files.items():
        per_file.add_row(name, f"{len(results[name][0]):,}", str(len(f.windows)), str(f.tp),
                         str(f.fn), str(f.fp), f"{f.false_alarms_per_day:.2f}",
                         f"{f.raw_score:.3f}")
    console.print(per_file)
    per_window = Table("file", "window (UTC)", "first alarm",
                       "time to detection", title=f"Per window ({chosen.profile})")
    for name, f in chosen.files.items():
        for w in f.windows:
            per_window.add_row(name, f"{_short(w.start_s)} → {_short(w.end_s)}",
                               _short(w.detected_at_s) if w.detected else "missed",
                               _duration(w.time_to_detection_s))
    if per_window.row_count:
        console.print(per_window)
    totals = Table("profile", "score", "threshold", "hit", "missed", "false alarms",
                   "false alarms/day", "median time to detection",
                   title="NAB score (null detector 0, perfect 100)")
    for name, r in by_profile.items():
        ttd = _ttd_summary(r.times_to_detection_s)
        totals.add_row(name, f"{r.score:.1f}", f"{r.threshold:.6g}", str(r.tp), str(r.fn),
                       str(r.fp), f"{r.false_alarms_per_day:.2f}", _duration(ttd["median"]))
    console.print(totals)
