from __future__ import annotations

from pathlib import Path

import pytest

from signalfire.config.settings import Settings, env_var, load_settings
from signalfire.errors import ConfigError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_it_uses_the_defaults_when_nothing_is_set():
    settings = load_settings({})

    assert settings.database_url is None
    assert settings.data_dir == Path("data")
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.secret_key is None
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.log_level == "info"
    assert settings.log_format == "text"
    assert settings.page_file is None
    assert settings.max_body_bytes == 1_000_000


@pytest.mark.parametrize(("variable", "value", "field", "expected"), [
    ("SIGNALFIRE_DATABASE_URL", "postgresql://db/sf", "database_url", "postgresql://db/sf"),
    ("SIGNALFIRE_DATA_DIR", "/var/lib/signalfire", "data_dir", Path("/var/lib/signalfire")),
    ("SIGNALFIRE_BASE_URL", "https://status.example.com", "base_url",
     "https://status.example.com"),
    # Links are built as base_url + "/path": a trailing slash is dropped.
    ("SIGNALFIRE_BASE_URL", "https://status.example.com/", "base_url",
     "https://status.example.com"),
    ("SIGNALFIRE_SECRET_KEY", "s3cret", "secret_key", "s3cret"),
    ("SIGNALFIRE_HOST", "0.0.0.0", "host", "0.0.0.0"),
    ("SIGNALFIRE_PORT", "9000", "port", 9000),
    ("SIGNALFIRE_PORT", " 65535 ", "port", 65535),
    ("SIGNALFIRE_PORT", "1", "port", 1),
    ("SIGNALFIRE_LOG_LEVEL", "debug", "log_level", "debug"),
    ("SIGNALFIRE_LOG_LEVEL", "WARNING", "log_level", "warning"),
    ("SIGNALFIRE_LOG_FORMAT", "json", "log_format", "json"),
    ("SIGNALFIRE_PAGE_FILE", "/etc/signalfire/pages.yaml", "page_file",
     Path("/etc/signalfire/pages.yaml")),
    ("SIGNALFIRE_MAX_BODY_BYTES", "2_000_000", "max_body_bytes", 2_000_000),
    # An empty value (`NAME=` in a compose file) means "use the default".
    ("SIGNALFIRE_PORT", "", "port", 8000),
])
def test_it_reads_each_variable(variable, value, field, expected):
    settings = load_settings({variable: value})

    assert getattr(settings, field) == expected


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("SIGNALFIRE_PORT", "abc",
     "SIGNALFIRE_PORT: must be an integer between 1 and 65535, got 'abc'"),
    ("SIGNALFIRE_PORT", "0",
     "SIGNALFIRE_PORT: must be an integer between 1 and 65535, got '0'"),
    ("SIGNALFIRE_PORT", "65536",
     "SIGNALFIRE_PORT: must be an integer between 1 and 65535, got '65536'"),
    ("SIGNALFIRE_PORT", "8000.0",
     "SIGNALFIRE_PORT: must be an integer between 1 and 65535, got '8000.0'"),
    ("SIGNALFIRE_MAX_BODY_BYTES", "1MB",
     "SIGNALFIRE_MAX_BODY_BYTES: must be an integer of at least 1, got '1MB'"),
    ("SIGNALFIRE_MAX_BODY_BYTES", "-5",
     "SIGNALFIRE_MAX_BODY_BYTES: must be an integer of at least 1, got '-5'"),
    ("SIGNALFIRE_LOG_LEVEL", "verbose",
     "SIGNALFIRE_LOG_LEVEL: must be one of debug, info, warning, error, got 'verbose'"),
    ("SIGNALFIRE_LOG_FORMAT", "yaml",
     "SIGNALFIRE_LOG_FORMAT: must be one of text, json, got 'yaml'"),
    ("SIGNALFIRE_BASE_URL", "status.example.com",
     "SIGNALFIRE_BASE_URL: must be an http(s) URL, got 'status.example.com'"),
])
def test_a_bad_value_stops_start_up_naming_the_variable(variable, value, message):
    with pytest.raises(ConfigError) as caught:
        load_settings({variable: value})

    assert caught.value.message == message
    assert caught.value.errors == [message]


def test_it_reports_every_bad_variable_at_once():
    with pytest.raises(ConfigError) as caught:
        load_settings({"SIGNALFIRE_PORT": "http", "SIGNALFIRE_LOG_FORMAT": "xml",
                       "SIGNALFIRE_SECRET_KEY": "a", "SIGNALFIRE_SECRET_KEY_FILE": "/run/key"})

    assert caught.value.errors == [
        ("SIGNALFIRE_SECRET_KEY: set both SIGNALFIRE_SECRET_KEY and "
        "SIGNALFIRE_SECRET_KEY_FILE; set only one"),
        "SIGNALFIRE_PORT: must be an integer between 1 and 65535, got 'http'",
        "SIGNALFIRE_LOG_FORMAT: must be one of text, json, got 'xml'",
    ]
    assert all(line in caught.value.message for line in caught.value.errors)


