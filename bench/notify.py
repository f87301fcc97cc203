"""How fast does one incident update reach every subscriber?

Run: ``.venv/bin/python bench/notify.py [--emails 100000] [--webhooks 10000] [--postgres]``

One incident is opened on a page with ``--emails`` confirmed email subscribers
and ``--webhooks`` signed webhook subscribers. Three processes besides this one:

- a real SMTP server (aiosmtpd) that counts the messages it accepts;
- a webhook receiver (uvicorn) that counts the distinct ``webhook-id``s it gets,
  each subscriber at its own URL path;
- the dispatcher (``signalfire.notify``) over the same database, as a server
  runs it, whose peak RSS is reported, with its RSS sampled along the way to
  show whether memory stays flat.

Times are from the incident's commit to the last message accepted. Goals: all
emails within 5 minutes, all webhooks within 1 minute, memory flat. The last
line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import secrets
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
POSTGRES_URL = os.environ.get("SIGNALFIRE_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")
GOAL_EMAIL_S = 300.0
GOAL_WEBHOOK_S = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the peers, each in its own process ---------------------------------------------------

def smtp_sink(port: int, count: mp.Value, ready: mp.Event, stop: mp.Event) -> None:  # type: ignore[type-arg]
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            with count.get_lock():
                count.value += len(envelope.rcpt_tos)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def hook_sink(port: int, count: mp.Value, ready: mp.Event) -> None:  # type: ignore[type-arg]
    import uvicorn

    seen: set[bytes] = set()

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                    ready.set()
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        msg_id = dict(scope["headers"]).get(b"webhook-id", b"")
        if msg_id not in seen:
            seen.add(msg_id)
            with count.get_lock():
                count.value = len(seen)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                loop="uvloop", http="httptools", backlog=2048)


def dispatcher(url: str, smtp_port: int, stop: mp.Event, peak_kb: mp.Value,  # type: ignore[type-arg]
               samples: mp.Queue) -> None:  # type: ignore[type-arg]
    import asyncio

    from signalfire.notify.dispatcher import Dispatcher
    from signalfire.notify.messages import LinkTokens, Messages
    from signalfire.notify.transports import EmailTransport, WebhookTransport, webhook_session
    from signalfire.store import open_store

    store = open_store(url, migrate=False)
    messages = Messages(store, base_url="https://status.example.com",
                        links=LinkTokens(store.instance_secret("subscriber-links")))

    async def run() -> None:
        async with webhook_session(connections=100) as client:
            email = EmailTransport(messages, host="127.0.0.1", port=smtp_port,
                                   sender="status@example.com", connections=16)
            d = Dispatcher(store, messages, {
                "email": email,
                "webhook": WebhookTransport(client, messages, lambda: datetime.now(UTC))},
                lambda: datetime.now(UTC), batch=1000, concurrency=200, hold_s=0)
            last = 0.0
            while not stop.is_set():
                busy = await d.run_once()
                if time.monotonic() - last > 1.0:
                    last = time.monotonic()
                    samples.put((d.sent, rss_kb()))
                if not busy:
                    await asyncio.sleep(0.05)
            await email.close()

    asyncio.run(run())
    peak_kb.value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# -- the page and its subscribers ----------------------------------------------------------

def seed(url: str, emails: int, webhooks: int, hook_port: int) -> tuple[str, str]:
    from signalfire.notify.signing import new_secret
    from signalfire.store import open_store
    from signalfire.store import schema as t

    store = open_store(url)
    now = datetime.now(UTC)
    page = store.put_page("bench", name="Bench", now=now)
    component = store.create_component(page.id, name="Feed", now=now)
    secret = new_secret()  # one secret for all: signing cost is the same per message
    rows = [{"id": f"e{i:09d}", "page_id": page.id, "kind": "email",
             "address": f"user{i}@example.com", "all_components": True, "created_at": now,
             "confirmed_at": now} for i in range(emails)]
    rows += [{"id": f"w{i:09d}", "page_id": page.id, "kind": "webhook",
              "address": f"http://127.0.0.1:{hook_port}/hook/{i}", "secret": secret,
              "all_components": True, "created_at": now, "confirmed_at": now}
             for i in range(webhooks)]
    with store.engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(t.subscribers.insert(), rows[start:start + 5000])
    store.close()
    return page.id, component.id


def open_incident(url: str, page_id: str, component_id: str) -> None:
    from signalfire.domain.status import ComponentStatus, IncidentStatus
    from signalfire.store import open_store

    store = open_store(url, migrate=False)
    store.create_incident(page_id, name="Videos do not load", status=IncidentStatus.INVESTIGATING,
                          body="We are looking into it.", now=datetime.now(UTC),
                          components={component_id: ComponentStatus.MAJOR_OUTAGE})
    store.close()


def measure(url: str, args: argparse.Namespace) -> dict[str, object]:
    smtp_port, hook_port = free_port(), free_port()
    t_seed = time.monotonic()
    page_id, component_id = seed(url, args.emails, args.webhooks, hook_port)
    print(f"seeded {args.emails:,} email and {args.webhooks:,} webhook subscribers in "
          f"{time.monotonic() - t_seed:.1f} s", file=sys.stderr)
    ctx = mp.get_context("spawn")
    emails, hooks, peak = ctx.Value("l", 0), ctx.Value("l", 0), ctx.Value("l", 0)
    smtp_ready, hook_ready, stop_smtp, stop = (ctx.Event(), ctx.Event(), ctx.Event(),
                                               ctx.Event())
    samples: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    procs = [ctx.Process(target=smtp_sink, args=(smtp_port, emails, smtp_ready, stop_smtp)),
             ctx.Process(target=hook_sink, args=(hook_port, hooks, hook_ready))]
    for p in procs:
        p.start()
    if not (smtp_ready.wait(30) and hook_ready.wait(30)):
        raise SystemExit("error: the sinks did not start")
    worker = ctx.Process(target=dispatcher, args=(url, smtp_port, stop, peak, samples))
    worker.start()
    time.sleep(1.0)  # the dispatcher's imports and first (empty) round
    t0 = time.monotonic()
    open_incident(url, page_id, component_id)
    email_s = webhook_s = None
    deadline = t0 + GOAL_EMAIL_S * 2
    rss: list[tuple[int, int]] = []
    while time.monotonic() < deadline and (email_s is None or webhook_s is None):
        time.sleep(0.05)
        if webhook_s is None and hooks.value >= args.webhooks:
            webhook_s = time.monotonic() - t0
        if email_s is None and emails.value >= args.emails:
            email_s = time.monotonic() - t0
        while not samples.empty():
            rss.append(samples.get())
    stop.set()
    worker.join(60)
    stop_smtp.set()
    for p in procs:
        p.terminate() if p.is_alive() and p is procs[1] else None
        p.join(10)
    while not samples.empty():
        rss.append(samples.get())
    mid = [kb for sent, kb in rss if sent >= (args.emails + args.webhooks) * 0.1]
    return {"emails": emails.value, "email_seconds": round(email_s, 1) if email_s else None,
            "webhooks": hooks.value,
            "webhook_seconds": round(webhook_s, 1) if webhook_s else None,
            "peak_rss_mb": round(peak.value / 1024, 1),
            "rss_mb_at_10pct": round(mid[0] / 1024, 1) if mid else None,
            "rss_mb_at_end": round(rss[-1][1] / 1024, 1) if rss else None,
            "emails_per_s": round(args.emails / email_s) if email_s else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--emails", type=int, default=100_000)
    parser.add_argument("--webhooks", type=int, default=10_000)
    parser.add_argument("--postgres", action="store_true",
                        help="use the PostgreSQL at SIGNALFIRE_TEST_POSTGRES_URL, not SQLite")
    args = parser.parse_args(argv)
    if args.emails < 1 or args.webhooks < 1:
        parser.error("--emails and --webhooks must be >= 1")
    with tempfile.TemporaryDirectory(prefix="signalfire-notify-") as tmp:
        schema = None
        if args.postgres:
            import sqlalchemy

            schema = "sf_notify_" + secrets.token_hex(4)
            admin = sqlalchemy.create_engine(POSTGRES_URL.replace("postgresql://",
                                                                  "postgresql+psycopg://"))
            with admin.begin() as conn:
                conn.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
            url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        else:
            url = f"sqlite:///{tmp}/notify.db"
        try:
            result = measure(url, args)
        finally:
            if schema:
                with admin.begin() as conn:
                    conn.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
    result = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
              "database": "postgres" if args.postgres else "sqlite", **result,
              "goal_emails": bool(result["email_seconds"])
              and result["email_seconds"] <= GOAL_EMAIL_S,  # type: ignore[operator]
              "goal_webhooks": bool(result["webhook_seconds"])
              and result["webhook_seconds"] <= GOAL_WEBHOOK_S}  # type: ignore[operator]
    for key in ("emails", "email_seconds", "emails_per_s", "webhooks", "webhook_seconds",
                "peak_rss_mb", "rss_mb_at_10pct", "rss_mb_at_end"):
        print(f"{key:>16}: {result[key]}")
    print(json.dumps(result, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
