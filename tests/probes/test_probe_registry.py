"""The registry's contract: every kind is there, validates its options and target,
and turns a bad monitor into a result instead of an exception."""

from __future__ import annotations

import pytest

from signalfire.domain.probe import MonitorKind
from signalfire.probes import PROBES, ProbeContext

ACTIVE = [kind for kind in MonitorKind if PROBES[kind].active]


def test_every_monitor_kind_has_a_probe():
    assert set(PROBES) == set(MonitorKind)
    assert all(PROBES[kind].kind is kind for kind in MonitorKind)


@pytest.mark.parametrize("kind", list(MonitorKind))
def test_an_unknown_option_is_an_error_naming_it(kind):
    problems = PROBES[kind].validate_options({"tiemout": 5})

    assert len(problems) == 1
    assert problems[0].startswith("options.tiemout: unknown option")


@pytest.mark.parametrize("kind", list(MonitorKind))
def test_no_options_are_valid(kind):
    assert PROBES[kind].validate_options({}) == []


@pytest.mark.parametrize("kind", list(MonitorKind))
def test_options_must_be_a_mapping(kind):
    assert PROBES[kind].validate_options(["method", "GET"]) == ["options: must be a mapping, got list"]


@pytest.mark.parametrize("kind", list(MonitorKind))
def test_every_option_default_is_documented_and_not_none_or_passes_its_check(kind):
    for name, option in PROBES[kind].options.items():
        assert option.description, name
        if option.default is not None:
            assert option.check(option.default) is None, name


def test_every_problem_is_listed_at_once():
    problems = PROBES[MonitorKind.HTTP].validate_options(
        {"method": "FETCH", "verify_tls": "yes", "max_body_bytes": -1})

    assert [p.split(":")[0] for p in problems] == [
        "options.method", "options.verify_tls", "options.max_body_bytes"]


VALID = [
    (MonitorKind.HTTP, {"method": "post", "headers": {"X-Token": "t"}, "body": "{}",
                        "follow_redirects": False, "verify_tls": False, "http2": True,
                        "max_body_bytes": 0}),
    (MonitorKind.DNS, {"record_type": "mx", "resolver": "1.1.1.1"}),
    (MonitorKind.DNS, {"resolver": "127.0.0.1:5353"}),
    (MonitorKind.DNS, {"resolver": "[::1]:5353"}),
    (MonitorKind.DNS, {"resolver": "2606:4700:4700::1111"}),
    (MonitorKind.TLS, {"verify": False, "server_name": "status.example.com"}),
    (MonitorKind.HEARTBEAT, {"grace_s": 60}),
]


@pytest.mark.parametrize(("kind", "options"), VALID)
def test_valid_options_pass(kind, options):
    assert PROBES[kind].validate_options(options) == []


INVALID = [
    (MonitorKind.HTTP, "method", "FETCH", "must be one of GET"),
    (MonitorKind.HTTP, "headers", ["X-A: b"], "must be a mapping"),
    (MonitorKind.HTTP, "headers", {"X-A": 1}, "value must be a string"),
    (MonitorKind.HTTP, "headers", {"Bad Name": "x"}, "not a valid header name"),
    (MonitorKind.HTTP, "headers", {"X-A": "a\r\nInjected: yes"}, "line break"),
    (MonitorKind.HTTP, "body", {"json": True}, "must be a string"),
    (MonitorKind.HTTP, "follow_redirects", "true", "must be true or false"),
    (MonitorKind.HTTP, "verify_tls", 1, "must be true or false"),
    (MonitorKind.HTTP, "http2", None, "must be true or false"),
    (MonitorKind.HTTP, "max_body_bytes", -1, "integer from 0 to 10485760"),
    (MonitorKind.HTTP, "max_body_bytes", 10 * 1024 * 1024 + 1, "integer from 0"),
    (MonitorKind.HTTP, "max_body_bytes", 1.5, "integer from 0"),
    (MonitorKind.HTTP, "max_body_bytes", True, "integer from 0"),
    (MonitorKind.DNS, "record_type", "ANY", "must be one of A, AAAA"),
    (MonitorKind.DNS, "resolver", "dns.google", "not an IP address"),
    (MonitorKind.DNS, "resolver", "1.1.1.1:0", "port must be an integer from 1 to 65535"),
    (MonitorKind.DNS, "resolver", "1.1.1.1:99999", "port must be"),
    (MonitorKind.DNS, "resolver", "[::1", "expected [IPv6]:port"),
    (MonitorKind.DNS, "resolver", 53, "must be an IP address"),
    (MonitorKind.TLS, "verify", "no", "must be true or false"),
    (MonitorKind.TLS, "server_name", "not a name", "not a host name"),
    (MonitorKind.TLS, "server_name", 7, "must be a string"),
    (MonitorKind.HEARTBEAT, "grace_s", -5, "at least 0"),
]


