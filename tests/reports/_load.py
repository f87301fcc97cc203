"""Load for ``test_kill9.py``: ``_load.py PORT ACK_FILE STOP_FILE CONCURRENCY PAGE``.

CONCURRENCY workers, each with its own httpx client and one request in flight,
post single reports until STOP_FILE exists. Every request comes from a new
address (X-Forwarded-For; the server trusts 127.0.0.1), so neither the rate
limit nor the per-reporter window interferes, and carries a country from a
fixed rotation. Each acknowledgement (201) is appended to ACK_FILE as one line
``COUNTRY COUNTED`` and fsync'd before the next request of that worker, so the
file never claims less than the server acknowledged. Connection errors (the
server is down) are retried with the next address after a short pause; any
other answer than 201 is written as ``ERR STATUS BODY`` and ends the run.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from pathlib import Path

import httpx

COUNTRIES = ("BR", "DE", "US", "JP", "IN")


async def worker(n: int, port: int, fd: int, stop: Path, page: str, errors: list[str]) -> None:
    url = f"http://127.0.0.1:{port}/api/v1/reports"
    async with httpx.AsyncClient(timeout=10.0) as client:
        for i in itertools.count():
            if stop.exists() or errors:
                return
            address = f"10.{n}.{(i >> 8) & 255}.{i & 255}"
            country = COUNTRIES[i % len(COUNTRIES)]
            try:
                r = await client.post(url, json={"page": page, "category": "app",
                                                 "country": country},
                                      headers={"x-forwarded-for": address})
            except httpx.TransportError:
                await asyncio.sleep(0.05)
                continue
            if r.status_code != 201:
                errors.append(f"ERR {r.status_code} {r.text[:200]}")
                return
            counted = "1" if r.json()["counted"] else "0"
            os.write(fd, f"{country} {counted}\n".encode())
            os.fsync(fd)


async def main(argv: list[str]) -> int:
    port, ack_file, stop, concurrency, page = (int(argv[1]), argv[2], Path(argv[3]),
                                               int(argv[4]), argv[5])
    fd = os.open(ack_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    errors: list[str] = []
    try:
        await asyncio.gather(*(worker(n, port, fd, stop, page, errors)
                               for n in range(concurrency)))
    finally:
        for e in errors:
            os.write(fd, (e.replace("\n", " ") + "\n").encode())
        os.fsync(fd)
        os.close(fd)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv)))
