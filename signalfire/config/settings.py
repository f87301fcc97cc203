"""Settings from the environment, parsed strictly.

Every setting ``name`` is read from ``SIGNALFIRE_<NAME>``, or from the file named by
``SIGNALFIRE_<NAME>_FILE`` (its stripped contents are the value), so that secrets can
come from Docker/Kubernetes secret files instead of the process environment. Setting
both is an error: silently preferring one would hide which secret is in force.

A value that does not parse stops start-up with a ``ConfigError`` naming the variable;
a typo in ``SIGNALFIRE_PORT`` must not quietly become the default port. An empty value
counts as unset, because ``NAME=`` lines in compose files are common and mean "default".

``load_settings()`` is the one reader of the environment. ``Settings`` itself reads
nothing from the process: pydantic-settings' own environment source cannot be pointed
at a mapping (tests pass a dict), knows no ``_FILE`` rule and names fields rather than
variables in its errors.
"""

from __future__ import annotations

import ipaddress
import os
import re
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le
from pydantic import BeforeValidator, Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from signalfire.errors import ConfigError

ENV_PREFIX = "SIGNALFIRE_"
FILE_SUFFIX = "_FILE"
SQLITE_FILE_NAME = "signalfire.db"

_INTEGER = re.compile(r"[+-]?\d+(_\d+)*")


def _strict_int(value: Any) -> Any:
    # pydantic's lax mode takes "8000.0" and 8000.5-ish floats; a port or a byte limit
    # written that way is a mistake worth stopping for.
    # ValueError, not TypeError: pydantic turns only ValueError into a validation error.
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError("not an integer")


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


StrictInt = Annotated[int, BeforeValidator(_strict_int)]
LogLevel = Annotated[Literal["debug", "info", "warning", "error"], BeforeValidator(_lower)]
LogFormat = Annotated[Literal["text", "json"], BeforeValidator(_lower)]
SmtpSecurity = Annotated[Literal["none", "starttls", "tls"], BeforeValidator(_lower)]


class Settings(BaseSettings):
    """What a Signalfire process needs to start. Build it with ``load_settings()``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    # repr=False: a database URL may carry a password, and settings end up in logs.
    database_url: str | None = Field(
        default=None, repr=False,
        description="SQLAlchemy database URL. Unset means the SQLite file "
                    f"`{SQLITE_FILE_NAME}` inside `data_dir`.")
    data_dir: Path = Field(
        default=Path("./data"),
        description="Directory for the SQLite database and other local files; "
                    "created at start if missing.")
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public URL of this instance, used in links, feeds and e-mails.")
    secret_key: str | None = Field(
        default=None, repr=False,
        description="Key that signs sessions, tokens and webhook payloads.")
    host: str = Field(default="127.0.0.1", description="Address the web server listens on.")
    port: Annotated[StrictInt, Ge(1), Le(65535)] = Field(
        default=8000, description="TCP port the web server listens on.")
    log_level: LogLevel = Field(default="info", description="Least severe log level written.")
    log_format: LogFormat = Field(
        default="text", description="`text` for one `key=value` line per event, `json` for "
                                    "one JSON object per line.")
    page_file: Path | None = Field(
        default=None, description="YAML page file applied at start (see the page file "
                                  "reference below).")
    max_body_bytes: Annotated[StrictInt, Ge(1)] = Field(
        default=1_000_000, description="Largest request body accepted, in bytes; larger "
                                       "requests get 413.")
    observation_retention_days: Annotated[StrictInt, Ge(1)] = Field(
        default=14, description="Days raw probe observations are kept; minute, hour and "
                                "day rollups keep the history after that.")
    trusted_proxies: str = Field(
        default="", description="Comma-separated addresses or networks (CIDR) of the reverse "
                                "proxies in front of Signalfire; only from them is "
                                "`X-Forwarded-For` believed.")
    report_window_minutes: Annotated[StrictInt, Ge(1), Le(24 * 60)] = Field(
        default=30, description="A reporter counts once per page within this many minutes.")
    report_retention_days: Annotated[StrictInt, Ge(1)] = Field(
        default=30, description="Days raw crowd reports are kept; the per-minute counts "
                                "are kept for good.")
    report_rate_per_minute: Annotated[StrictInt, Ge(1)] = Field(
        default=10, description="Reports one address may send per minute to the public "
                                "intake before it gets 429.")
    report_burst: Annotated[StrictInt, Ge(1)] = Field(
        default=5, description="Reports one address may send at once before the per-minute "
                               "rate applies.")

    smtp_host: str | None = Field(
        default=None, description="SMTP server that sends subscribers' email; unset: email "
                                  "subscriptions are kept but nothing is sent.")
    smtp_port: Annotated[StrictInt, Ge(1), Le(65535)] = Field(
        default=25, description="Port of the SMTP server.")
    smtp_username: str | None = Field(default=None, description="SMTP user name, if the "
                                                                "server wants one.")
    smtp_password: str | None = Field(default=None, repr=False,
                                      description="SMTP password; prefer the _FILE form.")
    smtp_security: SmtpSecurity = Field(
        default="none", description="`none`, `starttls` or `tls` (implicit TLS, port 465).")
    mail_from: str = Field(default="status@localhost",
                           description="Address subscribers' email comes from.")
    notify_coalesce_seconds: Annotated[StrictInt, Ge(0), Le(3600)] = Field(
        default=30, description="Follow-up messages about one incident wait this long, so a "
                                "quick run of updates reaches people as one message.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only the values passed in: load_settings() reads the environment (see module doc).
        return (init_settings,)

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        # Links are built as base_url + "/path"; a trailing slash would double it.
        return value.rstrip("/")

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: str) -> str:
        for item in value.split(","):
            if item.strip():
                try:
                    ipaddress.ip_network(item.strip(), strict=False)
                except ValueError:
                    raise ValueError(f"{item.strip()!r} is not an address or network") from None
        return value

    def trusted_proxy_networks(self) -> tuple[str, ...]:
        return tuple(item.strip() for item in self.trusted_proxies.split(",") if item.strip())

    def smtp(self) -> Any:
        """The SMTP settings for the notifier, or None when no server is set."""
        if not self.smtp_host:
            return None
        from signalfire.notify.transports import SmtpConfig

        return SmtpConfig(host=self.smtp_host, port=self.smtp_port, sender=self.mail_from,
                          username=self.smtp_username, password=self.smtp_password,
                          security=self.smtp_security)

    def resolved_database_url(self) -> str:
        """``database_url``, or the SQLite file inside ``data_dir`` when it is unset."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / SQLITE_FILE_NAME).as_posix()}"

    def ensure_data_dir(self) -> Path:
        """Create ``data_dir`` (and its parents) if missing; return it."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"{env_var('data_dir')}: cannot create directory "
                              f"'{self.data_dir}': {exc.strerror or exc}") from None
        return self.data_dir


def env_var(field_name: str) -> str:
    """The environment variable that holds the setting ``field_name``."""
    return ENV_PREFIX + field_name.upper()


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Settings from ``environ`` (default ``os.environ``), then ``overrides``.

    ``overrides`` are keyword arguments named like the fields (``port=9000``), typically
    command-line options; an override of ``None`` means "not given", so CLI options that
    default to ``None`` can be passed straight through. Every problem found is reported
    at once in one ``ConfigError``, each line naming its variable.
    """
    env = os.environ if environ is None else environ
    errors: list[str] = []
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}  # field -> the variable (or override) it came from
    for name in Settings.model_fields:
        found = _read_one(env, name, errors)
        if found is not None:
            origins[name], values[name] = found
    for name, value in overrides.items():
        if name not in Settings.model_fields:
            raise TypeError(f"load_settings() got an unknown setting {name!r}")
        if value is not None:
            origins[name], values[name] = name, value
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        errors.extend(_explain(exc, values, origins))
    if not errors:
        return settings
    raise ConfigError(errors[0] if len(errors) == 1 else
                      "invalid settings:\n  " + "\n  ".join(errors), errors=errors)


