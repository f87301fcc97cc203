"""Series files on disk for the backtest: CSV in and out, and labelled windows.

The I/O edge of ``signalfire.detect`` (the rest of the package is pure). A series
file is CSV with a header naming at least ``timestamp`` and ``value``; a
timestamp is NAB's ``YYYY-MM-DD HH:MM:SS`` or ISO 8601 (a time without an offset
is UTC). Replay output adds ``anomaly_score`` and ``alarm`` (0 or 1).

Replays are judged on speed next to plain CSV reading and writing, so whole
columns are parsed at once with NumPy; only when that fails is the file read
again row by row, to name the line at fault.

Errors (``SeriesError``, an ``InputError``) name the file and the line.
"""

from __future__ import annotations

import csv
import json
import math
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import methodcaller
from pathlib import Path

import numpy as np

from signalfire.errors import InputError

SERIES_COLUMNS = ("timestamp", "value")
SCORED_COLUMNS = ("timestamp", "value", "anomaly_score", "alarm")


class SeriesError(InputError):
    """A series or windows file that cannot be used; ``str()`` names the file and line."""

    def __init__(self, path: Path | str, message: str, *, line: int | None = None) -> None:
        where = f"{path}" if line is None else f"{path}: line {line}"
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line


@dataclass(frozen=True, slots=True)
class Columns:
    """Named columns of a CSV file: the text as read, and the times parsed."""

    path: Path
    times_s: np.ndarray  # seconds since the epoch, float64, never decreasing
    text: dict[str, list[str]]  # column name -> field text, row by row

    def __len__(self) -> int:
        return len(self.times_s)

    def numbers(self, column: str) -> np.ndarray:
        """A column as finite floats; a field that is not one names its line."""
        fields = self.text[column]
        try:
            values = np.array(fields, dtype=np.float64) if fields else np.empty(0)
        except ValueError:
            values = None
        if values is None or not bool(np.isfinite(values).all()):
            for i, field in enumerate(fields):
                if not _is_finite(field):
                    raise SeriesError(self.path, f"{column} {field!r} is not a number",
                                      line=i + 2) from None
        return values  # type: ignore[return-value]


def _is_finite(field: str) -> bool:
    try:
        return math.isfinite(float(field))
    except ValueError:
        return False


