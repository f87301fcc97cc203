"""`signalfire simulate`: files a backtest can read, the same for the same seed."""

import csv
import itertools
import json
from datetime import datetime

import pytest
from click.testing import CliRunner

from signalfire.cli.main import main


def simulate(*args):
    return CliRunner().invoke(main, ["simulate", *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    result = simulate("--days", "4", "--seed", "3", "--outages", "3", "--bumps", "1",
                      "--busy-days", "0", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def test_every_series_is_a_timestamp_value_csv_of_one_row_per_minute(out):
    files = sorted(out.rglob("*.csv"))
    assert len(files) == 1 + 16 + 6 + 5 + 5 * 5 * 2
    for path in (out / "reports/total.csv", out / "reports/country/BR.csv",
                 out / "reports/category/app-not-loading.csv", out / "probes/eu-west/feed/latency_ms.csv"):
        with path.open(newline="") as f:
            rows = list(csv.reader(f))
        assert rows[0] == ["timestamp", "value"]
        assert len(rows) == 1 + 4 * 1440
        stamps = [datetime.strptime(t, "%Y-%m-%d %H:%M:%S") for t, _ in rows[1:]]
        assert stamps[0] == datetime(2026, 1, 5)
        assert all((b - a).total_seconds() == 60 for a, b in itertools.pairwise(stamps))
        assert all(float(v) >= 0 for _, v in rows[1:])


def test_windows_name_every_series_and_parse_in_nabs_format(out):
    windows = json.loads((out / "windows.json").read_text())
    files = {p.relative_to(out).as_posix() for p in out.rglob("*.csv")}
    assert set(windows) == files
    assert windows["reports/total.csv"], "the outages are labelled on the total"
    for spans in windows.values():
        for start, end in spans:
            assert datetime.strptime(start, "%Y-%m-%d %H:%M:%S.%f") < \
                datetime.strptime(end, "%Y-%m-%d %H:%M:%S.%f")


def test_faults_say_kind_start_end_scope_and_magnitude(out):
    faults = json.loads((out / "faults.json").read_text())
    assert sum(f["outage"] for f in faults) == 3
    assert [f["kind"] for f in faults if not f["outage"]] == ["benign_bump"]
    for fault in faults:
        assert {"kind", "start", "end", "scope", "magnitude"} <= set(fault)
        assert set(fault["scope"]) == {"regions", "countries", "components"}
        assert fault["start"] < fault["end"]
    outages = [f for f in faults if f["outage"]]
    total = json.loads((out / "windows.json").read_text())["reports/total.csv"]
    assert [w[0][:19] for w in total] == [f["start"] for f in outages]


def test_the_same_seed_writes_the_same_files(out, tmp_path):
    assert simulate("--days", "4", "--seed", "3", "--outages", "3", "--bumps", "1",
                    "--busy-days", "0", "--out", str(tmp_path)).exit_code == 0
    for name in ("reports/total.csv", "probes/us-east/login/failed.csv", "windows.json", "faults.json"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes()


def test_no_probes_writes_only_reports(tmp_path):
    assert simulate("--days", "2", "--no-probes", "--out", str(tmp_path)).exit_code == 0
    assert not (tmp_path / "probes").exists()
    assert (tmp_path / "reports/total.csv").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--days", "0"], "'--days': 0 is not in the range"),
    (["--days", "3", "--busy-days", "5"], "5 busy days do not fit in 3 days"),
    (["--base-rate", "0"], "'--base-rate'"),
    (["--small-share", "1.5"], "'--small-share'"),
    (["--start", "yesterday"], "'--start'"),
    ([], "Missing option '--out'"),
])
def test_bad_options_get_a_clear_error(args, message, tmp_path):
    out = [] if not args else ["--out", str(tmp_path / "x")]
    result = simulate(*args, *out)
    assert result.exit_code == 2
    assert message in result.output


def test_out_must_not_be_a_file(tmp_path):
    path = tmp_path / "file"
    path.write_text("")
    result = simulate("--days", "1", "--out", str(path))
    assert result.exit_code == 2
    assert "is a file" in result.output
