"""The `signalfire` command, run as a user runs it (settings from the environment)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from signalfire.cli import reference
from signalfire.cli.main import main

FEED = Path(__file__).parent.parent / "data" / "github-status" / "github-status-history.atom"
DOCS = Path(__file__).parent.parent.parent / "docs" / "cli.md"

PAGEFILE = """
pages:
  - slug: app
    name: App
    groups:
      - name: Core
        components:
          - name: Feed
    components:
      - name: API
"""


@pytest.fixture
def run(tmp_path):
    runner = CliRunner()
    env = {"SIGNALFIRE_DATA_DIR": str(tmp_path / "data")}

    def invoke(*args: str, **extra_env: str):
        return runner.invoke(main, list(args), env={**env, **extra_env}, catch_exceptions=False)
    return invoke


def test_db_upgrade_creates_the_schema_in_the_data_dir(run, tmp_path):
    from alembic.script import ScriptDirectory

    from signalfire.store.engine import MIGRATIONS_DIR

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert run("db", "current").output.strip().startswith("empty")
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert head in result.output
    assert (tmp_path / "data" / "signalfire.db").exists()
    assert run("db", "current").output.strip() == head


def test_config_validate_accepts_a_good_file(run, tmp_path):
    f = tmp_path / "page.yaml"
    f.write_text(PAGEFILE)
    result = run("config", "validate", str(f))
    assert result.exit_code == 0
    assert "ok (1 page)" in result.output


def test_config_validate_names_every_bad_key_path(run, tmp_path):
    f = tmp_path / "page.yaml"
    f.write_text(PAGEFILE.replace("name: Feed", "nmae: Feed") + "    colour: red\n")
    result = run("config", "validate", str(f))
    assert result.exit_code == 2
    assert "pages[0].groups[0].components[0]" in result.output
    assert "pages[0].colour" in result.output


def test_errors_keep_their_square_brackets(run, tmp_path):
    f = tmp_path / "page.yaml"
    f.write_text(PAGEFILE + """    monitors:
      - name: api
        component: API
        kind: http
        target: https://example.com/
        conditions: ["[STAUTS] == 200"]
""")
    result = run("config", "validate", str(f))
    assert result.exit_code == 2
    assert "unknown placeholder [STAUTS]; did you mean [STATUS]?" in result.output


def test_config_apply_is_idempotent(run, tmp_path):
    f = tmp_path / "page.yaml"
    f.write_text(PAGEFILE)
    first = run("config", "apply", str(f))
    assert first.exit_code == 0 and "created" in first.output
    assert "nothing to change" in run("config", "apply", str(f)).output


def test_token_create_list_revoke(run):
    created = run("token", "create", "--name", "deploy-bot")
    assert created.exit_code == 0
    secret = created.output.strip()
    assert secret.startswith("sf_")
    listing = run("token", "list").output
    assert "deploy-bot" in listing and secret not in listing
    token_id = next(line.split()[1] for line in listing.splitlines() if "deploy-bot" in line)
    assert run("token", "revoke", token_id).exit_code == 0
    assert "deploy-bot" not in run("token", "list").output
    bad = run("token", "revoke", "nosuchtoken")
    assert bad.exit_code == 2 and "nosuchtoken" in bad.output


def test_import_statuspage_feed_into_the_first_page(run, tmp_path):
    f = tmp_path / "page.yaml"
    f.write_text(PAGEFILE)
    run("config", "apply", str(f))
    first = run("import", "statuspage-feed", str(FEED))
    assert first.exit_code == 0, first.output
    assert "imported 25 incidents into 'app', skipped 0" in first.output
    assert "imported 0 incidents into 'app', skipped 25" in run(
        "import", "statuspage-feed", str(FEED), "--page", "app").output


def test_import_without_a_page_says_what_to_do(run):
    result = run("import", "statuspage-feed", str(FEED))
    assert result.exit_code == 2
    assert "config apply" in result.output


def test_a_bad_setting_stops_with_the_variable_named(run):
    result = run("db", "upgrade", SIGNALFIRE_PORT="eighty")
    assert result.exit_code == 2
    assert "SIGNALFIRE_PORT" in result.output


def test_docs_cli_md_is_current():
    assert DOCS.read_text() == reference.render(), \
        "docs/cli.md is stale: run `make docs`"
