"""How fast is the cached public status page, next to the fastest thing uvicorn can serve?

Run: ``.venv/bin/python bench/status_page.py [--duration 10] [--connections 256] [--threads 2]``

It starts two servers on 127.0.0.1, each in its own process with the uvicorn
settings of ``signalfire serve`` (see ``_serve.py``):

- a bare ASGI hello-world (``_hello.py``), the practical limit of the stack;
- the real Signalfire app on a fresh SQLite database seeded with the demo page.

Each URL is warmed with a few requests, then loaded by ``wrk --latency`` for
``--duration`` seconds. With two or more cores the servers are pinned to core 0
and wrk to core 1, so that neither steals the other's CPU. A non-2xx/3xx answer
fails the run (exit 1); socket errors are reported, and a timeout misses the
goal. The last line printed is one JSON object for scripts; docs/benchmarks.md
explains the numbers and the goal.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import resource
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
HOST = "127.0.0.1"  # the only address this benchmark ever sends traffic to
GOAL_RATIO = 0.80
GOAL_P99_MS = 50.0
WARMUP_REQUESTS = 50
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0
FOREIGN_CPU_WARN_PCT = 5.0


class BenchError(Exception):
    """The benchmark could not measure what it claims to: no numbers are printed."""


@dataclass(frozen=True)
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx_3xx: int
    socket_errors: dict[str, int]


@dataclass(frozen=True)
class Target:
    name: str
    port: int
    path: str

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}{self.path}"


# -- wrk ----------------------------------------------------------------------------

_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def parse_duration_ms(text: str) -> float:
    """wrk prints times as ``812.00us``, ``4.51ms``, ``1.02s`` or ``1.00m``."""
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text.strip())
    if match is None:
        raise BenchError(f"wrk printed a time we cannot read: {text!r}")
    return float(match.group(1)) * _TIME_UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    rps = re.search(r"^Requests/sec:\s+([0-9.]+)", output, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    if rps is None or p50 is None or p99 is None or total is None:
        raise BenchError(f"wrk output lacks Requests/sec or the --latency lines:\n{output}")
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                     output)
    errors = dict(zip(("connect", "read", "write", "timeout"),
                      (int(n) for n in sock.groups()), strict=True)) if sock else {}
    return WrkResult(requests_per_s=float(rps.group(1)), p50_ms=parse_duration_ms(p50.group(1)),
                     p99_ms=parse_duration_ms(p99.group(1)), requests=int(total.group(1)),
                     non_2xx_3xx=int(non2xx.group(1)) if non2xx else 0, socket_errors=errors)


def run_wrk(wrk: str, url: str, *, threads: int, connections: int, duration_s: int,
            pin: list[str]) -> WrkResult:
    argv = [*pin, wrk, f"-t{threads}", f"-c{connections}", f"-d{duration_s}s", "--latency", url]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=duration_s + 30)
    except subprocess.TimeoutExpired as exc:  # run() has killed wrk already
        raise BenchError(f"wrk did not finish within {duration_s + 30} s on {url}") from exc
    if done.returncode != 0:
        raise BenchError(f"wrk failed on {url} (exit {done.returncode}):\n{done.stderr}")
    result = parse_wrk(done.stdout)
    # A non-2xx answer is an error page measured as if it were the document.
    # Socket errors are reported rather than fatal: a timed-out request is
    # left out of wrk's latency histogram, so the goal verdict counts it instead.
    if result.non_2xx_3xx:
        raise BenchError(f"{result.non_2xx_3xx} non-2xx/3xx responses from {url}")
    if result.requests == 0:
        raise BenchError(f"wrk completed no request on {url}")
    return result


# -- servers --------------------------------------------------------------------------

class Server:
    """One ``_serve.py`` process; ``stop()`` ends it, politely first, within bounded time."""

    def __init__(self, name: str, args: list[str], *, pin: list[str], log_dir: Path,
                 script: str = "_serve.py") -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [*pin, sys.executable, str(BENCH_DIR / script), *args],
            stdout=subprocess.PIPE, stderr=self._log, stdin=subprocess.DEVNULL,
            start_new_session=True)  # a Ctrl-C reaches us, and we stop it ourselves
        self.port = self._read_port()

    def _read_port(self) -> int:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                raise BenchError(f"{self.name} server did not start: {self.log_tail()}")
            chunk = os.read(self.proc.stdout.fileno(), 64)
            if not chunk:
                raise BenchError(f"{self.name} server exited: {self.log_tail()}")
            line += chunk
        match = re.fullmatch(rb"port=(\d+)\n", line)
        if match is None:
            raise BenchError(f"{self.name} server said {line!r} instead of its port")
        return int(match.group(1))

    def wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} server exited: {self.log_tail()}")
            with contextlib.suppress(OSError):
                status, _ = fetch(self.port, path)
                if status == 200:
                    return
            time.sleep(0.1)
        raise BenchError(f"{self.name} server never answered {path}: {self.log_tail()}")

    def log_tail(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-2000:] or "(no output)"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # uvicorn shuts down cleanly on SIGTERM
            try:
                self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT_S)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()


def fetch(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def warm(target: Target) -> int:
    """A few requests on one kept-alive connection; returns the body size in bytes."""
    conn = http.client.HTTPConnection(HOST, target.port, timeout=5)
    size = 0
    try:
        for _ in range(WARMUP_REQUESTS):
            conn.request("GET", target.path)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise BenchError(f"{target.url} answered {response.status} while warming up")
            size = len(body)
    finally:
        conn.close()
    return size


def seed_database(path: Path) -> str:
    from signalfire.sim.demo import seed_demo
    from signalfire.store import open_store

    url = f"sqlite:///{path}"
    store = open_store(url)
    try:
        seed_demo(store, now=datetime.now(UTC))
    finally:
        store.close()
    return url


@contextlib.contextmanager
def servers(db_url: str, *, hello_bytes: int, pin: list[str],
            log_dir: Path) -> Iterator[dict[str, Server]]:
    started: list[Server] = []
    try:
        started.append(Server("hello", ["hello", str(hello_bytes)], pin=pin, log_dir=log_dir))
        started.append(Server("signalfire", ["signalfire", db_url], pin=pin, log_dir=log_dir))
        yield {s.name: s for s in started}
    finally:
        for server in started:
            server.stop()


# -- the run --------------------------------------------------------------------------

def cpu_pins() -> tuple[list[str], list[str]]:
    """``taskset`` prefixes for (servers, wrk); none when there is nothing to split."""
    taskset = shutil.which("taskset")
    cores = sorted(os.sched_getaffinity(0))
    if taskset is None or len(cores) < 2:
        return [], []
    return [taskset, "-c", str(cores[0])], [taskset, "-c", str(cores[1])]


CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """User plus system CPU time of a live process, 0 when it cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(stat[11]) + int(stat[12])) / CLOCK_TICKS_PER_S  # utime, stime