def read_columns(path: Path, columns: Sequence[str] = SERIES_COLUMNS) -> Columns:
    """Read ``path``, keeping ``columns`` (others are ignored); ``timestamp`` is parsed."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SeriesError(path, f"not UTF-8 text ({exc.reason})") from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise SeriesError(path, "empty file: expected a header " + ",".join(columns), line=1)
    header = [name.strip() for name in next(csv.reader(lines[:1]))]
    missing = [c for c in columns if c not in header]
    if missing:
        raise SeriesError(path, f"missing column {', '.join(missing)} "
                                f"(the header is {','.join(header)})", line=1)
    width = len(header)
    body = lines[1:]
    if '"' in text:  # quoted fields: the csv module's rules
        rows = list(csv.reader(body))
        _check_widths(path, map(len, rows), width)
        by_index = list(zip(*rows, strict=True)) if rows else [()] * width
        text_columns = {c: list(by_index[header.index(c)]) for c in columns}
    else:  # the usual case, about twice as fast: one split, then every width-th field
        _check_widths(path, (n + 1 for n in map(methodcaller("count", ","), body)), width)
        fields = ",".join(body).split(",") if body else []
        text_columns = {c: fields[header.index(c)::width] for c in columns}
    times_s = parse_times(text_columns["timestamp"], path)
    return Columns(path, times_s, text_columns)


def _check_widths(path: Path, widths: Iterable[int], width: int) -> None:
    widths = list(widths)
    if widths and (min(widths) != width or max(widths) != width):
        i, n = next((i, n) for i, n in enumerate(widths) if n != width)
        raise SeriesError(path, f"{n} field{'s' if n != 1 else ''} where the header has {width}",
                          line=i + 2)


def parse_times(fields: list[str], path: Path | str = "<series>") -> np.ndarray:
    """Timestamps as seconds since the epoch; they may repeat but never go back."""
    times_s = _parse_times_fast(fields)
    if times_s is None:
        times_s = np.array([_parse_time(f, path, i + 2) for i, f in enumerate(fields)])
    if times_s.size > 1:
        back = np.flatnonzero(times_s[1:] < times_s[:-1])
        if back.size:
            i = int(back[0]) + 1
            raise SeriesError(path, f"timestamp {fields[i]!r} is before the one above it "
                                    f"({fields[i - 1]!r}): rows must be in time order",
                              line=i + 2)
    return times_s


def _parse_times_fast(fields: list[str]) -> np.ndarray | None:
    if not fields:
        return np.empty(0)
    try:
        with warnings.catch_warnings():
            # NumPy only warns about offsets ("Z", "+02:00") it would drop: those rows
            # are parsed one by one instead.
            warnings.simplefilter("error")
            stamps = np.array(fields, dtype="datetime64[us]")
    except (ValueError, UserWarning, DeprecationWarning):
        return None
    if bool(np.any(np.isnat(stamps))) or min(map(len, fields)) < 10:
        return None  # empty fields, "NaT", or a bare year NumPy would accept
    return stamps.astype(np.int64) / 1e6


def _parse_time(field: str, path: Path | str, line: int) -> float:
    try:
        if len(field) < 10:
            raise ValueError
        at = datetime.fromisoformat(field.strip())
    except ValueError:
        raise SeriesError(path, f"timestamp {field!r} is neither YYYY-MM-DD HH:MM:SS "
                                "nor ISO 8601", line=line) from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.timestamp()


def write_scored(path: Path, columns: Columns, scores: Sequence[float],
                 alarms: Sequence[bool]) -> None:
    """Write a replay's output at once: the input's timestamp and value text, then
    ``anomaly_score`` (shortest exact form) and ``alarm``. A temporary file is renamed
    into place, so a failed replay never leaves a partial file."""
    n = len(columns)
    if len(scores) != n or len(alarms) != n:
        raise ValueError(f"{len(scores)} scores and {len(alarms)} alarms for {n} rows")
    score_text = map(repr, np.asarray(scores, dtype=np.float64).tolist())
    alarm_text = ["1" if a else "0" for a in alarms]
    body = "\n".join(map(",".join, zip(columns.text["timestamp"], columns.text["value"],
                                       score_text, alarm_text, strict=True)))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(",".join(SCORED_COLUMNS) + "\n")
            if body:
                f.write(body + "\n")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def series_files(root: Path, *, skip: Path | None = None) -> list[Path]:
    """Every ``*.csv`` under ``root`` (or ``root`` itself if it is a file), relative to
    it, sorted; files under ``skip`` (an output directory inside the input) are left out."""
    if root.is_file():
        return [Path(root.name)]
    skip = skip.resolve() if skip is not None else None
    found = []
    for path in root.rglob("*.csv"):
        if skip is not None and path.resolve().is_relative_to(skip):
            continue
        if path.is_file():
            found.append(path.relative_to(root))
    return sorted(found)


def load_windows(path: Path) -> dict[str, list[tuple[float, float]]]:
    """A windows file: ``{"<relative path>.csv": [[start, end], ...]}`` with NAB's
    ``"2014-04-10 07:15:00.000000"``, ISO 8601 or seconds since the epoch."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SeriesError(path, f"cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise SeriesError(path, f"not JSON: {exc.msg}", line=exc.lineno) from None
    if not isinstance(raw, dict):
        raise SeriesError(path, "expected an object mapping file names to lists of windows")
    windows: dict[str, list[tuple[float, float]]] = {}
    for name, spans in raw.items():
        if not isinstance(spans, list):
            raise SeriesError(path, f"{name!r}: expected a list of (start, end) pairs")
        parsed = []
        for k, span in enumerate(spans):
            where = f"{name!r}[{k}]"
            if not (isinstance(span, list) and len(span) == 2):
                raise SeriesError(path, f"{where}: expected a pair of times (start, end)")
            start_s, end_s = (_window_time(v, path, where) for v in span)
            if end_s < start_s:
                raise SeriesError(path, f"{where}: ends before it starts")
            parsed.append((start_s, end_s))
        windows[name.replace("\\", "/")] = parsed
    return windows


def _window_time(value: object, path: Path, where: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return _parse_time(value, path, 0)
        except SeriesError:
            pass
    raise SeriesError(path, f"{where}: {value!r} is not a time "
                            "(YYYY-MM-DD HH:MM:SS, ISO 8601 or seconds since the epoch)")
