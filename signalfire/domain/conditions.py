"""The condition language of monitors: one comparison over what a probe saw.

A condition is Gatus-like text, a placeholder (or ``len()``/``has()`` of one) on
the left, an operator, and a value (or ``any()``/``pat()``) on the right::

    [STATUS] == 200
    [BODY].data.items[0].state == any(up, ok)
    len([BODY].items) > 0
    [CERTIFICATE_EXPIRATION] > 72h

``parse_condition`` runs once, when the configuration loads, and raises
``ConfigError`` with a bare message the caller prefixes with the key path.
``Condition.evaluate`` runs for every probe run and never raises: a value that
is not there (no body, a body that is not JSON, a missing path) fails the
condition and ``ConditionResult.actual`` says why. The language is documented
in docs/conditions.md.
"""

from __future__ import annotations

import difflib
import json
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from signalfire.domain.probe import ConditionResult, ProbeResult
from signalfire.errors import ConfigError

__all__ = [
    "OPERATORS",
    "PLACEHOLDERS",
    "Condition",
    "default_ok",
    "evaluate_all",
    "parse_condition",
]

PLACEHOLDERS = (
    "STATUS", "RESPONSE_TIME", "BODY", "CONNECTED", "IP",
    "CERTIFICATE_EXPIRATION", "DNS_RCODE", "DNS_ANSWERS", "HEADER",
)
# Two-character operators first, so that "<=" is not read as "<" then "= …".
OPERATORS = ("==", "!=", "<=", ">=", "<", ">")
LEFT_FUNCTIONS = ("len", "has")
RIGHT_FUNCTIONS = ("any", "pat")
MAX_ACTUAL_CHARS = 120

# What a left side yields, which decides what the right side may be.
NUMBER, DURATION, BOOL, VALUE, ANSWERS = "number", "duration", "bool", "value", "answers"

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|d|h|m|s))+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|d|h|m|s)")
_UNIT_MS = {"ms": 1.0, "s": 1_000.0, "m": 60_000.0, "h": 3_600_000.0, "d": 86_400_000.0}
_CALL = re.compile(r"([A-Za-z_]\w*)\s*\((.*)\)", re.S)
_PLACEHOLDER = re.compile(r"\[([^\[\]]*)\]")
_PATH_STEP = re.compile(r"\.([^.\[\]\s]+)|\[(\d+)\]")
_HEADER_NAME = re.compile(r"\.([!#$%&'*+\-.^_`|~0-9A-Za-z]+)")  # an HTTP token
_OPENING = {"]": "[", ")": "("}
_DURATION_HINT = "use milliseconds or a duration such as 72h, 30m, 10s, 7d, 1h30m"


class _Missing:
    """A value the probe result does not hold, and why; fails any comparison."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


_UNSET: Any = object()


class _Facts:
    """One probe result as conditions read it. The body is decoded and parsed as
    JSON at most once, however many conditions read it: the scheduler evaluates
    about 10,000 monitors a minute and bodies can be large."""

    __slots__ = ("_headers", "_json", "_text", "now", "result")

    def __init__(self, result: ProbeResult, now: datetime) -> None:
        self.result = result
        # A naive datetime would make the subtraction raise; everything is UTC here.
        self.now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
        self._text: Any = _UNSET
        self._json: Any = _UNSET
        self._headers: Any = _UNSET

    def missing(self, what: str) -> _Missing:
        error = self.result.error
        return _Missing(f"{what} ({error})" if error else what)

    def text(self) -> str | _Missing:
        if self._text is _UNSET:
            body = self.result.body
            # Health endpoints often answer "OK\n": surrounding whitespace is not content.
            self._text = (self.missing("no body") if body is None
                          else body.decode("utf-8-sig", "replace").strip())
        return self._text

    def json(self) -> Any:
        if self._json is _UNSET:
            text = self.text()
            try:
                self._json = text if isinstance(text, _Missing) else json.loads(text)
            except (ValueError, RecursionError):
                self._json = _Missing("body is not JSON")
        return self._json

    def headers(self) -> dict[str, str] | _Missing:
        if self._headers is _UNSET:
            headers = self.result.headers
            self._headers = (self.missing("no headers") if headers is None
                             else {name.lower(): value for name, value in headers.items()})
        return self._headers


def _as_text(value: Any) -> str:
    """How a value reads in a string comparison and in ``actual``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


