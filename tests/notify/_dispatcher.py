"""A dispatcher as its own process: ``_dispatcher.py DB_URL LEASE_S``.

Started by ``test_kill9_dispatch.py``, never by hand: it sends what the outbox
holds, in small batches, until it is killed.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

from signalfire.notify.dispatcher import Dispatcher
from signalfire.notify.messages import LinkTokens, Messages
from signalfire.notify.transports import WebhookTransport, webhook_session
from signalfire.store import open_store


async def run(url: str, lease_s: float) -> None:
    store = open_store(url, migrate=False)
    messages = Messages(store, base_url="https://status.example.com",
                        links=LinkTokens(store.instance_secret("subscriber-links")))
    async with webhook_session() as session:
        d = Dispatcher(store, messages,
                       {"webhook": WebhookTransport(session, messages, lambda: datetime.now(UTC))},
                       lambda: datetime.now(UTC), batch=25, concurrency=10, lease_s=lease_s,
                       hold_s=0, poll_s=0.1)
        print("ready", flush=True)
        await d.run()


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1], float(sys.argv[2])))
