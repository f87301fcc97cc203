"""How many crowd reports per second does the intake acknowledge?

Run: ``.venv/bin/python bench/ingest.py [--duration 10] [--connections 64]
[--batch-connections 8] [--batch-size 1000] [--no-postgres]``

Servers run in their own processes with the uvicorn settings of ``signalfire
serve`` (``_ingest_serve.py``), pinned to core 0, wrk to core 1 (as in
``status_page.py``). Measured with ``wrk --latency`` and a Lua script:

- ``hello_post``: a bare ASGI hello-world answering the same POST, the limit
  of the stack;
- ``single``: ``POST /api/v1/reports`` with a JSON report; every request comes
  from a new address (``X-Forwarded-For``, believed from 127.0.0.1 like from a
  local reverse proxy), so the per-address rate limit (10/min, burst 5) never
  answers 429 and every report is a real, committed one;
- ``batch``: ``POST /api/v1/reports/batch`` with ``--batch-size`` reports and a
  collector token; reports/s = batches/s x batch size;
- ``batch_all_cores``: the same, after the server is let onto every core (its
  writer thread leaves the GIL while the database works) and wrk unpinned: the
  machine's rate, which is what ``batch_reports_per_s_*`` reports (the pinned
  one is ``..._one_core``).

``foreign_cpu_pct_max`` is the most CPU that processes other than the server
and wrk took during a run, in % of the machine; on PostgreSQL runs that
includes the database server itself.

Each on a fresh SQLite file and on a fresh schema of the real PostgreSQL
(``SIGNALFIRE_TEST_POSTGRES_URL``, default postgresql://postgres@127.0.0.1:5432/test;
skipped with a warning when unreachable). A non-2xx answer fails the run. The
last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from status_page import (  # noqa: E402
    HOST,
    BenchError,
    ForeignLoad,
    Server,
    WrkResult,
    cpu_pins,
    parse_wrk,
    process_cpu_s,
)

POSTGRES_URL = os.environ.get("SIGNALFIRE_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")
GOAL_SINGLE_RPS = 5_000
GOAL_SINGLE_P99_MS = 100.0
GOAL_BATCH_REPORTS_S = 100_000
PAGE = "app"

SINGLE_LUA = r"""
-- One report per request, each from a new address: 10.<thread>.<hi>.<lo>.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
local body = '{"page":"%s","category":"app","country":"BR"}'
local path = "%s"
request = function()
  n = n + 1
  local xff = string.format("10.%%d.%%d.%%d", tid, math.floor(n / 256) %% 256, n %% 256)
  return wrk.format("POST", path, {["Content-Type"] = "application/json",
                                   ["X-Forwarded-For"] = xff}, body)