def _format_duration(ms: float) -> str:
    seconds = round(abs(ms) / 1000)
    parts = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return ("-" if ms < 0 and parts else "") + ("".join(parts) or "0s")


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    return "null" if value is None else "a number"


@dataclass(frozen=True, slots=True)
class _Subject:
    """The left side: what it is called, what kind of value it yields, how to read it."""

    text: str
    kind: str
    read: Callable[[_Facts], Any]
    show: Callable[[Any], str] = _as_text


def _read_status(facts: _Facts) -> Any:
    status = facts.result.status
    return facts.missing("no HTTP status") if status is None else status


def _read_ip(facts: _Facts) -> Any:
    ip = facts.result.ip
    return facts.missing("no IP") if ip is None else ip


def _read_certificate(facts: _Facts) -> Any:
    expires = facts.result.certificate_expires_at
    if expires is None:
        return facts.missing("no certificate")
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    return (expires - facts.now).total_seconds() * 1000.0


def _read_rcode(facts: _Facts) -> Any:
    rcode = facts.result.dns_rcode
    return facts.missing("no DNS rcode") if rcode is None else rcode.upper()


def _read_answers(facts: _Facts) -> Any:
    # Answers mean something only when a DNS query got a reply at all.
    return facts.missing("no DNS reply") if facts.result.dns_rcode is None else facts.result.dns_answers


_SIMPLE = {
    "STATUS": _Subject("[STATUS]", NUMBER, _read_status),
    "RESPONSE_TIME": _Subject("[RESPONSE_TIME]", DURATION, lambda facts: facts.result.duration_ms,
                              lambda ms: f"{_as_text(round(ms, 1))}ms"),
    "CONNECTED": _Subject("[CONNECTED]", BOOL, lambda facts: facts.result.connected),
    "IP": _Subject("[IP]", VALUE, _read_ip),
    "CERTIFICATE_EXPIRATION": _Subject("[CERTIFICATE_EXPIRATION]", DURATION, _read_certificate,
                                       _format_duration),
    "DNS_RCODE": _Subject("[DNS_RCODE]", VALUE, _read_rcode),
    "DNS_ANSWERS": _Subject("[DNS_ANSWERS]", ANSWERS, _read_answers,
                            lambda answers: ", ".join(answers) or "no answers"),
}


def _walk(value: Any, path: tuple[str | int, ...]) -> Any:
    where = "[BODY]"
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list):
                return _Missing(f"{where} is {_json_type(value)}, not an array")
            if step >= len(value):
                return _Missing(f"{where} has no [{step}] (length {len(value)})")
            value = value[step]
            where += f"[{step}]"
        else:
            if not isinstance(value, dict):
                return _Missing(f"{where} is {_json_type(value)}, not an object")
            if step not in value:
                return _Missing(f"{where} has no key '{step}'")
            value = value[step]
            where += f".{step}"
    return value


def _body_subject(expr: str, rest: str) -> _Subject:
    path: list[str | int] = []
    at = 0
    while at < len(rest):
        step = _PATH_STEP.match(rest, at)
        if step is None:
            raise ConfigError(f"bad JSON path {expr}: expected .key or [index] at '{rest[at:]}'")
        path.append(step.group(1) if step.group(1) is not None else int(step.group(2)))
        at = step.end()
    if not path:
        return _Subject(expr, VALUE, _Facts.text)
    steps = tuple(path)

    def read(facts: _Facts) -> Any:
        document = facts.json()
        return document if isinstance(document, _Missing) else _walk(document, steps)

    return _Subject(expr, VALUE, read)


def _header_subject(expr: str, name: str) -> _Subject:
    def read(facts: _Facts) -> Any:
        headers = facts.headers()
        if isinstance(headers, _Missing):
            return headers
        value = headers.get(name)
        return _Missing(f"no header {name}") if value is None else value

    return _Subject(expr, VALUE, read)


