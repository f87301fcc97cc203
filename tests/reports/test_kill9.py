"""SIGKILL the server mid-load: every acknowledged report is stored, none twice.

The intake answers 201 only after the group commit. So after a crash and a
restart on the same database (SQLite, and the real PostgreSQL):

- every report acknowledged to a client is in the database:
  ``stored >= acknowledged``;
- nothing is stored twice, and only reports in flight at the kill may be
  stored unacknowledged (one per client connection at most):
  ``stored <= acknowledged + CONCURRENCY``;
- the per-minute counts agree with the raw rows they were counted from.

Server (``_server.py``) and load (``_load.py``) are real subprocesses; the load
writes each acknowledgement to a file, fsync'd, before sending the next.
"""

from __future__ import annotations

import collections
import os
import re
import select
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy import select as sql_select

from signalfire.store import open_store
from signalfire.store import schema as t

HERE = Path(__file__).resolve().parent
POSTGRES_URL = os.environ.get("SIGNALFIRE_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")
CONCURRENCY = 20
START_TIMEOUT_S = 20.0


# -- databases ------------------------------------------------------------------------

def seed(url: str) -> str:
    store = open_store(url)
    try:
        page = store.put_page("app", name="App", now=datetime.now(UTC))
        store.set_report_categories(page.id, [("app", "App not loading")])
        return page.id
    finally:
        store.close()


# -- processes ------------------------------------------------------------------------

class ServerProcess:
    def __init__(self, url: str, port: int, log: Path) -> None:
        self.log = log
        self._out = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "_server.py"), url, str(port)],
            stdout=subprocess.PIPE, stderr=self._out, stdin=subprocess.DEVNULL,
            start_new_session=True)
        self.port = self._read_port()

    def _read_port(self) -> int:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                pytest.fail(f"server did not start: {self.tail()}")
            chunk = os.read(self.proc.stdout.fileno(), 64)
            if not chunk:
                pytest.fail(f"server exited: {self.tail()}")
            line += chunk
        match = re.fullmatch(rb"port=(\d+)\n", line)
        assert match, line
        return int(match.group(1))

    def tail(self) -> str:
        self._out.flush()
        return self.log.read_text(errors="replace")[-3000:] or "(no output)"

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._close()

    def _close(self) -> None:
        if self.proc.stdout is not None and not self.proc.stdout.closed:
            self.proc.stdout.close()
        self._out.close()


def read_acks(path: Path) -> list[tuple[str, bool]]:
    if not path.exists():
        return []
    acks = []
    for line in path.read_text().splitlines():
        assert not line.startswith("ERR"), f"the load got an unexpected answer: {line}"
        country, counted = line.split()
        acks.append((country, counted == "1"))
    return acks


def wait_for_acks(path: Path, n: int, timeout_s: float, server: ServerProcess) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = len(read_acks(path))
        if got >= n:
            return got
        if server.proc.poll() is not None:
            pytest.fail(f"server exited: {server.tail()}")
        time.sleep(0.05)
    pytest.fail(f"fewer than {n} reports acknowledged in {timeout_s} s: {server.tail()}")


# -- the test -------------------------------------------------------------------------

def test_acknowledged_reports_survive_sigkill(any_db_url, tmp_path):
    page_id = seed(any_db_url)
    acks_file, stop_file = tmp_path / "acks.txt", tmp_path / "stop"
    log = tmp_path / "server.log"
    started = datetime.now(UTC) - timedelta(minutes=1)

    server = ServerProcess(any_db_url, 0, log)
    load = subprocess.Popen(
        [sys.executable, str(HERE / "_load.py"), str(server.port), str(acks_file),
         str(stop_file), str(CONCURRENCY), "app"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    restarted: ServerProcess | None = None
    try:
        # Under load for ~1.5 s (and at least a few hundred reports), then SIGKILL.
        wait_for_acks(acks_file, 200, 15.0, server)
        time.sleep(1.5)
        server.kill9()
        acked_at_kill = len(read_acks(acks_file))
        time.sleep(0.3)  # the load keeps knocking on a closed port meanwhile
        restarted = ServerProcess(any_db_url, server.port, log)
        # The load carries on against the restarted server.
        wait_for_acks(acks_file, acked_at_kill + 200, 15.0, restarted)
        time.sleep(1.0)
        stop_file.touch()
        out, _ = load.communicate(timeout=20)
        assert load.returncode == 0, f"load failed: {out.decode(errors='replace')[-2000:]}"
    finally:
        if load.poll() is None:
            load.kill()
            load.wait(10)
        if restarted is not None:
            restarted.stop()
        if server.proc.poll() is None:
            server.stop()

    acks = read_acks(acks_file)
    acked = len(acks)
    assert acked > acked_at_kill >= 200, (acked, acked_at_kill)
    store = open_store(any_db_url, migrate=False)
    try:
        stored = store.count_raw_reports(page_id)
        with store._read() as conn:
            r = t.reports.c
            stored_counted = int(conn.execute(sql_select(func.count()).select_from(t.reports)
                                              .where(r.page_id == page_id, r.counted)
                                              ).scalar_one())
            stored_by_country = dict(conn.execute(
                sql_select(r.country, func.count()).where(r.page_id == page_id)
                .group_by(r.country)).all())
        until = datetime.now(UTC) + timedelta(minutes=2)
        totals = dict(store.report_totals(page_id, since=started, until=until, by="country"))
    finally:
        store.close()

    # Every acknowledged report is stored; at most one per client was in flight
    # at the kill and may be stored without an acknowledgement; none is stored twice.
    assert acked <= stored <= acked + CONCURRENCY, (acked, stored)
    acked_by_country = collections.Counter(c for c, _ in acks)
    for country, n in acked_by_country.items():
        assert n <= stored_by_country.get(country, 0) <= n + CONCURRENCY, (
            country, n, stored_by_country)
    # Every report comes from a new address, so every one counted: the
    # acknowledgements said so, and the minute counts match the raw rows.
    assert all(counted for _, counted in acks)
    assert stored_counted == stored
    assert sum(totals.values()) == stored_counted, (totals, stored_counted)
    assert totals == stored_by_country