class ForeignLoad:
    """How much CPU processes other than ours used while wrk ran, in % of the machine.

    On a shared machine (other builds, test suites) a busy neighbour halves the
    numbers without any sign in wrk's output; this makes it visible.
    """

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.available = Path("/proc/stat").exists()

    def _sample(self) -> tuple[float, float, float]:
        # user nice system idle iowait irq softirq steal: interrupts are left
        # out, since loopback TCP for our own processes is counted there.
        cpu = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        children = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once reaped
        ours = sum(process_cpu_s(pid) for pid in self.pids)
        ours += children.ru_utime + children.ru_stime
        busy = (cpu[0] + cpu[1] + cpu[2] + cpu[7]) / CLOCK_TICKS_PER_S
        return busy, sum(cpu) / CLOCK_TICKS_PER_S, ours

    @contextlib.contextmanager
    def during(self, into: list[float]) -> Iterator[None]:
        before = self._sample() if self.available else None
        yield
        if before is not None:
            busy, total, ours = (b - a for a, b in zip(before, self._sample(), strict=True))
            into.append(max(0.0, 100.0 * (busy - ours) / max(total, 1e-9)))


def measure(args: argparse.Namespace, wrk: str) -> tuple[dict[str, object], list[list[str]]]:
    server_pin, wrk_pin = cpu_pins()
    runs: dict[str, list[WrkResult]] = {"hello": [], "summary": [], "page": []}
    cpu_us: dict[str, list[float]] = {k: [] for k in runs}
    sizes: dict[str, int] = {}
    foreign: list[float] = []
    with tempfile.TemporaryDirectory(prefix="signalfire-bench-") as tmp:
        db_url = seed_database(Path(tmp) / "bench.db")
        with servers(db_url, hello_bytes=args.hello_bytes, pin=server_pin,
                     log_dir=Path(tmp)) as running:
            targets = {
                "hello": Target("hello", running["hello"].port, "/"),
                "summary": Target("signalfire", running["signalfire"].port,
                                  "/api/v2/summary.json"),
                "page": Target("signalfire", running["signalfire"].port, "/"),
            }
            running["hello"].wait_ready("/")
            running["signalfire"].wait_ready("/api/v2/summary.json")
            load = ForeignLoad([s.proc.pid for s in running.values()])
            # Rounds interleave the targets, so that a neighbour's burst of
            # work lands on all of them rather than on one.
            for _ in range(args.rounds):
                for key, target in targets.items():
                    sizes[key] = warm(target)
                    pid = running[target.name].proc.pid
                    cpu_before = process_cpu_s(pid)
                    with load.during(foreign):
                        result = run_wrk(wrk, target.url, threads=args.threads,
                                         connections=args.connections,
                                         duration_s=args.duration, pin=wrk_pin)
                    runs[key].append(result)
                    # The server's CPU per request moves less with a noisy host
                    # than requests/s does.
                    cpu_us[key].append(1e6 * (process_cpu_s(pid) - cpu_before)
                                       / result.requests)
    rps = {k: statistics.median(r.requests_per_s for r in rs) for k, rs in runs.items()}
    p99 = {k: statistics.median(r.p99_ms for r in rs) for k, rs in runs.items()}
    timeouts = {k: sum(r.socket_errors.get("timeout", 0) for r in rs) for k, rs in runs.items()}
    summary: dict[str, object] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        **{f"{k}_rps": round(rps[k], 1) for k in runs},
        "summary_ratio": round(rps["summary"] / rps["hello"], 3),
        "page_ratio": round(rps["page"] / rps["hello"], 3),
        **{f"{k}_p99_ms": round(p99[k], 2) for k in runs},
        **{f"{k}_bytes": sizes[k] for k in runs},
        **{f"{k}_server_cpu_us": round(statistics.median(cpu_us[k]), 1) for k in runs},
        **{f"{k}_socket_errors": sum(sum(r.socket_errors.values()) for r in rs)
           for k, rs in runs.items()},
        "connections": args.connections,
        "threads": args.threads,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "pinned": bool(server_pin),
        "cpus": os.cpu_count(),
        "foreign_cpu_pct": round(max(foreign), 1) if foreign else None,
    }
    # A request that timed out has no place in wrk's latency histogram, so its
    # p99 would look better than the truth: any timeout misses the goal.
    summary["goal_met"] = (rps["summary"] / rps["hello"] >= GOAL_RATIO
                           and p99["summary"] < GOAL_P99_MS and timeouts["summary"] == 0)
    rows = [[key, targets[key].url, str(sizes[key]), f"{rps[key]:,.0f}",
             f"{statistics.median(r.p50_ms for r in rs):.2f}", f"{p99[key]:.2f}",
             f"{rps[key] / rps['hello']:.0%}",
             f"{statistics.median(cpu_us[key]):.1f}",
             " ".join(f"{r.requests_per_s:,.0f}" for r in rs)]
            for key, rs in runs.items()]
    return summary, rows


