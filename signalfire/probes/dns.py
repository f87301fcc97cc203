"""DNS check: ask one nameserver about the target and report its rcode and answers.

The query goes straight to a nameserver (the ``resolver`` option, or the
host's own from resolv.conf, tried in order), not through a caching stub
resolver: the check reports what that server says *now*. An NXDOMAIN or
SERVFAIL answer is a result (``dns_rcode``) for conditions to judge; only
getting no answer at all is an error.
"""

from __future__ import annotations

import asyncio

import dns.asyncquery
import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.resolver

from signalfire.domain.probe import Monitor, MonitorKind, ProbeResult
from signalfire.probes import kind as k
from signalfire.probes.context import ProbeContext
from signalfire.probes.failures import classify

RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "NS", "SOA", "SRV", "CAA", "PTR")

OPTIONS = {
    "record_type": k.Option("Record type asked for: one of " + ", ".join(RECORD_TYPES) + ".",
                            "A", k.one_of(*RECORD_TYPES)),
    "resolver": k.Option("Nameserver to ask, `IP` or `IP:port` (`[IPv6]:port`). Unset: the "
                         "host's nameservers from `/etc/resolv.conf`, in order.", None, k.nameserver),
}


def validate_target(target: str) -> str | None:
    if not target or any(c.isspace() for c in target):
        return "must be a domain name such as example.com"
    try:
        dns.name.from_text(target)
    except dns.exception.DNSException as exc:
        return f"{target!r} is not a domain name: {exc}"
    return None


async def run(monitor: Monitor, ctx: ProbeContext) -> ProbeResult:
    started_at = ctx.clock()
    start = ctx.monotonic()

    def failed(error: str, detail: str) -> ProbeResult:
        return ProbeResult(started_at=started_at, duration_ms=(ctx.monotonic() - start) * 1000,
                           error=error, error_detail=detail)

    problems = KIND.validate_options(monitor.options)
    if problems:
        return failed("invalid_options", "; ".join(problems))
    problem = validate_target(monitor.target)
    if problem:
        return failed("invalid_target", problem)
    options = KIND.resolve_options(monitor.options)
    rdtype = dns.rdatatype.from_text(options["record_type"].upper())
    query = dns.message.make_query(dns.name.from_text(monitor.target), rdtype)

    try:
        if options["resolver"]:
            nameservers: tuple[tuple[str, int], ...] = (k.parse_nameserver(options["resolver"]),)
        else:
            nameservers = ctx.system_nameservers()
    except dns.resolver.NoResolverConfiguration:
        nameservers = ()
    if not nameservers:
        return failed("dns_failure", "no nameserver: set the resolver option")

    response = None
    last_error: Exception | None = None
    try:
        async with asyncio.timeout(monitor.timeout_s):
            for ip, port in nameservers:
                try:
                    # Each server gets its share of the timeout, so a dead
                    # first one leaves time to ask the next.
                    response, _ = await dns.asyncquery.udp_with_fallback(
                        query, ip, port=port, timeout=monitor.timeout_s / len(nameservers))
                    break
                except (OSError, dns.exception.DNSException) as exc:
                    last_error = exc
    except Exception as exc:
        return failed(*classify(exc, timeout_s=monitor.timeout_s))
    if response is None:
        assert last_error is not None
        error, detail = classify(last_error, timeout_s=monitor.timeout_s)
        # An unreachable nameserver is a failure to resolve, whatever the socket said.
        return failed(error if error in ("timeout", "invalid_response") else "dns_failure", detail)

    answers = tuple(rdata.to_text() for rrset in response.answer if rrset.rdtype == rdtype
                    for rdata in rrset)
    return ProbeResult(started_at=started_at, duration_ms=(ctx.monotonic() - start) * 1000,
                       connected=True, dns_rcode=dns.rcode.to_text(response.rcode()),
                       dns_answers=answers)


KIND = k.ProbeKind(kind=MonitorKind.DNS, run=run, options=OPTIONS, validate_target=validate_target)
