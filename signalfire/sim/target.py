"""The demo's simulated service: one endpoint per component, each of which can be
broken on purpose, everywhere or only for the probes of some regions.

Modes: ``ok``; ``down`` (503); ``slow`` (answers after 1.5 s); ``flapping``
(fails every other request); ``timeout`` (never answers within a probe's
timeout). A probe's region is read from its User-Agent (agents say
``region <name>``; the server's own checks are region ``local``).

``/_demo/`` is a small page with buttons (plain HTML forms) to break things.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import re
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

MODES = ("ok", "down", "slow", "flapping", "timeout")
_REGION = re.compile(r"region ([a-z0-9][a-z0-9_-]*)")


@dataclass
class Faults:
    """Which endpoint misbehaves, how, and for which regions (empty set = all)."""

    endpoints: tuple[str, ...]
    regions: tuple[str, ...]
    modes: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)
    _counter: itertools.count = field(default_factory=itertools.count)

    def set(self, endpoint: str, mode: str, regions: frozenset[str] = frozenset()) -> None:
        if endpoint not in self.endpoints:
            raise KeyError(endpoint)
        if mode not in MODES:
            raise ValueError(mode)
        self.modes[endpoint] = (mode, regions)

    def badness(self, region: str | None) -> float:
        """How broken the service is for users behind ``region`` (None: everywhere),
        0..1, for the simulated crowd."""
        score = 0.0
        weights = {"down": 1.0, "timeout": 1.0, "flapping": 0.5, "slow": 0.3, "ok": 0.0}
        for mode, regions in self.modes.values():
            if regions and (region is None or region not in regions):
                continue
            score = max(score, weights[mode])
        return score

    def mode_for(self, endpoint: str, region: str) -> str:
        mode, regions = self.modes.get(endpoint, ("ok", frozenset()))
        if regions and region not in regions:
            return "ok"
        if mode == "flapping":
            return "down" if next(self._counter) % 2 else "ok"
        return mode


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def target_app(faults: Faults, *, prefix: str = "/_demo") -> Starlette:
    async def endpoint(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in faults.endpoints:
            return JSONResponse({"error": "unknown endpoint"}, status_code=404)
        found = _REGION.search(request.headers.get("user-agent", ""))
        mode = faults.mode_for(name, found.group(1) if found else "local")
        if mode == "down":
            return JSONResponse({"status": "error"}, status_code=503)
        if mode == "slow":
            await asyncio.sleep(1.5)
        if mode == "timeout":
            await asyncio.sleep(60)
        return JSONResponse({"status": "ok", "endpoint": name})

    async def control(request: Request) -> Response:
        form = await request.form()
        name, mode = str(form.get("endpoint", "")), str(form.get("mode", ""))
        region = str(form.get("region", "")).strip()
        try:
            faults.set(name, mode, frozenset([region]) if region else frozenset())
        except (KeyError, ValueError):
            return JSONResponse({"error": f"unknown endpoint {name!r} or mode {mode!r}"},
                                status_code=400)
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse(f"{prefix}/", status_code=303)
        return JSONResponse({"endpoint": name, "mode": mode, "region": region or "all"})

    async def page(request: Request) -> Response:
        rows = []
        for name in faults.endpoints:
            mode, regions = faults.modes.get(name, ("ok", frozenset()))
            where = ", ".join(sorted(regions)) or "all regions"
            buttons = []
            for region in ("", *faults.regions):
                for m in MODES:
                    label = f"{m} ({region or 'everywhere'})"
                    buttons.append(
                        f"<form method=post action='{prefix}/control'>"
                        f"<input type=hidden name=endpoint value='{html.escape(name)}'>"
                        f"<input type=hidden name=mode value='{m}'>"
                        f"<input type=hidden name=region value='{html.escape(region)}'>"
                        f"<button>{html.escape(label)}</button></form>")
            rows.append(f"<tr><th>{html.escape(name)}</th><td>{mode} in {html.escape(where)}"
                        f"</td><td class=b>{''.join(buttons)}</td></tr>")
        return HTMLResponse(
            "<!doctype html><meta charset=utf-8><title>Demo target</title>"
            "<style>body{font:15px system-ui;margin:2em}td,th{padding:6px;text-align:left;"
            "vertical-align:top}.b form{display:inline}button{margin:2px}</style>"
            "<h1>Break the demo service</h1><p>Each component's endpoint is probed by the "
            "server (region <b>local</b>) and by the agents. Break one in one region to see a "
            "partial outage, everywhere for a major one. The simulated users report where it is "
            "broken, and an incident opens by itself within a minute or two; mend it and the "
            "incident resolves itself after five quiet minutes. <a href='/'>Status page</a></p>"
            f"<table>{''.join(rows)}</table>")

    return Starlette(routes=[
        Route(f"{prefix}/", page),
        Route(f"{prefix}/control", control, methods=["POST"]),
        Route(f"{prefix}/target/{{name}}", endpoint),
    ])


class Mount:
    """Send ``/_demo/…`` to the target and everything else to Signalfire."""

    def __init__(self, app, target, *, prefix: str = "/_demo") -> None:  # type: ignore[no-untyped-def]
        self.app, self.target, self.prefix = app, target, prefix

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            await self.target(scope, receive, send)
        else:
            await self.app(scope, receive, send)
