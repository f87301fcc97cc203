"""The status badge is valid SVG that says the page's state in words and colour."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from signalfire.domain.rules import page_indicator
from signalfire.domain.status import Indicator
from signalfire.publish.badge import COLOURS, badge_message, status_badge, text_width_px

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: bytes) -> ET.Element:
    return ET.fromstring(svg)


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text") if t.get("aria-hidden") != "true"]


def fills(root: ET.Element) -> list[str]:
    return [r.get("fill", "") for r in root.iter(f"{SVG}rect")]


def test_an_operational_page_gets_a_green_operational_badge():
    _, description = page_indicator([], [])
    root = parse(status_badge("status", Indicator.NONE, description))
    assert root.tag == f"{SVG}svg"
    assert texts(root) == ["status", "operational"]
    assert root.find(f"{SVG}title").text == "status: operational"
    assert root.get("aria-label") == "status: operational"
    assert COLOURS[Indicator.NONE] in fills(root)


@pytest.mark.parametrize(("indicator", "description", "message"), [
    (Indicator.NONE, "All Systems Operational", "operational"),
    (Indicator.MINOR, "Minor Service Outage", "minor outage"),
    (Indicator.MAJOR, "Partial System Outage", "partial outage"),
    (Indicator.CRITICAL, "Major Service Outage", "major outage"),
    (Indicator.MAINTENANCE, "Service Under Maintenance", "maintenance"),
    (Indicator.MAJOR, "Login  Is Down", "login is down"),
    (Indicator.CRITICAL, "", "major outage"),
])
def test_the_message_is_a_short_form_or_the_description_lowercased(indicator, description,
                                                                   message):
    assert badge_message(indicator, description) == message
    assert texts(parse(status_badge("status", indicator, description)))[1] == message


def test_each_indicator_has_its_own_colour():
    colours = set()
    for indicator in Indicator:
        root = parse(status_badge("status", indicator, ""))
        message_rect = list(root.iter(f"{SVG}rect"))[2]
        colours.add(message_rect.get("fill"))
    assert len(colours) == len(Indicator)


def test_markup_in_the_label_is_escaped_not_interpreted():
    svg = status_badge('<b>Acme & "Co"</b>', Indicator.MINOR, "Minor Service Outage")
    assert b"<b>" not in svg
    assert b"&lt;b&gt;Acme &amp;" in svg
    root = parse(svg)
    assert texts(root)[0] == '<b>Acme & "Co"</b>'
    assert root.find(f"{SVG}title").text == '<b>Acme & "Co"</b>: minor outage'


def test_characters_xml_cannot_carry_are_dropped():
    root = parse(status_badge("sta\x00tus\x1b", Indicator.NONE, "All Systems Operational"))
    assert texts(root)[0] == "status"


def test_the_width_grows_with_the_text():
    short = int(parse(status_badge("api", Indicator.NONE, "")).get("width"))
    long = int(parse(status_badge("api.example.com status", Indicator.NONE, "")).get("width"))
    assert long > short


def test_the_sections_fit_their_text():
    root = parse(status_badge("status", Indicator.MAJOR, "Partial System Outage"))
    label_rect, message_rect = list(root.iter(f"{SVG}rect"))[1:3]
    label_px = int(label_rect.get("width"))
    assert label_px >= text_width_px("status") + 10
    assert int(message_rect.get("x")) == label_px
    assert int(root.get("width")) == label_px + int(message_rect.get("width"))


@pytest.mark.parametrize(("text", "low", "high"), [
    # shields.io's "build | passing" badge sets these two texts 27px and 41px wide.
    ("build", 26, 28),
    ("passing", 40, 42),
    ("WWW", 30, 34),
    ("iii", 8, 10),
    ("障害", 20, 24),
])
def test_text_widths_are_close_to_verdana(text, low, high):
    assert low <= text_width_px(text) <= high