def test_it_ignores_unrelated_and_unknown_variables():
    settings = load_settings({"PORT": "1", "SIGNALFIRE_PROT": "x", "SIGNALFIRE_TEST_URL": "y"})

    assert settings.port == 8000


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_can_come_from_a_file(tmp_path, field):
    sample = {"port": "9000", "log_level": "error", "log_format": "json",
              "max_body_bytes": "512", "base_url": "https://status.example.com",
              "observation_retention_days": "30", "trusted_proxies": "10.0.0.0/8, ::1",
              "report_window_minutes": "15", "report_retention_days": "7",
              "report_rate_per_minute": "20", "report_burst": "3", "smtp_port": "2525",
              "smtp_security": "starttls", "notify_coalesce_seconds": "10"}
    value = sample.get(field, "/srv/value")
    secret = tmp_path / "secret"
    secret.write_text(f"  {value}\n", encoding="utf-8")

    settings = load_settings({env_var(field) + "_FILE": str(secret)})

    assert str(getattr(settings, field)) == value


def test_a_secret_file_is_read_stripped(tmp_path):
    secret = tmp_path / "key"
    secret.write_text("s3cret\n", encoding="utf-8")

    settings = load_settings({"SIGNALFIRE_SECRET_KEY_FILE": str(secret)})

    assert settings.secret_key == "s3cret"


def test_a_missing_secret_file_names_the_file_variable(tmp_path):
    missing = tmp_path / "nope"

    with pytest.raises(ConfigError) as caught:
        load_settings({"SIGNALFIRE_SECRET_KEY_FILE": str(missing)})

    assert caught.value.errors == [
        f"SIGNALFIRE_SECRET_KEY_FILE: cannot read '{missing}': No such file or directory"]


def test_a_bad_value_from_a_file_names_the_file_variable(tmp_path):
    port = tmp_path / "port"
    port.write_text("eighty\n", encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_settings({"SIGNALFIRE_PORT_FILE": str(port)})

    assert caught.value.errors == [
        "SIGNALFIRE_PORT_FILE: must be an integer between 1 and 65535, got 'eighty'"]


def test_setting_a_variable_and_its_file_is_an_error(tmp_path):
    secret = tmp_path / "key"
    secret.write_text("from-file", encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_settings({"SIGNALFIRE_SECRET_KEY": "from-env",
                       "SIGNALFIRE_SECRET_KEY_FILE": str(secret)})

    assert caught.value.message == ("SIGNALFIRE_SECRET_KEY: set both SIGNALFIRE_SECRET_KEY "
                                    "and SIGNALFIRE_SECRET_KEY_FILE; set only one")


def test_overrides_win_over_the_environment():
    settings = load_settings({"SIGNALFIRE_PORT": "9000", "SIGNALFIRE_HOST": "::1"},
                             port=9100, host=None)

    assert settings.port == 9100
    assert settings.host == "::1"  # None means "option not given"


def test_a_bad_override_names_the_setting():
    with pytest.raises(ConfigError) as caught:
        load_settings({}, port=70000)

    assert caught.value.errors == ["port: must be an integer between 1 and 65535, got 70000"]


def test_an_unknown_override_is_a_programming_error():
    with pytest.raises(TypeError, match="'prot'"):
        load_settings({}, prot=1)


def test_secrets_stay_out_of_the_repr():
    settings = load_settings({"SIGNALFIRE_SECRET_KEY": "s3cret",
                              "SIGNALFIRE_DATABASE_URL": "postgresql://u:pw@db/sf"})

    assert "s3cret" not in repr(settings)
    assert "pw@" not in repr(settings)


@pytest.mark.parametrize(("environ", "url"), [
    ({}, "sqlite:///data/signalfire.db"),
    ({"SIGNALFIRE_DATA_DIR": "/var/lib/sf"}, "sqlite:////var/lib/sf/signalfire.db"),
    ({"SIGNALFIRE_DATABASE_URL": "postgresql://db/sf", "SIGNALFIRE_DATA_DIR": "/var/lib/sf"},
     "postgresql://db/sf"),
])
def test_the_database_url_defaults_to_sqlite_in_the_data_dir(environ, url):
    assert load_settings(environ).resolved_database_url() == url


def test_ensure_data_dir_creates_it_with_its_parents(tmp_path):
    settings = load_settings({"SIGNALFIRE_DATA_DIR": str(tmp_path / "a" / "b")})

    assert settings.ensure_data_dir() == tmp_path / "a" / "b"
    assert (tmp_path / "a" / "b").is_dir()
    settings.ensure_data_dir()  # a second time is fine


def test_ensure_data_dir_names_the_variable_when_it_cannot(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    settings = load_settings({"SIGNALFIRE_DATA_DIR": str(blocker / "data")})

    with pytest.raises(ConfigError, match=r"^SIGNALFIRE_DATA_DIR: cannot create directory"):
        settings.ensure_data_dir()


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_documented(field):
    assert f"`{env_var(field)}`" in DOCS.read_text(encoding="utf-8")


def test_trusted_proxies_name_the_bad_entry():
    with pytest.raises(ConfigError, match=r"SIGNALFIRE_TRUSTED_PROXIES: .*'10.0.0.300'"):
        load_settings({"SIGNALFIRE_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.300"})

    ok = load_settings({"SIGNALFIRE_TRUSTED_PROXIES": " 127.0.0.1 ,10.0.0.0/8,"})
    assert ok.trusted_proxy_networks() == ("127.0.0.1", "10.0.0.0/8")
