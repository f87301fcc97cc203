"""When the certificate a TLS connection received expires."""

from __future__ import annotations

import ssl
from datetime import datetime
from typing import Any

from cryptography import x509


def expires_at(ssl_object: ssl.SSLObject | ssl.SSLSocket | Any) -> datetime | None:
    """The peer certificate's notAfter (aware UTC), or None if there is none to read.

    The stdlib decodes only a certificate it verified (``getpeercert()`` is
    empty under ``CERT_NONE``); cryptography reads the DER the handshake
    received either way, so ``verify: false`` still reports the expiry.
    Raises ValueError for a certificate that does not parse.
    """
    getpeercert = getattr(ssl_object, "getpeercert", None)
    der = getpeercert(binary_form=True) if getpeercert else None
    if not der:
        return None
    return x509.load_der_x509_certificate(der).not_valid_after_utc
