"""What a probe kind declares, and the option checks the kinds share.

A kind is data: its ``run`` coroutine, the options it accepts (each with a
description and default, which the docs contract test reads), and a check of
its target. Config validation calls ``validate_options`` and ``validate_target``
so that a typo stops start-up instead of failing every run.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from signalfire.domain.probe import Monitor, MonitorKind, ProbeResult
from signalfire.probes.connection import split_host_port

if TYPE_CHECKING:
    from signalfire.probes.context import ProbeContext

Run = Callable[[Monitor, "ProbeContext"], Awaitable[ProbeResult]]
Check = Callable[[Any], str | None]


@dataclass(frozen=True, slots=True)
class Option:
    """One key a kind accepts under ``options``: its check, default and docs text."""

    description: str
    default: Any
    check: Check


@dataclass(frozen=True, slots=True)
class ProbeKind:
    kind: MonitorKind
    run: Run
    options: Mapping[str, Option]
    validate_target: Callable[[str], str | None]
    # False for push kinds (heartbeat): the scheduler must not call ``run``.
    active: bool = True

    def validate_options(self, options: object) -> list[str]:
        """Every problem as ``options.<key>: message``; unknown keys are problems too."""
        if not isinstance(options, Mapping):
            return [f"options: must be a mapping, got {type(options).__name__}"]
        problems = []
        for key, value in options.items():
            option = self.options.get(key)
            if option is None:
                known = ", ".join(sorted(self.options)) or "none"
                problems.append(f"options.{key}: unknown option for {self.kind.value} monitors "
                                f"(known: {known})")
                continue
            problem = option.check(value)
            if problem:
                problems.append(f"options.{key}: {problem}")
        return problems

    def resolve_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """The options with defaults filled in; call only after ``validate_options`` passed."""
        return {key: options.get(key, option.default) for key, option in self.options.items()}


# --- checks ---------------------------------------------------------------

def boolean(value: Any) -> str | None:
    # Strict: YAML's `verify: "no"` is a string, and silently reading it as
    # true is how a check ends up testing the wrong thing.
    return None if isinstance(value, bool) else f"must be true or false, got {value!r}"


def integer(*, minimum: int, maximum: int) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            return f"must be an integer from {minimum} to {maximum}, got {value!r}"
        return None
    return check


def number(*, minimum: float) -> Check:
    def check(value: Any) -> str | None:
        if (isinstance(value, bool) or not isinstance(value, int | float)
                or not math.isfinite(value) or value < minimum):
            return f"must be a number of at least {minimum:g}, got {value!r}"
        return None
    return check


def one_of(*choices: str) -> Check:
    """A string among ``choices``, in any case."""
    def check(value: Any) -> str | None:
        if not isinstance(value, str) or value.upper() not in choices:
            return f"must be one of {', '.join(choices)}, got {value!r}"
        return None
    return check


def text(value: Any) -> str | None:
    return None if isinstance(value, str) else f"must be a string, got {type(value).__name__}"


_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def header_map(value: Any) -> str | None:
    if not isinstance(value, Mapping):
        return f"must be a mapping of header names to strings, got {type(value).__name__}"
    for name, header_value in value.items():
        if not isinstance(name, str) or not _TOKEN.match(name):
            return f"{name!r} is not a valid header name"
        if not isinstance(header_value, str):
            return f"{name}: value must be a string, got {type(header_value).__name__}"
        if "\r" in header_value or "\n" in header_value:
            return f"{name}: value must not contain a line break"
    return None


def nameserver(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be an IP address or IP:port, got {type(value).__name__}"
    try:
        parse_nameserver(value)
    except ValueError as exc:
        return str(exc)
    return None


def parse_nameserver(value: str) -> tuple[str, int]:
    """``1.1.1.1``, ``1.1.1.1:5353``, ``::1`` or ``[::1]:5353`` → (ip, port)."""
    host, port = split_host_port(value, default_port=53)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address or IP:port") from None
    return host, port
