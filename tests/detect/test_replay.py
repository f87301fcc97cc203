"""`signalfire detect replay` and `score`, run as an operator runs them."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from signalfire.cli.main import main
from signalfire.detect.registry import DETECTORS, make_detector

NAB_DEV = Path(__file__).parent.parent.parent / "bench" / "data" / "nab-dev"
NAB_FILE = NAB_DEV / "data" / "artificialWithAnomaly" / "art_daily_jumpsup.csv"


def run(*args: str):
    return CliRunner().invoke(main, ["detect", *args], catch_exceptions=False)


def minute_counts(n: int = 3000, *, seed: int = 5) -> str:
    """Reports per minute, ISO 8601 with Z, a burst two thirds of the way in."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
    lines = ["timestamp,value"]
    for i in range(n):
        rate = 40 if 2 * n // 3 <= i < 2 * n // 3 + 30 else 2
        count = sum(rng.random() < rate / 50 for _ in range(50))
        stamp = datetime.fromtimestamp(start + 60 * i, UTC).isoformat().replace("+00:00", "Z")
        lines.append(f"{stamp},{count}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("in")
    (root / "nab").mkdir()
    (root / "nab" / "jumpsup.csv").write_text(NAB_FILE.read_text())
    (root / "reports.csv").write_text(minute_counts())
    return root


def data_rows(path: Path) -> list[str]:
    return path.read_text().splitlines()[1:]


@pytest.fixture(scope="module")
def full_runs(inputs, tmp_path_factory) -> dict[str, Path]:
    runs = {}
    for name in DETECTORS:
        out = tmp_path_factory.mktemp(f"full-{name}")
        result = run("replay", str(inputs), str(out), "--detector", name)
        assert result.exit_code == 0, result.output
        runs[name] = out
    return runs


@pytest.mark.parametrize("detector", sorted(DETECTORS))
@pytest.mark.parametrize("cut", [1, 17, 700, 2000, 2999])
def test_a_prefix_replays_to_the_first_rows_of_the_full_replay(detector, cut, inputs, full_runs,
                                                               tmp_path):
    prefix_in = tmp_path / "in"
    for relative in ("nab/jumpsup.csv", "reports.csv"):
        lines = (inputs / relative).read_text().splitlines()
        (prefix_in / relative).parent.mkdir(parents=True, exist_ok=True)
        (prefix_in / relative).write_text("\n".join(lines[:cut + 1]) + "\n")
    result = run("replay", str(prefix_in), str(tmp_path / "out"), "--detector", detector)
    assert result.exit_code == 0, result.output
    for relative in ("nab/jumpsup.csv", "reports.csv"):
        prefix = data_rows(tmp_path / "out" / relative)
        assert len(prefix) == cut
        assert prefix == data_rows(full_runs[detector] / relative)[:cut]


@pytest.mark.parametrize("detector", sorted(DETECTORS))
@pytest.mark.parametrize("relative", ["reports.csv", "nab/jumpsup.csv"])
def test_a_replay_gives_the_verdicts_of_one_update_at_a_time(detector, relative, full_runs):
    rows = [line.split(",") for line in data_rows(full_runs[detector] / relative)]
    one_by_one = make_detector(detector)
    for stamp, value, score, alarm in rows[:1500]:
        at = datetime.fromisoformat(stamp)
        at_s = (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()
        verdict = one_by_one.update(at_s, float(value))
        assert (float(score), alarm) == (verdict.score, "1" if verdict.alarm else "0"), stamp


def test_the_output_mirrors_the_input_and_keeps_its_text(inputs, full_runs):
    out = full_runs["null"]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.csv")) == [
        "nab/jumpsup.csv", "reports.csv"]
    lines = (out / "nab" / "jumpsup.csv").read_text().splitlines()
    assert lines[0] == "timestamp,value,anomaly_score,alarm"
    source = NAB_FILE.read_text().splitlines()
    assert len(lines) == len(source)
    assert lines[1] == source[1] + ",0.0,0"


def test_replay_says_how_much_it_did(inputs, tmp_path):
    result = run("replay", str(inputs), str(tmp_path / "out"))
    assert result.exit_code == 0
    assert "replayed 2 files (7,032 points)" in result.output


def test_an_output_directory_inside_the_input_is_not_replayed_again(tmp_path):
    (tmp_path / "a.csv").write_text("timestamp,value\n2026-01-01 00:00:00,1\n")
    assert run("replay", str(tmp_path), str(tmp_path / "out")).exit_code == 0
    result = run("replay", str(tmp_path), str(tmp_path / "out"))
    assert result.exit_code == 0
    assert "replayed 1 file " in result.output
    assert not (tmp_path / "out" / "out").exists()


def test_a_single_file_can_be_replayed(tmp_path):
    (tmp_path / "a.csv").write_text("timestamp,value\n2026-01-01 00:00:00,1\n")
    assert run("replay", str(tmp_path / "a.csv"), str(tmp_path / "out")).exit_code == 0
    assert (tmp_path / "out" / "a.csv").exists()


@pytest.mark.parametrize(("stamps", "expected"), [
    (["2015-02-26 21:42:53", "2015-02-26 21:47:53"], [1424986973.0, 1424987273.0]),
    (["2015-02-26T21:42:53Z", "2015-02-26T22:47:53+01:00"], [1424986973.0, 1424987273.0]),
    (["2014-04-10 07:15:00.000000", "2014-04-10 07:15:00.500000"], [1397114100.0, 1397114100.5]),
    (["2015-02-26 21:42", "2015-02-26 21:42"], [1424986920.0, 1424986920.0]),  # repeats are kept
])
def test_nab_and_iso_timestamps_are_read_as_utc(stamps, expected, tmp_path):
    from signalfire.cli.series_io import read_columns

    f = tmp_path / "s.csv"
    f.write_text("timestamp,value\n" + "".join(f"{s},1\n" for s in stamps))
    assert read_columns(f).times_s.tolist() == expected


GOOD = "timestamp,value\n2026-01-01 00:00:00,1\n2026-01-01 00:01:00,2\n"


@pytest.mark.parametrize(("content", "message"), [
    ("", "line 1: empty file"),
    ("time,value\n2026-01-01 00:00:00,1\n", "line 1: missing column timestamp"),
    ("timestamp,count\n2026-01-01 00:00:00,1\n", "line 1: missing column value"),
    ("timestamp,value\n2026-01-01 00:00:00,1\nyesterday,2\n",
     "line 3: timestamp 'yesterday' is neither"),
    ("timestamp,value\n2026-01-01 00:00:00,1\n2026-02-30 00:00:00,2\n", "line 3: timestamp"),
    ("timestamp,value\n2026-01-01 00:00:00,1\n,2\n", "line 3: timestamp ''"),
    ("timestamp,value\n2026-01-01 00:00:00,1\n2026-01-01 00:01:00,lots\n",
     "line 3: value 'lots' is not a number"),
    ("timestamp,value\n2026-01-01 00:00:00,1\n2026-01-01 00:01:00,\n", "line 3: value ''"),
    ("timestamp,value\n2026-01-01 00:00:00,nan\n", "line 2: value 'nan'"),
    ("timestamp,value\n2026-01-01 00:01:00,1\n2026-01-01 00:00:00,2\n",
     "line 3: timestamp '2026-01-01 00:00:00' is before the one above it"),
    ("timestamp,value\n2026-01-01 00:00:00,1\n\n2026-01-01 00:01:00,2\n",
     "line 3: 1 field where the header has 2"),
    ("timestamp,value\n2026-01-01 00:00:00,1,3\n", "line 2: 3 fields where the header has 2"),
    ('timestamp,value\n"2026-01-01 00:00:00",1\n"2026-01-01 00:01:00"\n',
     "line 3: 1 field where the header has 2"),
])
def test_bad_input_names_the_file_and_line_and_writes_nothing_for_it(content, message, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bad.csv").write_text(content)
    (tmp_path / "in" / "good.csv").write_text(GOOD)
    result = CliRunner().invoke(main, ["detect", "replay", str(tmp_path / "in"),
                                       str(tmp_path / "out")])
    assert result.exit_code == 2
    assert f"bad.csv: {message}" in result.output
    assert "1 of 2 files had bad input" in result.output
    assert not (tmp_path / "out" / "bad.csv").exists()
    assert (tmp_path / "out" / "good.csv").exists()
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["good.csv"]  # no temporary file


def test_quoted_fields_and_extra_columns_are_read(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text(
        'timestamp,note,value\n"2026-01-01 00:00:00","a, b",1\n2026-01-01 00:01:00,c,2\n')
    assert run("replay", str(tmp_path / "in"), str(tmp_path / "out")).exit_code == 0
    assert data_rows(tmp_path / "out" / "a.csv") == ["2026-01-01 00:00:00,1,0.0,0",
                                                     "2026-01-01 00:01:00,2,0.0,0"]


def test_an_unknown_detector_is_a_usage_error(inputs, tmp_path):
    result = CliRunner().invoke(main, ["detect", "replay", str(inputs), str(tmp_path),
                                       "--detector", "psychic"])
    assert result.exit_code == 2
    assert "unknown detector 'psychic'" in result.output


def test_list_names_the_detectors():
    result = run("list")
    assert result.exit_code == 0
    assert set(result.output.replace(" (default)", "").split()) == set(DETECTORS)


# -- score -----------------------------------------------------------------------------------

def scored_replay(tmp_path: Path, alarm_rows: dict[int, float], *, rows: int = 200) -> Path:
    """A replay output by hand: 5-minute rows, scores 0 except ``alarm_rows``."""
    out = tmp_path / "out" / "svc"
    out.mkdir(parents=True)
    lines = ["timestamp,value,anomaly_score,alarm"]
    for i in range(rows):
        stamp = datetime.fromtimestamp(1_700_000_000 + 300 * i, UTC).strftime("%Y-%m-%d %H:%M:%S")
        score = alarm_rows.get(i, 0.0)
        lines.append(f"{stamp},1,{score!r},{int(score >= 0.9)}")
    (out / "api.csv").write_text("\n".join(lines) + "\n")
    return tmp_path / "out"


def windows_file(tmp_path: Path, spans: list[tuple[int, int]]) -> Path:
    def stamp(i: int) -> str:
        return datetime.fromtimestamp(1_700_000_000 + 300 * i, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    f = tmp_path / "windows.json"
    f.write_text(json.dumps({"svc/api.csv": [[stamp(a), stamp(b)] for a, b in spans]}))
    return f


def test_score_prints_nab_scores_as_json(tmp_path):
    out = scored_replay(tmp_path, {100: 0.95, 140: 0.5, 50: 0.7})
    result = run("score", str(out), "--windows", str(windows_file(tmp_path, [(100, 119)])),
                 "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report["profiles"]) == {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}
    standard = report["profiles"]["standard"]
    assert standard["score"] == pytest.approx(100.0)
    assert standard["threshold"] == 0.95
    assert (standard["tp"], standard["fp"], standard["fn"]) == (1, 0, 0)
    assert report["threshold_mode"] == "optimised"
    (window,) = report["files"]["svc/api.csv"]["windows"]
    assert window["time_to_detection_s"] == 0.0
    assert window["start"] == window["detected_at"] == "2023-11-15T06:33:20Z"


def test_score_with_a_fixed_threshold_counts_false_alarms_per_day(tmp_path):
    out = scored_replay(tmp_path, {105: 0.95, 140: 0.5, 50: 0.7})
    result = run("score", str(out), "--windows", str(windows_file(tmp_path, [(100, 119)])),
                 "--json", "--threshold", "0.5")
    report = json.loads(result.output)
    standard = report["profiles"]["standard"]
    assert (standard["tp"], standard["fp"], standard["fn"]) == (1, 2, 0)
    assert standard["time_to_detection_s"]["median"] == 5 * 300
    outside_days = ((199 - 30) * 300 - 19 * 300) / 86_400
    assert standard["false_alarms_per_day"] == pytest.approx(2 / outside_days)


def test_score_can_use_the_alarm_column(tmp_path):
    out = scored_replay(tmp_path, {110: 0.95, 50: 0.7})
    result = run("score", str(out), "--windows", str(windows_file(tmp_path, [(100, 119)])),
                 "--json", "--alarms")
    report = json.loads(result.output)
    assert report["threshold_mode"] == "alarms"
    assert report["profiles"]["standard"]["tp"] == 1
    assert report["profiles"]["standard"]["fp"] == 0


def test_score_prints_tables(tmp_path):
    out = scored_replay(tmp_path, {100: 0.95})
    result = run("score", str(out), "--windows", str(windows_file(tmp_path, [(100, 119)])),
                 "--profile", "reward_low_FN")
    assert result.exit_code == 0
    for text in ("Per file (reward_low_FN_rate", "svc/api.csv", "Per window",
                 "2023-11-15 06:33 → 2023-11-15 08:08", "0 s", "NAB score", "100.0"):
        assert text in result.output


def test_score_notes_files_missing_on_either_side(tmp_path):
    out = scored_replay(tmp_path, {100: 0.95})
    f = tmp_path / "w.json"
    f.write_text(json.dumps({"svc/api.csv": [[1_700_030_000, 1_700_035_700]], "other.csv": []}))
    (out / "extra.csv").write_text("timestamp,value,anomaly_score,alarm\n2026-01-01 00:00:00,1,0.0,0\n")
    result = run("score", str(out), "--windows", str(f), "--json")
    notes = json.loads(result.output)["notes"]
    assert any(n.startswith("extra.csv: not in w.json") for n in notes)
    assert any("1 file of w.json not under" in n for n in notes)


@pytest.mark.parametrize(("windows", "message"), [
    ("[1, 2]", "expected an object"),
    ('{"svc/api.csv": [["2023-11-15", "soon"]]}', "'svc/api.csv'[0]: 'soon' is not a time"),
    ('{"svc/api.csv": [[5, 1]]}', "ends before it starts"),
    ('{"svc/api.csv": [[1, 2, 3]]}', "expected a pair of times (start, end)"),
    ('{"svc/api.csv": ', "not JSON"),
    ('{"svc/api.csv": []}', "no labelled window"),
])
def test_score_refuses_a_bad_windows_file(windows, message, tmp_path):
    out = scored_replay(tmp_path, {100: 0.95})
    f = tmp_path / "w.json"
    f.write_text(windows)
    result = CliRunner().invoke(main, ["detect", "score", str(out), "--windows", str(f)])
    assert result.exit_code == 2
    assert message in result.output


def test_score_refuses_files_that_are_not_replays(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "a.csv").write_text(GOOD)
    f = tmp_path / "w.json"
    f.write_text("{}")
    result = CliRunner().invoke(main, ["detect", "score", str(tmp_path / "raw"), "--windows", str(f)])
    assert result.exit_code == 2
    assert "a.csv: line 1: missing column anomaly_score" in result.output


def test_score_on_nab_dev_matches_the_scorer(tmp_path):
    """End to end on the repository's NAB copy: replay, score, and the known null score."""
    out = tmp_path / "out"
    assert run("replay", str(NAB_DEV / "data"), str(out), "--detector", "null").exit_code == 0
    result = run("score", str(out), "--windows", str(NAB_DEV / "windows.json"), "--json")
    report = json.loads(result.output)
    assert len(report["files"]) == 31
    for profile in report["profiles"].values():
        assert profile["score"] == 0.0
        assert profile["fn"] == 57
