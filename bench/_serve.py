"""One benchmark server process: ``_serve.py hello [BYTES]`` or ``_serve.py signalfire DB_URL``.

Started by ``status_page.py``, never by hand. It binds a free port on
127.0.0.1 itself (so no other process can take the port between choosing it
and listening on it), prints ``port=N`` on stdout, then serves with the uvicorn
settings of ``signalfire serve``: uvloop, httptools, no access log, no server
header, one worker.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Any

import uvicorn

USAGE = "usage: _serve.py hello [BODY_BYTES] | _serve.py signalfire DB_URL"


def build_app(argv: list[str], *, base_url: str) -> Any:
    kind = argv[1] if len(argv) > 1 else ""
    body_bytes = argv[2] if len(argv) == 3 else "0"
    if kind == "hello" and len(argv) <= 3 and body_bytes.isdigit():
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _hello import make_app

        return make_app(int(body_bytes))
    if kind == "signalfire" and len(argv) == 3:
        from signalfire.store import open_store
        from signalfire.web.app import create_app

        # As `signalfire serve` runs it (warm-up, heap freeze, housekeeping); the
        # demo data has no monitors and no maintenance due, so nothing
        # invalidates the cache while it is measured.
        return create_app(open_store(argv[2], migrate=False), base_url=base_url)
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
