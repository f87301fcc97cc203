"""The report intake as a real server process: ``_server.py DB_URL [PORT]``.

Started by ``test_kill9.py``, never by hand. The database is seeded beforehand
(a page with report categories) through the Store. It binds 127.0.0.1:PORT
(0 or absent: a free port) itself with SO_REUSEADDR, so that a restart after
SIGKILL takes the same port back, prints ``port=N``, then serves with the
uvicorn settings of ``signalfire serve``.
"""

from __future__ import annotations

import socket
import sys

import uvicorn

from signalfire.store import open_store
from signalfire.web.app import create_app


def main(argv: list[str]) -> None:
    url = argv[1]
    port = int(argv[2]) if len(argv) > 2 else 0
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    app = create_app(open_store(url, migrate=False), base_url=f"http://127.0.0.1:{port}",
                     background=False, trusted_proxies=("127.0.0.1/32",))
    config = uvicorn.Config(app, loop="uvloop", http="httptools", access_log=False,
                            server_header=False, log_level="warning", workers=1)
    print(f"port={port}", flush=True)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main(sys.argv)