def _len_of(inner: _Subject) -> _Subject:
    def read(facts: _Facts) -> Any:
        value = inner.read(facts)
        if isinstance(value, _Missing):
            return value
        if isinstance(value, str | list | dict | tuple):
            return len(value)
        return _Missing(f"{inner.text} is {_json_type(value)}, which has no length")

    return _Subject(f"len({inner.text})", NUMBER, read)


def _has(inner: _Subject) -> _Subject:
    def read(facts: _Facts) -> Any:
        return not isinstance(inner.read(facts), _Missing)

    return _Subject(f"has({inner.text})", BOOL, read)


def _unknown_placeholder(name: str) -> str:
    head, dot, tail = name.partition(".")
    if dot and head.upper() in ("BODY", "HEADER"):
        return f"unknown placeholder [{name}]; did you mean [{head.upper()}].{tail}?"
    close = difflib.get_close_matches(name.upper(), PLACEHOLDERS, n=1)
    if close:
        return f"unknown placeholder [{name}]; did you mean [{close[0]}]?"
    known = ", ".join(f"[{p}]" for p in PLACEHOLDERS)
    return f"unknown placeholder [{name}]; known placeholders are {known}"


def _parse_placeholder(expr: str) -> _Subject:
    match = _PLACEHOLDER.match(expr)
    if match is None:
        raise ConfigError(f"expected a placeholder such as [STATUS]; got '{expr}'")
    name, rest = match.group(1), expr[match.end():]
    if name not in PLACEHOLDERS:
        raise ConfigError(_unknown_placeholder(name))
    if name == "BODY":
        return _body_subject(expr, rest)
    if name == "HEADER":
        header = _HEADER_NAME.fullmatch(rest)
        if header is None:
            raise ConfigError(f"[HEADER] needs a header name, e.g. [HEADER].content-type; got '{expr}'")
        return _header_subject(expr, header.group(1).lower())
    if rest:
        raise ConfigError(f"[{name}] takes no path; got '{expr}'")
    return _SIMPLE[name]


def _parse_left(left: str) -> _Subject:
    call = _CALL.fullmatch(left)
    if call is not None:
        name, inner = call.group(1), call.group(2).strip()
        if name in RIGHT_FUNCTIONS:
            raise ConfigError(f"{name}() belongs on the right side, e.g. [BODY].state == {name}(…)")
        if name not in LEFT_FUNCTIONS:
            close = difflib.get_close_matches(name.lower(), LEFT_FUNCTIONS, n=1)
            hint = f"did you mean {close[0]}()?" if close else "the left side takes len() or has()"
            raise ConfigError(f"unknown function {name}(); {hint}")
        if not inner.startswith("["):
            raise ConfigError(f"{name}() takes a placeholder such as [BODY]; got '{inner}'")
        subject = _parse_placeholder(inner)
        if name == "has":
            return _has(subject)
        if subject.kind not in (VALUE, ANSWERS):
            raise ConfigError(f"len() takes [BODY], [HEADER], [IP], [DNS_RCODE] or [DNS_ANSWERS]; "
                              f"not {subject.text}")
        return _len_of(subject)
    if left.startswith("["):
        return _parse_placeholder(left)
    raise ConfigError(f"the left side must be a placeholder such as [STATUS], len(…) or has(…); got '{left}'")


def _milliseconds(text: str) -> float | None:
    if _NUMBER.fullmatch(text):
        return float(text)
    lowered = text.lower()
    if _DURATION.fullmatch(lowered):
        return sum(float(count) * _UNIT_MS[unit] for count, unit in _DURATION_PART.findall(lowered))
    return None


@dataclass(frozen=True, slots=True)
class _Text:
    """A right-side value for a string-ish left side; ``number`` when it reads as one."""

    text: str
    number: float | None