@pytest.mark.parametrize(("kind", "key", "value", "message"), INVALID)
def test_invalid_options_name_the_key_and_say_why(kind, key, value, message):
    problems = PROBES[kind].validate_options({key: value})

    assert len(problems) == 1
    assert problems[0].startswith(f"options.{key}: ")
    assert message in problems[0]


TARGETS = [
    (MonitorKind.HTTP, "https://example.com/health", None),
    (MonitorKind.HTTP, "http://127.0.0.1:8080", None),
    (MonitorKind.HTTP, "http://[::1]:8080/x?y=1", None),
    (MonitorKind.HTTP, "example.com", "http:// or https://"),
    (MonitorKind.HTTP, "ftp://example.com", "http:// or https://"),
    (MonitorKind.HTTP, "https://", "no host"),
    (MonitorKind.HTTP, "", "http:// or https://"),
    (MonitorKind.TCP, "db.internal:5432", None),
    (MonitorKind.TCP, "10.0.0.1:22", None),
    (MonitorKind.TCP, "[2001:db8::1]:443", None),
    (MonitorKind.TCP, "db.internal", "expected host:port"),
    (MonitorKind.TCP, "db.internal:", "port must be"),
    (MonitorKind.TCP, "db.internal:70000", "port must be"),
    (MonitorKind.TCP, ":5432", "host is empty"),
    (MonitorKind.TCP, "bad host:5432", "not a host name"),
    (MonitorKind.TCP, "2001:db8::1", "expected host:port"),
    (MonitorKind.TLS, "example.com:443", None),
    (MonitorKind.TLS, "example.com", None),
    (MonitorKind.TLS, "2001:db8::1", None),
    (MonitorKind.TLS, "example.com:https", "port must be"),
    (MonitorKind.DNS, "example.com", None),
    (MonitorKind.DNS, "_sip._tcp.example.com", None),
    (MonitorKind.DNS, "example.com.", None),
    (MonitorKind.DNS, "", "domain name"),
    (MonitorKind.DNS, "exa mple.com", "domain name"),
    (MonitorKind.DNS, "a" * 64 + ".com", "not a domain name"),
    (MonitorKind.HEARTBEAT, "", None),
]


@pytest.mark.parametrize(("kind", "target", "message"), TARGETS)
def test_targets_are_validated(kind, target, message):
    problem = PROBES[kind].validate_target(target)

    if message is None:
        assert problem is None
    else:
        assert problem is not None and message in problem


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ACTIVE)
async def test_a_bad_monitor_is_a_result_not_an_exception(kind, clock, make_monitor):
    async with ProbeContext(clock=clock) as ctx:
        bad_target = await PROBES[kind].run(make_monitor(kind, "not a target"), ctx)
        bad_options = await PROBES[kind].run(
            make_monitor(kind, "not a target", options={"nope": 1}), ctx)

    assert bad_target.error == "invalid_target"
    assert bad_target.started_at == clock.now
    assert bad_options.error == "invalid_options"
    assert "options.nope" in bad_options.error_detail


@pytest.mark.anyio
async def test_closing_the_context_closes_its_clients(clock):
    ctx = ProbeContext(clock=clock)
    client = ctx.http_client(verify_tls=True, http2=False)

    await ctx.close()

    assert client.is_closed
    with pytest.raises(RuntimeError, match="closed"):
        ctx.http_client(verify_tls=True, http2=False)
