"""``create_app``: the composition root of the web side.

It takes a ready Store and clock (built by the CLI from settings) and returns
the ASGI application: the public fast path in front of FastAPI.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

from signalfire import __version__
from signalfire.domain.crowd import DEFAULT_WINDOW_S
from signalfire.engine.clock import Clock, system_clock
from signalfire.engine.intake import ReportWriter
from signalfire.notify.dispatcher import Dispatcher
from signalfire.notify.messages import LinkTokens, Messages
from signalfire.notify.transports import (
    AppriseTransport,
    EmailTransport,
    SmtpConfig,
    Transport,
    WebhookTransport,
    webhook_session,
)
from signalfire.publish.html import HtmlRenderer
from signalfire.publish.site import Publisher, topics_for
from signalfire.reports.geo import ClientAddress
from signalfire.reports.identity import ReporterKeys
from signalfire.reports.limits import RateLimiter
from signalfire.store import Store
from signalfire.web import (
    admin,
    detection_api,
    monitors_api,
    notify_api,
    problems,
    reports_api,
    subscriptions,
)
from signalfire.web.admin import Services
from signalfire.web.cache import RenderCache
from signalfire.web.intake import CrowdDirectory, ReportIntake
from signalfire.web.limits import BodyLimit
from signalfire.web.metrics import Metrics
from signalfire.web.monitors_api import changed_components
from signalfire.web.public import Documents, PageDirectory, PublicSite
from signalfire.web.public_docs import router as public_docs_router

log = logging.getLogger("signalfire.web")
STATIC_DIR = Path(__file__).resolve().parent.parent / "publish" / "static"


def create_app(store: Store, *, base_url: str = "http://127.0.0.1:8000",
               clock: Clock = system_clock, max_body_bytes: int = 1_000_000,
               default_page: str | None = None, background: bool = True,
               tick_s: float = 10.0, probes: bool | None = None,
               retention_days: int = 14, report_retention_days: int = 30,
               trusted_proxies: tuple[str, ...] = (), report_window_s: float = DEFAULT_WINDOW_S,
               report_rate_per_minute: float = 10, report_burst: int = 5,
               detection: bool | None = None,
               detection_every_s: float = 15.0, smtp: SmtpConfig | None = None,
               notify: bool | None = None, notify_hold_s: float = 30.0) -> ASGIApp:
    """The ASGI app. ``background`` runs the duties of a server (maintenance
    ticker, cache warm-up, revision watcher); ``probes`` (default: as
    ``background``) runs the monitors of region ``local`` in this process;
    ``detection`` (default: as ``background``) turns signals into automatic
    incidents on the pages that enable it; ``notify`` (default: as
    ``background``) runs the outbox dispatcher, sending email through ``smtp``
    when it is given."""
    cache = RenderCache()
    pages = PageDirectory(store, default_page)
    publisher = Publisher(store, base_url=base_url, clock=clock, html=HtmlRenderer(),
                          report_window_min=max(1, round(report_window_s / 60)),
                          email_subscriptions=smtp is not None)
    documents = Documents(publisher, pages, cache)
    metrics = Metrics(store)
    metrics.gauge("signalfire_render_cache_entries", "Public documents held rendered",
                  lambda: float(len(cache)))
    svc = Services(store=store, clock=clock, cache=cache, pages=pages, publisher=publisher,
                   documents=documents, metrics=metrics)

    writer = ReportWriter(store, window_s=report_window_s)
    crowd = CrowdDirectory(store, pages)
    keys = ReporterKeys(store.instance_secret("reporter-key"))
    link_tokens = LinkTokens(store.instance_secret("subscriber-links"))
    messages = Messages(store, base_url=base_url, links=link_tokens)
    dispatchers: list[Dispatcher] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        writer.start()
        tasks = []
        if background:
            tasks.append(asyncio.create_task(_warm(svc)))
            tasks.append(asyncio.create_task(_housekeeping(svc, retention_days,
                                                           report_retention_days)))
        if background if probes is None else probes:
            from signalfire.engine.monitoring import LocalProber

            prober = LocalProber(store, clock=clock, on_ingest=lambda r: changed_components(svc, r),
                                 on_observed=lambda batch: metrics.observed(
                                     batch, prober.scheduler_monitors()))
            prober.scheduler.on_lag = metrics.scheduler_lag.observe
            metrics.gauge("signalfire_scheduler_in_flight", "Local checks running now",
                          lambda: float(prober.scheduler.stats.in_flight))
            metrics.gauge("signalfire_scheduler_buffered", "Local observations waiting to be "
                          "written", lambda: float(prober.scheduler.buffered))
            tasks.append(asyncio.create_task(prober.run()))
            tasks.append(asyncio.create_task(_maintenance_ticker(svc, tick_s)))
            if not store.is_sqlite:
                tasks.append(asyncio.create_task(_revision_watcher(svc)))
        if background if detection is None else detection:
            from signalfire.engine.detection import DetectionEngine

            engine = DetectionEngine(store, clock=clock, on_incident=lambda i: admin.
                                     _incident_changed(svc, i, components=True))
            metrics.watch_detection(engine)
            tasks.append(asyncio.create_task(engine.run(detection_every_s)))
        client = None
        if background if notify is None else notify:
            client = webhook_session()
            transports: dict[str, Transport] = {
                "webhook": WebhookTransport(client, messages, system_clock),
                "apprise": AppriseTransport(messages)}
            if smtp is not None:
                transports["email"] = EmailTransport(messages, **smtp.options())
            dispatcher = Dispatcher(store, messages, transports, clock, hold_s=notify_hold_s)
            dispatchers.append(dispatcher)
            tasks.append(asyncio.create_task(dispatcher.run()))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await anyio.to_thread.run_sync(writer.stop)
            if client is not None:
                await client.close()
            for d in dispatchers:
                for transport in d.transports.values():
                    if isinstance(transport, EmailTransport):
                        await transport.close()
            dispatchers.clear()

    api = FastAPI(
        title="Signalfire", version=__version__, lifespan=lifespan,
        docs_url="/api/docs", openapi_url="/api/openapi.json", redoc_url=None,
        description="Admin API (`/api/v1`, bearer token) and the public Statuspage-compatible "
                    "API (`/api/v2`).",
    )
    api.state.services = svc
    api.state.crowd = crowd
    api.state.report_writer = writer
    api.state.reporter_keys = keys
    api.state.link_tokens = link_tokens
    api.state.subscribe_limiter = RateLimiter(per_minute=5, burst=3)
    api.state.wake_dispatcher = lambda: [d.wake() for d in dispatchers]
    api.state.email_subscriptions = smtp is not None
    problems.install(api)
    api.include_router(admin.router)
    api.include_router(detection_api.router)
    api.include_router(monitors_api.admin)
    api.include_router(monitors_api.agent)
    api.include_router(monitors_api.heartbeat)
    api.include_router(reports_api.router)
    api.include_router(reports_api.admin)
    api.include_router(subscriptions.router)
    api.include_router(notify_api.router)
    api.include_router(public_docs_router)
    api.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @api.get("/metrics", include_in_schema=False)
    def metrics_endpoint() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @api.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        store.revision()
        return {"status": "ok"}

    # The public fast paths read no body or a small one of their own, so they sit
    # in front of the general body limit.
    site = PublicSite(BodyLimit(api, max_bytes=max_body_bytes), documents=documents)
    return ReportIntake(site, writer=writer, crowd=crowd, keys=keys, clock=clock,
                        addresses=ClientAddress(trusted_proxies),
                        limiter=RateLimiter(per_minute=report_rate_per_minute,
                                            burst=report_burst),
                        page_url=lambda page: publisher.page_url(page, pages.default_id))


HOT_PATHS = ("/", "/api/v2/summary.json", "/api/v2/status.json", "/api/v2/components.json",
             "/api/v2/incidents/unresolved.json", "/badge.svg")


async def _warm(svc: Services) -> None:
    """Render the most read documents at start, before the first visitor asks."""
    try:
        pages = await anyio.to_thread.run_sync(svc.store.list_pages)
        default = svc.pages.default_id
        keys = [Documents.key(None if p.id == default else p.slug, path)
                for p in pages for path in HOT_PATHS]
        await anyio.to_thread.run_sync(svc.documents.refresh, keys)
    except Exception:  # a cold cache is slower, not broken
        log.exception("event=warm_up_failed")
    # Everything loaded so far (the framework, the templates, the ORM) lives as
    # long as the process: move it out of the garbage collector's sight. On a
    # busy page the full collections over those objects were the p99 latency.
    gc.collect()
    gc.freeze()


async def _housekeeping(svc: Services, retention_days: int, report_retention_days: int,
                        every_s: float = 60.0) -> None:
    """Fold new observations into the rollups; drop raw ones past retention."""
    while True:
        try:
            while await anyio.to_thread.run_sync(svc.store.roll_up, svc.clock()):
                pass
            await anyio.to_thread.run_sync(_prune, svc, retention_days, report_retention_days)
        except Exception:  # the next round tries again
            log.exception("event=housekeeping_failed")
        await asyncio.sleep(every_s)


def _prune(svc: Services, retention_days: int, report_retention_days: int) -> None:
    from datetime import timedelta

    svc.store.prune_raw(before=svc.clock() - timedelta(days=retention_days))
    svc.store.prune_reports(before=svc.clock() - timedelta(days=report_retention_days))


async def _maintenance_ticker(svc: Services, every_s: float) -> None:
    """Move maintenance windows along at their times, without anyone pressing a button."""
    while True:
        try:
            moved = await anyio.to_thread.run_sync(
                lambda: svc.store.advance_maintenance(svc.clock()))
            for incident_id in moved:
                m = svc.store.get_incident(incident_id)
                stale = svc.cache.invalidate(topics_for(m.page_id, "maintenance", "components",
                                                        f"incident:{incident_id}"))
                await anyio.to_thread.run_sync(svc.documents.refresh, stale)
                log.info("event=maintenance_advanced id=%s status=%s", m.id, m.status.value)
        except Exception:  # keep ticking: one bad round must not stop the schedule
            log.exception("event=maintenance_tick_failed")
        await asyncio.sleep(every_s)


async def _revision_watcher(svc: Services, every_s: float = 2.0) -> None:
    """With several nodes on one PostgreSQL, drop the cache when another node wrote."""
    seen = await anyio.to_thread.run_sync(svc.store.revision)
    while True:
        await asyncio.sleep(every_s)
        try:
            now = await anyio.to_thread.run_sync(svc.store.revision)
        except Exception:
            log.exception("event=revision_check_failed")
            continue
        if now != seen:
            seen = now
            svc.pages.refresh()
            svc.cache.clear()
