"""Update texts are Markdown written by operators (or imported from another page);
this turns them into HTML that is safe to put on a public page or in a feed.

Two layers, on purpose: markdown-it runs with raw HTML off, so ``<script>`` in a
body is shown as text; nh3 then keeps only a small allowlist of tags, attributes
and URL schemes, so that a bug or an option changed in the first layer still
cannot let script through.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token

# Line breaks are kept (``breaks``): a body is typed in a text box, and a reader
# expects the lines they see there, as on Statuspage.
_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable("table")

# Update texts sit under the incident's own heading, so their headings start at h3.
_HEADING_SHIFT = 2

_CLEANER = nh3.Cleaner(
    tags={
        "p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "a", "blockquote", "hr",
        "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
    },
    clean_content_tags={"script", "style"},
    attributes={"a": {"href"}, "th": {"style"}, "td": {"style"}},
    # Only the column alignment that Markdown tables produce survives in a style.
    filter_style_properties={"text-align"},
    link_rel="nofollow noopener",
    url_schemes={"http", "https", "mailto"},
    strip_comments=True,
)


def _image_as_link(self: object, tokens: list[Token], idx: int, options: object,
                   env: object) -> str:
    # A status page shows no third-party images (tracking pixels, broken hot links
    # mid-outage); the picture stays one click away and its description stays readable.
    token = tokens[idx]
    src = escapeHtml(str(token.attrGet("src") or ""))
    alt = escapeHtml("".join(child.content for child in token.children or ()) or "image")
    return f'<a href="{src}">{alt}</a>'


_MD.add_render_rule("image", _image_as_link)


def _shift_headings(tokens: list[Token]) -> None:
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            level = min(int(token.tag[1]) + _HEADING_SHIFT, 6)
            token.tag = f"h{level}"


def sanitize_html(html: str) -> str:
    """Keep only the allowlisted tags, attributes and URL schemes of ``html``."""
    return _CLEANER.clean(html)


# Bodies repeat: the same update is rendered for the page, both feeds and the API.
@lru_cache(maxsize=2048)
def render_markdown(text: str) -> str:
    """Markdown (CommonMark plus tables) to sanitised HTML."""
    tokens = _MD.parse(text)
    _shift_headings(tokens)
    return sanitize_html(_MD.renderer.render(tokens, _MD.options, {}))
