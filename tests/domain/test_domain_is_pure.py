"""The domain and the detectors are pure: no I/O library, no environment, no clock of
their own (time is a parameter). A module that needs one belongs in the shell
(engine, store, web, cli)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import signalfire.detect
import signalfire.domain

PURE = [Path(signalfire.domain.__file__).parent, Path(signalfire.detect.__file__).parent]
FORBIDDEN_MODULES = {"sqlalchemy", "httpx", "asyncio", "anyio", "os", "socket", "subprocess",
                     "threading", "requests", "csv", "pathlib", "shutil", "tempfile", "signalfire.store", "signalfire.engine",
                     "signalfire.web", "signalfire.probes"}
FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "monotonic"}


def _modules():
    return sorted(p for package in PURE for p in package.glob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_domain_module_imports_no_io_and_reads_no_clock(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert not any(name == m or name.startswith(m + ".") for m in FORBIDDEN_MODULES), (
                f"{path.name} imports {name}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert node.func.attr not in FORBIDDEN_CALLS, (
                f"{path.name}:{node.lineno} calls .{node.func.attr}()")
