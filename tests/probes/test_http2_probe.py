"""HTTP/2 through the shared client: a TLS server that offers h2 and HTTP/1.1 by ALPN."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import h2.config
import h2.connection
import h2.events
import pytest

from conftest import OK_BODY, http_handler, serve, server_ssl_context
from signalfire.domain.probe import MonitorKind
from signalfire.probes import http

pytestmark = pytest.mark.anyio
