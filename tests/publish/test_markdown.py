"""Update bodies become HTML that can be put on a public page as is."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from signalfire.publish.markdown import render_markdown, sanitize_html


class _Tags(HTMLParser):
    """Every element and attribute a browser would build from the output."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def assert_inert(html: str) -> None:
    for tag, attrs in _Tags(html).tags:
        assert tag not in {"script", "style", "img", "iframe", "object", "svg"}, html
        for name, value in attrs.items():
            assert not name.startswith("on"), html
            assert not (value or "").strip().lower().startswith(("javascript:", "data:")), html


ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](data:text/html,<script>alert(1)</script>)",
    '<a href="javascript:alert(1)">x</a>',
    "![x](javascript:alert(1))",
    '<div onclick="alert(1)">x</div>',
    "<style>body{display:none}</style>",
    "<svg onload=alert(1)>",
    '[x](https://example.com "a\\" onmouseover=\\"alert(1)")',
]


@pytest.mark.parametrize("text", ATTACKS)
def test_it_leaves_no_script_in_markdown(text):
    assert_inert(render_markdown(text))


def test_it_shows_raw_html_as_text():
    html = render_markdown("Fixed <b>now</b> <script>alert(1)</script>")
    assert "&lt;b&gt;now&lt;/b&gt;" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("html", [
    "<script>alert(1)</script>ok",
    "<img src=x onerror=alert(1)>ok",
    '<a href="javascript:alert(1)" onclick="alert(1)">ok</a>',
    '<p style="position:fixed">ok</p>',
    "<iframe src=https://evil.example></iframe>ok",
])
def test_the_sanitiser_alone_stops_script(html):
    cleaned = sanitize_html(html)
    assert_inert(cleaned)
    assert "ok" in cleaned
    assert "alert" not in cleaned


def test_it_renders_the_usual_markdown():
    html = render_markdown("We are **investigating** *slow* `pushes`.\n\n- one\n- two\n\n> quoted")
    assert "<strong>investigating</strong>" in html
    assert "<em>slow</em>" in html
    assert "<code>pushes</code>" in html
    assert "<ul>" in html and html.count("<li>") == 2
    assert "<blockquote>" in html


def test_it_keeps_line_breaks_as_typed():
    assert render_markdown("first line\nsecond line") == "<p>first line<br>\nsecond line</p>\n"


def test_links_get_nofollow_and_keep_their_href():
    html = render_markdown("See [the report](https://example.com/report).")
    assert '<a href="https://example.com/report" rel="nofollow noopener">the report</a>' in html


def test_bare_urls_are_not_linked():
    assert "<a" not in render_markdown("see https://example.com")


def test_tables_render_with_their_alignment():
    html = render_markdown("| region | errors |\n|---|--:|\n| eu | 12 |")
    assert "<table>" in html and "<th>region</th>" in html
    assert '<td style="text-align:right">12</td>' in html


def test_headings_start_below_the_incident_heading():
    html = render_markdown("# Cause\n\n## Detail\n\n##### Deep")
    assert "<h3>Cause</h3>" in html
    assert "<h4>Detail</h4>" in html
    assert "<h6>Deep</h6>" in html
    assert "<h1" not in html and "<h2" not in html


def test_images_become_links_to_them():
    html = render_markdown("![error graph](https://example.com/graph.png)")
    assert "<img" not in html
    assert '<a href="https://example.com/graph.png" rel="nofollow noopener">error graph</a>' in html


def test_repeated_bodies_come_from_the_cache():
    body = "This incident has been resolved (cache check)."
    render_markdown(body)
    hits = render_markdown.cache_info().hits
    assert render_markdown(body) == "<p>This incident has been resolved (cache check).</p>\n"
    assert render_markdown.cache_info().hits == hits + 1
