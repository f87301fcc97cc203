"""Schemathesis against our own OpenAPI description: whatever it sends, no 5xx, and
every answer matches the schema (status codes, content types, bodies)."""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from signalfire.store import open_store
from signalfire.web.app import create_app

# Schemathesis needs the schema when tests are collected, so the app is built
# here; it touches its database only when a request comes.
_DIR = Path(tempfile.mkdtemp(prefix="signalfire-fuzz-"))
_NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
_STORE = open_store(f"sqlite:///{_DIR / 'fuzz.db'}")
_PAGE = _STORE.put_page("app", name="App", now=_NOW)
_GROUP = _STORE.create_group(_PAGE.id, name="Core", now=_NOW)
_STORE.create_component(_PAGE.id, name="Feed", group_id=_GROUP.id, now=_NOW)
_, _SECRET = _STORE.create_token("fuzz", now=_NOW)
_APP = create_app(_STORE, base_url="http://status.test", clock=lambda: _NOW, background=False)

schema = schemathesis.openapi.from_asgi("/api/openapi.json", _APP)


@pytest.fixture(scope="module", autouse=True)
def _cleanup():
    yield
    _STORE.close()
    shutil.rmtree(_DIR, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_the_api_never_fails_and_keeps_its_schema(case):
    if case.path_parameters and "page_id" in case.path_parameters:
        # Aim at the real page most of the time so the fuzzing reaches the handlers.
        case.path_parameters["page_id"] = _PAGE.id
    case.call_and_validate(
        headers={"Authorization": f"Bearer {_SECRET}"},
        checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                response_schema_conformance])