def print_table(rows: list[list[str]]) -> None:
    header = ["what", "url", "bytes", "req/s", "p50 ms", "p99 ms", "of hello", "cpu µs/req",
              "each round"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(row, widths, strict=True))))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per URL (10)")
    parser.add_argument("--connections", type=int, default=256, help="open connections (256)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--hello-bytes", type=int, default=0,
                        help="pad the hello-world body to this size, e.g. that of "
                             "summary.json, for a like-for-like limit (28-byte body)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every URL this many times, interleaved; "
                             "medians are reported (1)")
    args = parser.parse_args(argv)
    if min(args.duration, args.connections, args.threads, args.rounds) < 1:
        parser.error("--duration, --connections, --threads and --rounds must be at least 1")
    if args.hello_bytes < 0:
        parser.error("--hello-bytes cannot be negative")
    if args.connections < args.threads:
        parser.error("wrk needs at least one connection per thread")
    wrk = shutil.which("wrk")
    if wrk is None:
        print("error: wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 1
    # SIGTERM unwinds like Ctrl-C does, through the finally that stops the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        summary, rows = measure(args, wrk)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print_table(rows)
    foreign = summary["foreign_cpu_pct"]
    if isinstance(foreign, float) and foreign > FOREIGN_CPU_WARN_PCT:
        print(f"warning: other processes used up to {foreign:.0f}% of the machine's CPU "
              "during a measurement; these numbers are low by an unknown amount")
    verdict = "met" if summary["goal_met"] else "MISSED"
    print(f"goal (summary.json >= {GOAL_RATIO:.0%} of hello, p99 < {GOAL_P99_MS:g} ms "
          f"at {args.connections} connections): {verdict}")
    print(json.dumps(summary, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
