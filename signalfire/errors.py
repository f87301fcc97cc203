"""The one error tree of Signalfire.

Failures are values inside the system (a probe that fails returns an
observation); exceptions are for the boundary, and every one raised on purpose
descends from ``SignalfireError``::

    SignalfireError
    ├── ConfigError            bad settings or page file; names the key path
    ├── InputError             a request or command carried bad data  -> 400/422
    │   ├── TransitionError    a state change the rules forbid        -> 409
    │   ├── PayloadTooLarge    the body is larger than allowed        -> 413
    │   └── TooManyRequests    one client asked too often             -> 429
    ├── NotFound               an id that names nothing               -> 404
    ├── AuthError              missing or wrong API token             -> 401
    ├── ImportFailure          a feed to import could not be read
    └── TransportError         a notification could not be delivered;
                               ``permanent`` when trying again cannot help

The web layer maps this tree to HTTP problem responses in one place
(``signalfire.web.problems``).
"""

from __future__ import annotations


class SignalfireError(Exception):
    """Base of every error Signalfire raises on purpose."""

    status_code = 500

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ConfigError(SignalfireError):
    """Settings or a page file are wrong; ``errors`` lists every problem with its key path."""

    def __init__(self, message: str, *, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or [message]


class InputError(SignalfireError):
    status_code = 422


class TransitionError(InputError):
    status_code = 409


class PayloadTooLarge(InputError):
    status_code = 413


class TooManyRequests(InputError):
    status_code = 429


class NotFound(SignalfireError):
    status_code = 404


class AuthError(SignalfireError):
    status_code = 401


class ImportFailure(SignalfireError):
    status_code = 422


class TransportError(SignalfireError):
    """A message was not delivered. ``permanent`` (a 410, a refused address) means
    trying again cannot help: the subscriber or channel is stopped."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
