"""The ``detection`` key of the page file: parsed, checked with key paths, applied."""

from __future__ import annotations

import textwrap

import pytest

from signalfire.config.pagefile import apply_pagefile, parse_pagefile
from signalfire.domain.auto_incident import DetectionSettings, PublishMode
from signalfire.errors import ConfigError

PAGE = """
pages:
  - slug: app
    name: App
    components:
      - name: Feed
      - name: Login
    report_categories: [Not loading, Login]
"""


def page_with(detection: str) -> str:
    return textwrap.dedent(PAGE) + textwrap.indent(textwrap.dedent(detection), "    ")


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_pagefile(text)
    return caught.value.errors


def test_it_reads_every_key():
    spec = parse_pagefile(page_with("""
        detection:
          detector: counts
          threshold: 0.7
          publish: confirm
          quiet_period: 10m
          reopen_window: 2h
          min_count: 8
          history: 14d
          regions: {sa-east: [BR, MX]}
          categories: {Login: Login}
    """)).pages[0]
    assert spec.detection is not None
    assert spec.detection.settings() == DetectionSettings(
        enabled=True, detector="counts", threshold=0.7, publish=PublishMode.CONFIRM,
        quiet_period_s=600, reopen_window_s=7200, min_count=8, history_days=14,
        regions={"sa-east": ("BR", "MX")}, categories={"login": "Login"})


def test_defaults_when_only_the_key_is_given():
    spec = parse_pagefile(page_with("detection: {}\n")).pages[0]
    assert spec.detection is not None
    assert spec.detection.settings() == DetectionSettings(enabled=True)


@pytest.mark.parametrize(("detection", "error"), [
    ("threshold: 0", "pages[0].detection.threshold: input should be greater than 0"),
    ("threshold: 1.5", "pages[0].detection.threshold: input should be less than or equal to 1"),
    ("publish: later", "pages[0].detection.publish: input should be 'auto' or 'confirm'"),
    ("quiet_period: 10s", "pages[0].detection.quiet_period: must be between 1m and 7d"),
    ("quiet_period: soon", "pages[0].detection.quiet_period: must be a duration"),
    ("reopen_window: 30d", "pages[0].detection.reopen_window: must be at most 7d"),
    ("min_count: 0", "pages[0].detection.min_count: input should be greater than or equal to 1"),
    ("history: 36h", "pages[0].detection.history: must be whole days, from 1d to 28d"),
    ("detector: Counts!", "pages[0].detection.detector: string should match pattern"),
    ("regions: {sa-east: [Brazil]}", "pages[0].detection.regions: sa-east: 'Brazil' is not"),
    ("categories: {Payments: Feed}",
     "pages[0].detection.categories.Payments: no report category 'Payments'"),
    ("categories: {Login: Signin}",
     "pages[0].detection.categories.Login: no component named 'Signin'"),
    ("treshold: 0.5", "pages[0].detection.treshold: unknown key"),
])
def test_bad_values_are_named_by_their_key_path(detection, error):
    errors = errors_of(page_with(f"detection:\n  {detection}\n"))
    assert any(e.startswith(error) for e in errors), errors


def test_applying_stores_the_settings_and_leaving_the_key_out_turns_detection_off(store, clock):
    text = page_with("detection: {publish: confirm, quiet_period: 5m}\n")
    report = apply_pagefile(store, parse_pagefile(text), clock())
    page = store.get_page("app")
    settings = DetectionSettings.from_doc(store.detection_settings(page.id))
    assert settings.enabled and settings.publish is PublishMode.CONFIRM
    assert settings.quiet_period_s == 300
    assert "detection of page 'app'" in report.updated
    again = apply_pagefile(store, parse_pagefile(text), clock())
    assert not again.changed
    apply_pagefile(store, parse_pagefile(textwrap.dedent(PAGE)), clock())
    assert not DetectionSettings.from_doc(store.detection_settings(page.id)).enabled


def test_a_page_without_detection_stores_nothing(store, clock):
    apply_pagefile(store, parse_pagefile(textwrap.dedent(PAGE)), clock())
    assert store.detection_settings(store.get_page("app").id) is None
