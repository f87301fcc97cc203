"""Where a report comes from: the client address (behind trusted proxies only) and
its country from a GeoIP database that ships with the package (no network)."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterable
from functools import lru_cache

import pycountry


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


def is_country(code: str) -> bool:
    """An ISO 3166-1 alpha-2 code (upper case)."""
    return code in _countries()


class ClientAddress:
    """The address a request comes from. ``X-Forwarded-For`` is believed only when
    the direct peer is one of ``trusted_proxies``; otherwise anyone could claim
    any address and dodge the per-reporter counting."""

    def __init__(self, trusted_proxies: Iterable[str] = ()) -> None:
        self.networks = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]
        # (family, network as int, mask as int): the check runs on every report,
        # and ``ipaddress`` objects cost ~20 µs a request where this costs ~1.
        self._masks = [(socket.AF_INET if n.version == 4 else socket.AF_INET6,
                        int(n.network_address), int(n.netmask)) for n in self.networks]

    def _trusted(self, address: str) -> bool:
        if not self._masks:
            return False
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        try:
            value = int.from_bytes(socket.inet_pton(family, address), "big")
        except (OSError, ValueError):
            return False
        return any(f == family and value & mask == net for f, net, mask in self._masks)

    def of(self, peer: str | None, forwarded_for: str | None) -> str:
        address = peer or ""
        if forwarded_for and self._trusted(address):
            # Walk from the right: the last address not ours is the client.
            for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
                address = hop
                if not self._trusted(hop):
                    break
        return address


class CountryLookup:
    """Country of an address from the database geoip2fast ships; None when unknown."""

    def __init__(self) -> None:
        self._geo = None
        self._lock = threading.Lock()

    def _db(self):  # type: ignore[no-untyped-def]
        if self._geo is None:
            with self._lock:
                if self._geo is None:
                    from geoip2fast import GeoIP2Fast

                    self._geo = GeoIP2Fast()
        return self._geo

    def country(self, address: str) -> str | None:
        # geoip2fast answers an error code for anything that is not an address.
        code = self._db().lookup(address).country_code
        return code if is_country(code) else None