def _literal(text: str, subject: _Subject) -> Any:
    kind = subject.kind
    if kind == NUMBER:
        if not _NUMBER.fullmatch(text):
            raise ConfigError(f"{subject.text} compares with a number; got '{text}'")
        return float(text)
    if kind == DURATION:
        ms = _milliseconds(text)
        if ms is None:
            raise ConfigError(f"bad duration '{text}' for {subject.text}: {_DURATION_HINT}")
        return ms
    if kind == BOOL:
        if text not in ("true", "false"):
            raise ConfigError(f"{subject.text} compares with true or false; got '{text}'")
        return text == "true"
    if subject.text == "[DNS_RCODE]":
        text = text.upper()  # rcodes are names: noerror means NOERROR
    return _Text(text, float(text) if _NUMBER.fullmatch(text) else None)


def _compare_value(value: Any, compare: Callable[[Any, Any], bool], literal: _Text) -> bool:
    """Numbers compare as numbers when both sides are numbers; anything else as text."""
    if literal.number is not None and not isinstance(value, bool):
        if isinstance(value, int | float):
            return compare(value, literal.number)
        if isinstance(value, str) and _NUMBER.fullmatch(value):
            return compare(float(value), literal.number)
    return compare(_as_text(value), literal.text)


def _compare_plain(value: Any, compare: Callable[[Any, Any], bool], literal: Any) -> bool:
    return compare(value, literal)


def _glob(pattern: str) -> Callable[[str], bool]:
    """``*`` and ``?`` matching without backtracking regexes: each piece between
    stars is found leftmost in turn, so a pattern with many stars against a large
    body stays linear."""
    pieces = [
        (re.compile("".join("." if char == "?" else re.escape(char) for char in piece), re.S), len(piece))
        for piece in pattern.split("*")
    ]
    if len(pieces) == 1:
        only = pieces[0][0]
        return lambda text: only.fullmatch(text) is not None
    (head, head_len), *middle, (tail, tail_len) = pieces

    def matches(text: str) -> bool:
        if head.match(text) is None:
            return False
        at = head_len
        for piece, _ in middle:
            found = piece.search(text, at)
            if found is None:
                return False
            at = found.end()
        start = len(text) - tail_len
        return start >= at and tail.fullmatch(text, start) is not None

    return matches


def _parse_right(right: str, subject: _Subject, op: str) -> Callable[[Any], bool]:
    kind = subject.kind
    call = _CALL.fullmatch(right)
    function = inner = ""
    if call is not None and call.group(1) in LEFT_FUNCTIONS + RIGHT_FUNCTIONS:
        function, inner = call.group(1), call.group(2).strip()
    if function in LEFT_FUNCTIONS:
        raise ConfigError(f"{function}() belongs on the left side, e.g. {function}([BODY].items) {op} …")
    placeholder = _PLACEHOLDER.match(right)
    if placeholder is not None and placeholder.group(1) in PLACEHOLDERS:
        raise ConfigError(f"placeholder {placeholder.group(0)} on the right side; "
                          "the right side is a value, e.g. [STATUS] == 200")
    if op not in ("==", "!=") and (function or kind in (BOOL, ANSWERS)):
        what = f"{function}()" if function else subject.text
        raise ConfigError(f"{what} works only with == and !=, not {op}")
    if function and kind in (BOOL, DURATION):
        raise ConfigError(f"{function}() does not apply to {subject.text}")
    compare_one = _compare_value if kind in (VALUE, ANSWERS) else _compare_plain

    if function == "pat":
        if not inner:
            raise ConfigError("pat() needs a pattern, e.g. pat(*ok*)")
        glob = _glob(inner.upper() if subject.text == "[DNS_RCODE]" else inner)

        def one(value: Any) -> bool:
            return glob(_as_text(value))
    elif function == "any":
        items = [item.strip() for item in inner.split(",")]
        if "" in items:
            raise ConfigError("any() has an empty value; write any(a, b, c)")
        choices = tuple(_literal(item, subject) for item in items)

        def one(value: Any) -> bool:
            return any(compare_one(value, operator.eq, choice) for choice in choices)
    else:
        literal = _literal(right, subject)
        compare = _COMPARE[op]
        if kind != ANSWERS:
            return lambda value: compare_one(value, compare, literal)

        def one(value: Any) -> bool:
            return compare_one(value, operator.eq, literal)

    if kind == ANSWERS:
        # "[DNS_ANSWERS] == 1.2.3.4" means "among the answers": their order changes per query.
        def match(answers: Any) -> bool:
            return any(one(answer) for answer in answers)
    else:
        match = one
    return match if op == "==" else lambda value: not match(value)