def _read_one(env: Mapping[str, str], name: str,
              errors: list[str]) -> tuple[str, str] | None:
    """(variable, raw value) for one field, or None when it is unset."""
    var = env_var(name)
    file_var = var + FILE_SUFFIX
    direct = env.get(var, "")
    file_name = env.get(file_var, "")
    if direct and file_name:
        errors.append(f"{var}: set both {var} and {file_var}; set only one")
        return None
    if direct:
        return var, direct
    if not file_name:
        return None
    try:
        contents = Path(file_name).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        errors.append(f"{file_var}: cannot read '{file_name}': {reason}")
        return None
    return (file_var, contents) if contents else None


def _explain(exc: ValidationError, values: Mapping[str, Any],
             origins: Mapping[str, str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        if name in seen:  # a union reports one error per member; one line is enough
            continue
        seen.add(name)
        field = Settings.model_fields.get(name)
        if field is None:
            out.append(f"{name}: {error['msg']}")
            continue
        shown = "<hidden>" if not field.repr else repr(values.get(name))
        expected = _expected(field)
        if expected is not None:
            problem = f"must be {expected}"
        elif error["type"] == "value_error":
            problem = str(error["ctx"]["error"])  # our own validator's words
        else:
            problem = error["msg"][:1].lower() + error["msg"][1:]
        out.append(f"{origins.get(name, name)}: {problem}, got {shown}")
    return out


def _expected(field: FieldInfo) -> str | None:
    """How a valid value of ``field`` looks, when its type alone says so."""
    annotation = field.annotation
    if typing.get_origin(annotation) is Literal:
        return "one of " + ", ".join(str(a) for a in typing.get_args(annotation))
    if annotation is int:
        low = next((m.ge for m in field.metadata if isinstance(m, Ge)), None)
        high = next((m.le for m in field.metadata if isinstance(m, Le)), None)
        if low is not None and high is not None:
            return f"an integer between {low} and {high}"
        if low is not None:
            return f"an integer of at least {low}"
        return "an integer"
    if annotation is bool:
        return "true or false"
    return None