end
"""

BATCH_LUA = r"""
local f = assert(io.open("%s", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
"""


def IngestServer(name: str, args: list[str], *, pin: list[str], log_dir: Path) -> Server:
    """A ``_ingest_serve.py`` process."""
    return Server(name, args, pin=pin, log_dir=log_dir, script="_ingest_serve.py")


def post(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("POST", path, body, {"Content-Type": "application/json", **headers})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_ready(server: Server) -> None:
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise BenchError(f"{server.name} server exited: {server.log_tail()}")
        try:
            post(server.port, "/healthz-probe", b"{}", {})
            return
        except OSError:
            time.sleep(0.1)
    raise BenchError(f"{server.name} never answered: {server.log_tail()}")


def run_wrk(wrk: str, url: str, script: Path, *, threads: int, connections: int,
            duration_s: int, pin: list[str]) -> WrkResult:
    argv = [*pin, wrk, f"-t{threads}", f"-c{connections}", f"-d{duration_s}s", "--latency",
            "--timeout", "10s", "-s", str(script), url]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=duration_s + 40)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"wrk did not finish on {url}") from exc
    if done.returncode != 0:
        raise BenchError(f"wrk failed on {url} (exit {done.returncode}):\n{done.stderr}")
    result = parse_wrk(done.stdout)
    if result.non_2xx_3xx:
        raise BenchError(f"{result.non_2xx_3xx} non-2xx/3xx responses from {url}")
    if result.requests == 0:
        raise BenchError(f"wrk completed no request on {url}")
    return result


# -- databases ------------------------------------------------------------------------

def seed(url: str) -> str:
    """A page with one report category, and a collector; returns the collector token."""
    from signalfire.store import open_store

    store = open_store(url)
    try:
        now = datetime.now(UTC)
        page = store.put_page(PAGE, name="App", now=now)
        store.set_report_categories(page.id, [("app", "App not loading")])
        return store.create_collector("bench", now=now)[1]
    finally:
        store.close()


class PostgresSchema:
    def __init__(self) -> None:
        import sqlalchemy

        self.schema = "sf_bench_" + secrets.token_hex(4)
        self.admin = sqlalchemy.create_engine(
            POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"))
        with self.admin.begin() as conn:
            conn.execute(sqlalchemy.text(f"CREATE SCHEMA {self.schema}"))
        sep = "&" if "?" in POSTGRES_URL else "?"
        self.url = f"{POSTGRES_URL}{sep}options=-csearch_path%3D{self.schema}"

    def drop(self) -> None:
        import sqlalchemy

        with self.admin.begin() as conn:
            conn.execute(sqlalchemy.text(f"DROP SCHEMA {self.schema} CASCADE"))
        self.admin.dispose()


# -- the run --------------------------------------------------------------------------

def unpin(pid: int) -> None:
    """Let every thread of ``pid`` run on every core."""
    cores = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
    subprocess.run(["taskset", "-a", "-p", "-c", cores, str(pid)], check=True,
                   capture_output=True)


def measure_db(label: str, url: str, args: argparse.Namespace, wrk: str, tmp: Path,
               server_pin: list[str], wrk_pin: list[str],
               foreign: list[float]) -> dict[str, tuple[WrkResult, float]]:
    token = seed(url)
    single_lua = tmp / f"single_{label}.lua"
    single_lua.write_text(SINGLE_LUA % (PAGE, "/api/v1/reports"))
    body = tmp / f"batch_{label}.json"
    body.write_text(json.dumps({"reports": [
        {"page": PAGE, "category": "app", "country": "BR", "reporter": f"install-{i}"}
        for i in range(args.batch_size)]}))
    batch_lua = tmp / f"batch_{label}.lua"
    batch_lua.write_text(BATCH_LUA % (body, token))
    out: dict[str, tuple[WrkResult, float]] = {}
    server = IngestServer(f"signalfire-{label}", ["signalfire", url], pin=server_pin,
                          log_dir=tmp)
    try:
        wait_ready(server)
        for i in range(20):  # warm: every answer must be an acknowledgement
            status, text = post(server.port, "/api/v1/reports",
                                json.dumps({"page": PAGE, "category": "app"}).encode(),
                                {"X-Forwarded-For": f"192.168.0.{i}"})
            if status != 201:
                raise BenchError(f"single report answered {status}: {text[:300]!r}")
        for _ in range(3):
            status, text = post(server.port, "/api/v1/reports/batch", body.read_bytes(),
                                {"Authorization": f"Bearer {token}"})
            if status != 200:
                raise BenchError(f"batch answered {status}: {text[:300]!r}")
        load = ForeignLoad([server.proc.pid])
        for kind, script, path, conns in (
                ("single", single_lua, "/api/v1/reports", args.connections),
                ("batch", batch_lua, "/api/v1/reports/batch", args.batch_connections),
                ("batch_all_cores", batch_lua, "/api/v1/reports/batch",
                 args.batch_connections)):
            pin = wrk_pin
            if kind == "batch_all_cores":
                if not server_pin:
                    continue  # nothing was pinned: "batch" already had every core
                # The same server, now free to run its writer thread (which leaves
                # the GIL while the database works) on the second core; wrk, light
                # with 8 connections of prebuilt bodies, shares the machine.
                unpin(server.proc.pid)
                pin = []
            cpu = process_cpu_s(server.proc.pid)
            with load.during(foreign):
                result = run_wrk(wrk, f"http://{HOST}:{server.port}{path}", script,
                                 threads=args.threads, connections=conns,
                                 duration_s=args.duration, pin=pin)
            cpu_us = 1e6 * (process_cpu_s(server.proc.pid) - cpu) / result.requests
            out[kind] = (result, cpu_us)
    finally:
        server.stop()
    return out


def measure(args: argparse.Namespace, wrk: str) -> tuple[dict[str, object], list[list[str]]]:
    server_pin, wrk_pin = cpu_pins()
    results: dict[str, tuple[WrkResult, float]] = {}
    foreign: list[float] = []
    with tempfile.TemporaryDirectory(prefix="signalfire-ingest-") as tmp_name:
        tmp = Path(tmp_name)
        hello = IngestServer("hello", ["hello"], pin=server_pin, log_dir=tmp)
        try:
            wait_ready(hello)
            lua = tmp / "hello.lua"
            lua.write_text(SINGLE_LUA % (PAGE, "/"))
            cpu = process_cpu_s(hello.proc.pid)
            with ForeignLoad([hello.proc.pid]).during(foreign):
                    r = run_wrk(wrk, f"http://{HOST}:{hello.port}/", lua, threads=args.threads,
                            connections=args.connections, duration_s=args.duration,
                            pin=wrk_pin)
            results["hello_post"] = (r, 1e6 * (process_cpu_s(hello.proc.pid) - cpu) / r.requests)
        finally:
            hello.stop()
        for kind, res in measure_db("sqlite", f"sqlite:///{tmp / 'ingest.db'}", args, wrk,
                                    tmp, server_pin, wrk_pin, foreign).items():
            results[f"{kind}_sqlite"] = res
        if not args.no_postgres:
            try:
                pg = PostgresSchema()
            except Exception as exc:
                print(f"warning: PostgreSQL not reachable at {POSTGRES_URL} ({exc}); "
                      "NOT measured", file=sys.stderr)
            else:
                try:
                    for kind, res in measure_db("postgres", pg.url, args, wrk, tmp,
                                                server_pin, wrk_pin, foreign).items():
                        results[f"{kind}_postgres"] = res
                finally:
                    pg.drop()

    def get(key: str, f):
        return round(f(results[key][0]), 1) if key in results else None

    bs = args.batch_size

    def best(db: str) -> float | None:
        rates = [get(k, lambda r: r.requests_per_s * bs)
                 for k in (f"batch_{db}", f"batch_all_cores_{db}") if k in results]
        return max(rates) if rates else None

    summary: dict[str, object] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "single_rps_sqlite": get("single_sqlite", lambda r: r.requests_per_s),
        "single_p99_ms_sqlite": get("single_sqlite", lambda r: r.p99_ms),
        # The machine's batch rate: the server on every core when it was pinned.
        "batch_reports_per_s_sqlite": best("sqlite"),
        "batch_reports_per_s_sqlite_one_core": get("batch_sqlite",
                                                   lambda r: r.requests_per_s * bs),
        "single_rps_postgres": get("single_postgres", lambda r: r.requests_per_s),
        "single_p99_ms_postgres": get("single_postgres", lambda r: r.p99_ms),
        "batch_reports_per_s_postgres": best("postgres"),
        "batch_reports_per_s_postgres_one_core": get("batch_postgres",
                                                     lambda r: r.requests_per_s * bs),
        "hello_post_rps": get("hello_post", lambda r: r.requests_per_s),
        "connections": args.connections, "batch_connections": args.batch_connections,
        "batch_size": bs, "duration_s": args.duration, "pinned": bool(server_pin),
        "cpus": os.cpu_count(),
        "foreign_cpu_pct_max": round(max(foreign), 1) if foreign else None,
    }
    for db in ("sqlite", "postgres"):
        if f"single_{db}" in results:
            s = results[f"single_{db}"][0]
            summary[f"goal_single_{db}"] = (s.requests_per_s >= GOAL_SINGLE_RPS
                                            and s.p99_ms < GOAL_SINGLE_P99_MS
                                            and not s.socket_errors.get("timeout"))
            summary[f"goal_batch_{db}"] = (summary[f"batch_reports_per_s_{db}"] or 0) >= \
                GOAL_BATCH_REPORTS_S
    rows = []
    for key, (r, cpu_us) in results.items():
        per = bs if key.startswith("batch") else 1
        rows.append([key, f"{r.requests_per_s:,.0f}", f"{r.requests_per_s * per:,.0f}",
                     f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}", f"{cpu_us / per:.1f}",
                     str(sum(r.socket_errors.values()))])
    return summary, rows


def print_table(rows: list[list[str]]) -> None:
    header = ["what", "req/s", "reports/s", "p50 ms", "p99 ms", "cpu µs/report",
              "sock err"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(row, widths, strict=True))))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (10)")
    parser.add_argument("--connections", type=int, default=64,
                        help="connections for single reports and hello (64)")
    parser.add_argument("--batch-connections", type=int, default=8,
                        help="connections for batches (8)")
    parser.add_argument("--batch-size", type=int, default=1000, help="reports per batch (1000)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    if min(args.duration, args.connections, args.batch_connections, args.threads) < 1:
        parser.error("--duration, --connections, --batch-connections, --threads must be >= 1")
    if not 1 <= args.batch_size <= 10_000:
        parser.error("--batch-size must be 1..10000")
    wrk = shutil.which("wrk")
    if wrk is None:
        print("error: wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        summary, rows = measure(args, wrk)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print_table(rows)
    for db in ("sqlite", "postgres"):
        if f"goal_single_{db}" in summary:
            print(f"{db}: single >= {GOAL_SINGLE_RPS:,}/s with p99 < {GOAL_SINGLE_P99_MS:g} ms: "
                  f"{'met' if summary[f'goal_single_{db}'] else 'MISSED'}; batch >= "
                  f"{GOAL_BATCH_REPORTS_S:,} reports/s: "
                  f"{'met' if summary[f'goal_batch_{db}'] else 'MISSED'}")
    print(json.dumps(summary, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
