"""The agent's side of the agent API, and the ways talking to the server fails::

    SignalfireError
    ├── ConfigError
    │   └── RegionMismatch      the token belongs to another region than --region   stop, exit 2
    ├── AuthError
    │   └── TokenRejected       401/403: the token is not valid or was revoked      stop, exit 2
    └── ServerError             one request to the server failed
        ├── ServerUnavailable   no answer, a timeout, 408/429/5xx, or a 2xx that    back off,
        │                       is not the agent API's (a proxy, a captive portal)  try again
        └── RequestRefused      any other answer (3xx, other 4xx): this request
                                will not succeed as it is; ``status`` says which

Every request carries the agent token; nothing here logs it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from signalfire import __version__
from signalfire.agent.wire import monitor_from_wire
from signalfire.domain.probe import Monitor
from signalfire.errors import AuthError, ConfigError, SignalfireError

log = logging.getLogger("signalfire.agent")

USER_AGENT = f"Signalfire-Agent/{__version__}"


class RegionMismatch(ConfigError):
    pass


class TokenRejected(AuthError):
    pass


class ServerError(SignalfireError):
    pass


class ServerUnavailable(ServerError):
    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RequestRefused(ServerError):
    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class SendResult:
    accepted: int
    duplicates: int
    unknown_monitors: list[str] = field(default_factory=list)


class AgentClient:
    """``monitors()`` and ``send()``; ``await aclose()`` when done.

    ``transport`` replaces the network (an ``httpx.MockTransport`` in tests).
    """

    def __init__(self, server: str, token: str, *, timeout_s: float = 15.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.server = server.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.server, transport=transport, timeout=timeout_s,
            # A POST must not be replayed elsewhere behind the operator's back;
            # a redirect is reported as a refusal naming where it pointed.
            follow_redirects=False,
            headers={"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT})

    async def monitors(self) -> tuple[str, list[Monitor]]:
        """The token's region and the monitors it runs now.

        A monitor this agent cannot read (a kind from a newer server) is left
        out with a warning rather than stopping the others.
        """
        doc = await self._request("GET", "/api/v1/agent/monitors")
        try:
            region, entries = str(doc["region"]), list(doc["monitors"])
        except (KeyError, TypeError) as exc:
            raise ServerUnavailable(f"the monitor list has no {exc}: is --server a "
                                    "Signalfire server?") from None
        monitors = []
        for entry in entries:
            try:
                monitors.append(monitor_from_wire(entry))
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("event=monitor_unreadable monitor=%s error=%r",
                            entry.get("id") if isinstance(entry, dict) else None, exc)
        return region, monitors

    async def send(self, observations: Sequence[dict[str, Any]]) -> SendResult:
        """Deliver a batch of observation bodies; a 2xx means all of them are stored."""
        doc = await self._request("POST", "/api/v1/agent/observations",
                                  json={"observations": list(observations)})
        try:
            return SendResult(accepted=int(doc["accepted"]), duplicates=int(doc["duplicates"]),
                              unknown_monitors=[str(m) for m in doc.get("unknown_monitors") or []])
        except (KeyError, TypeError, ValueError):
            # Not the API's answer, so not a proof of delivery: keep the batch.
            raise ServerUnavailable("the answer to a batch is not the agent API's: "
                                    "is --server a Signalfire server?") from None

    async def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise ServerUnavailable(f"{method} {path}: timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise ServerUnavailable(f"{method} {path}: {type(exc).__name__}: {exc}") from None
        status = response.status_code
        if status in (401, 403):
            raise TokenRejected(f"the server refused this agent's token ({_reason(response)}); "
                                "create a new one with `signalfire agents create` and restart "
                                "the agent with it", field="--token")
        if status in (408, 429) or status >= 500:
            raise ServerUnavailable(f"{method} {path}: HTTP {status} ({_reason(response)})",
                                    retry_after_s=_retry_after_s(response))
        if 300 <= status < 400:
            raise RequestRefused(f"{method} {path}: HTTP {status} redirect to "
                                 f"{response.headers.get('location', '?')}; use that address "
                                 "as --server", status=status)
        if status >= 400 or status < 200:
            raise RequestRefused(f"{method} {path}: HTTP {status} ({_reason(response)})",
                                 status=status)
        try:
            doc = response.json()
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            raise ServerUnavailable(f"{method} {path}: HTTP {status} but the body is not "
                                    "the agent API's JSON (a proxy or captive portal?)")
        return doc

    async def aclose(self) -> None:
        await self._http.aclose()


def _reason(response: httpx.Response) -> str:
    """The server's problem message (``{"error": …}``), else a bit of the body."""
    try:
        doc = response.json()
    except ValueError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("error"), str):
        return doc["error"]
    text = response.text.strip().replace("\n", " ")
    return text[:120] or response.reason_phrase or "no detail"


def _retry_after_s(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None
