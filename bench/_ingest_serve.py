"""One ingest benchmark server: ``_ingest_serve.py hello`` or ``_ingest_serve.py signalfire DB_URL``.

Started by ``ingest.py``, never by hand. Like ``_serve.py`` (free port bound
here, ``port=N`` on stdout, the uvicorn settings of ``signalfire serve``), but
the Signalfire app trusts X-Forwarded-For from 127.0.0.1, as behind a local
reverse proxy, so that the per-address rate limit sees wrk's many addresses.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Any

import uvicorn

USAGE = "usage: _ingest_serve.py hello | _ingest_serve.py signalfire DB_URL"


def build_app(argv: list[str], *, base_url: str) -> Any:
    kind = argv[1] if len(argv) > 1 else ""
    if kind == "hello" and len(argv) == 2:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _hello import make_app

        return make_app(0)
    if kind == "signalfire" and len(argv) == 3:
        from signalfire.store import open_store
        from signalfire.web.app import create_app

        return create_app(open_store(argv[2], migrate=False), base_url=base_url,
                          trusted_proxies=("127.0.0.1/32",))
    raise SystemExit(USAGE)


def main(argv: list[str]) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = build_app(argv, base_url=f"http://127.0.0.1:{port}")
    config = uvicorn.Config(app, loop="uvloop", http="httptools", access_log=False,
                            server_header=False, log_level="warning", workers=1)
    print(f"port={port}", flush=True)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main(sys.argv)