def _check_balanced(text: str) -> None:
    stack: list[tuple[str, int]] = []
    for column, char in enumerate(text, 1):
        if char in "[(":
            stack.append((char, column))
        elif char in "])":
            if not stack:
                raise ConfigError(f"unbalanced brackets: '{char}' at column {column} "
                                  f"has no opening '{_OPENING[char]}'")
            opening, opened_at = stack.pop()
            if opening != _OPENING[char]:
                raise ConfigError(f"unbalanced brackets: '{char}' at column {column} "
                                  f"closes '{opening}' from column {opened_at}")
    if stack:
        char, column = stack[-1]
        raise ConfigError(f"unbalanced brackets: '{char}' at column {column} is never closed")


def _split(text: str) -> tuple[str, str, str]:
    depth = 0
    for at, char in enumerate(text):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif depth == 0:
            for op in OPERATORS:
                if text.startswith(op, at):
                    return text[:at].strip(), op, text[at + len(op):].strip()
    hint = "; '=' is not an operator, use ==" if "=" in text else ""
    raise ConfigError(f"missing operator: expected one of ==, !=, <, <=, >, >={hint}")


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed condition; two conditions are equal when their text is."""

    text: str
    _subject: _Subject = field(repr=False, compare=False)
    _test: Callable[[Any], bool] = field(repr=False, compare=False)

    def __str__(self) -> str:
        return self.text

    def evaluate(self, result: ProbeResult, *, now: datetime) -> ConditionResult:
        return self._evaluate(_Facts(result, now))

    def _evaluate(self, facts: _Facts) -> ConditionResult:
        value = self._subject.read(facts)
        if isinstance(value, _Missing):
            return ConditionResult(self.text, False, _shorten(value.reason))
        return ConditionResult(self.text, self._test(value), _shorten(self._subject.show(value)))


def _shorten(text: str) -> str:
    if len(text) > MAX_ACTUAL_CHARS:
        text = text[: MAX_ACTUAL_CHARS - 1] + "…"
    return text.replace("\r", " ").replace("\n", " ")


def parse_condition(text: str) -> Condition:
    """Parse one condition; ``ConfigError`` says what is wrong, without the key path."""
    text = text.strip()
    if not text:
        raise ConfigError("empty condition")
    _check_balanced(text)
    left, op, right = _split(text)
    if not left:
        raise ConfigError(f"empty left side: write a placeholder before {op}, e.g. [STATUS] {op} 200")
    if not right:
        raise ConfigError(f"empty right side: write a value after {op}, e.g. [STATUS] {op} 200")
    subject = _parse_left(left)
    return Condition(text, subject, _parse_right(right, subject, op))


def evaluate_all(
    conditions: Sequence[Condition], result: ProbeResult, *, now: datetime
) -> tuple[bool, tuple[ConditionResult, ...]]:
    """Evaluate every condition over one result (the body is parsed once). With no
    conditions the result is judged by ``default_ok``, so no caller can forget it."""
    if not conditions:
        return default_ok(result), ()
    facts = _Facts(result, now)
    results = tuple(condition._evaluate(facts) for condition in conditions)
    return all(outcome.ok for outcome in results), results


def default_ok(result: ProbeResult) -> bool:
    """Healthy without conditions: no error, and an HTTP status below 400, a DNS rcode
    of NOERROR, or (TCP, TLS) a connection. The kind is read from what the result holds."""
    if result.error is not None:
        return False
    if result.status is not None:
        return result.status < 400
    if result.dns_rcode is not None:
        return result.dns_rcode.upper() == "NOERROR"
    return result.connected
