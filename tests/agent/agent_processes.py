"""Real processes for the agent tests: the `signalfire` server and agents as
users start them, and a tiny HTTP target on loopback that the test controls.

Everything listens on 127.0.0.1; each process writes its output to a file in
the test's directory (read on failure), and ``World.close()`` kills whatever
is still running.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx

SIGNALFIRE = str(Path(sys.executable).parent / "signalfire")
T = TypeVar("T")

PAGE_FILE = """\
pages:
  - slug: app
    name: App
    components:
      - name: API
    monitors:
      - name: api-http
        kind: http
        component: API
        target: {target}
        interval: 1s
        timeout: 2s
        regions: [eu, us]
"""

QUEUED = re.compile(r"event=observation_queued id=(\w+) monitor=(\w+) at=(\S+) ok=(\w+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, probe: Callable[[], T | None], *, timeout_s: float,
              every_s: float = 0.2) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except (httpx.HTTPError, OSError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what} (last: {last!r})")


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def to_ms(value: datetime) -> datetime:
    """What the API shows of a time: milliseconds, rounded down."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


class Target:
    """An HTTP target that answers 500 to checks from the regions in ``failing``
    (it reads the region from the probe's User-Agent) and 200 to the others."""

    def __init__(self) -> None:
        self.failing: set[str] = set()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                agent = self.headers.get("User-Agent", "")
                down = any(f"(uptime probe; region {r})" in agent for r in target.failing)
                body = b"down" if down else b"ok"
                self.send_response(500 if down else 200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/health"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)


class Process:
    """A child process whose stdout and stderr go to one log file."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log: IO[bytes] = open(log_path, "ab")  # closed by wait() or kill()
        self.popen = subprocess.Popen(args, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def terminate(self, *, timeout_s: float = 20) -> int:
        """SIGTERM, then wait; SIGKILL if it does not stop in time."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
        return self.wait(timeout_s=timeout_s)

    def wait(self, *, timeout_s: float) -> int:
        try:
            return self.popen.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            raise AssertionError(f"{self.log_path.name}: did not exit within {timeout_s}s:\n"
                                 f"{self.output()[-3000:]}") from None
        finally:
            self._log.close()

    def kill(self) -> None:
        if self.alive():
            self.popen.kill()
        self.popen.wait()
        self._log.close()


class AgentProcess(Process):
    def queued(self) -> dict[str, datetime]:
        """Every observation this agent has put in its queue: id -> its ``at``."""
        return {m[1]: parse_ts(m[3]) for m in QUEUED.finditer(self.output())}


class World:
    """A data directory, a page file, and the processes started on them."""

    def __init__(self, tmp_path: Path, target: Target) -> None:
        self.dir = tmp_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        page_file = tmp_path / "page.yaml"
        page_file.write_text(PAGE_FILE.format(target=target.url))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNALFIRE_")}
        self.env.update(SIGNALFIRE_DATA_DIR=str(tmp_path / "data"),
                        SIGNALFIRE_PORT=str(self.port), SIGNALFIRE_PAGE_FILE=str(page_file),
                        SIGNALFIRE_BASE_URL=self.url)
        self.processes: list[Process] = []
        self.server: Process | None = None
        self._starts = 0
        self._admin_token: str | None = None
        self.http = httpx.Client(base_url=self.url, trust_env=False, timeout=10)

    def cli(self, *args: str) -> str:
        done = subprocess.run([SIGNALFIRE, *args], env=self.env, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, f"signalfire {' '.join(args)}: {done.stderr}"
        return done.stdout.strip()

    def start_server(self) -> None:
        self._starts += 1
        self.server = Process([SIGNALFIRE, "serve"], self.env,
                              self.dir / f"server-{self._starts}.log")
        self.processes.append(self.server)
        wait_for("the server to answer /healthz",
                 lambda: self.server is not None and self.server.alive()
                 and self.http.get("/healthz").status_code == 200, timeout_s=30)

    def stop_server(self) -> None:
        assert self.server is not None
        # uvicorn re-raises the SIGTERM it handled once it has shut down cleanly.
        assert self.server.terminate() in (0, -signal.SIGTERM), self.server.output()[-3000:]

    def start_agent(self, token: str, region: str, *, run: int = 1) -> AgentProcess:
        """An agent at debug level, so that it logs every observation it queues;
        the queue file is the region's, the same for every ``run``."""
        agent = AgentProcess(
            [SIGNALFIRE, "agent", "--server", self.url, "--token", token, "--region", region,
             "--queue", str(self.dir / f"queue-{region}.db")],
            {**self.env, "SIGNALFIRE_LOG_LEVEL": "debug"}, self.dir / f"agent-{region}-{run}.log")
        self.processes.append(agent)
        return agent

    def admin_token(self) -> str:
        if self._admin_token is None:
            self._admin_token = self.cli("token", "create", "--name", "test")
        return self._admin_token

    def admin_get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params,
                                 headers={"Authorization": f"Bearer {self.admin_token()}"})
        response.raise_for_status()
        return response.json()

    def monitor_id(self) -> str:
        return str(self.admin_get("/api/v1/pages/app/monitors")[0]["id"])

    def observations(self, monitor_id: str, region: str) -> dict[str, dict[str, Any]]:
        docs = self.admin_get(f"/api/v1/pages/app/monitors/{monitor_id}/observations",
                              region=region, limit=1000)
        return {d["id"]: d for d in docs}

    def component_status(self) -> str:
        doc = self.http.get("/api/v2/components.json").json()
        return str(next(c["status"] for c in doc["components"] if c["name"] == "API"))

    def close(self) -> None:
        for p in self.processes:
            p.kill()
        self.http.close()
