"""docs/monitors.md documents every kind, every option and every error kind:
a new option without a line in the docs fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from signalfire.domain.probe import MonitorKind
from signalfire.probes import PROBES
from signalfire.probes.failures import ERROR_KINDS

DOC = (Path(__file__).parents[2] / "docs" / "monitors.md").read_text()


def section(kind: MonitorKind) -> str:
    match = re.search(rf"^## {kind.value}\n(.*?)(?=^## |\Z)", DOC, flags=re.S | re.M)
    assert match, f"docs/monitors.md has no '## {kind.value}' section"
    return match.group(1)


@pytest.mark.parametrize("kind", list(MonitorKind))
def test_every_option_has_a_row_in_its_kinds_table(kind):
    rows = set(re.findall(r"^\| `([a-z_0-9]+)` \|", section(kind), flags=re.M))

    assert rows == set(PROBES[kind].options)


@pytest.mark.parametrize("kind", list(MonitorKind))
def test_every_kind_has_a_yaml_example_of_its_kind(kind):
    assert re.search(rf"```yaml\n.*?kind: {kind.value}\n.*?```", section(kind), flags=re.S)


@pytest.mark.parametrize("kind", list(MonitorKind))
def test_every_kind_lists_its_error_kinds(kind):
    listed = re.search(r"^Error kinds: (.*?)(?:\n\n|\Z)", section(kind), flags=re.S | re.M)

    assert listed
    assert set(re.findall(r"`([a-z_]+)`", listed.group(1))) <= set(ERROR_KINDS)


def test_every_error_kind_is_explained():
    rows = set(re.findall(r"^\| `([a-z_]+)` \|", DOC.split("## Error kinds")[1], flags=re.M))

    assert rows == set(ERROR_KINDS)


def test_every_yaml_example_has_a_valid_target_and_options():
    examples = re.findall(r"```yaml\n(.*?)```", DOC, flags=re.S)
    monitors = []
    for text in examples:
        doc = yaml.safe_load(text)
        # Examples are either a whole page file or monitor entries cut from one.
        pages = doc["pages"] if isinstance(doc, dict) else [{"monitors": doc}]
        monitors += [m for page in pages for m in page["monitors"]]

    assert {m["kind"] for m in monitors} == {k.value for k in MonitorKind}
    for monitor in monitors:
        probe = PROBES[MonitorKind(monitor["kind"])]
        assert probe.validate_options(monitor.get("options", {})) == [], monitor["name"]
        assert probe.validate_target(monitor.get("target", "")) is None, monitor["name"]
