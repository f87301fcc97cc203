"""A flat status badge (``status | operational``) as SVG, for READMEs and dashboards.

The SVG is built without a font: widths are estimated from Verdana 11px advance
widths, the face shields.io badges use, and each text is given that length
(``textLength``) so a badge looks right whichever font the viewer falls back to.
"""

from __future__ import annotations

import re
import unicodedata
from xml.sax.saxutils import escape

from signalfire.domain.status import Indicator

COLOURS = {
    Indicator.NONE: "#4c1",
    Indicator.MINOR: "#dfb317",
    Indicator.MAJOR: "#fe7d37",
    Indicator.CRITICAL: "#e05d44",
    Indicator.MAINTENANCE: "#007ec6",
}
LABEL_COLOUR = "#555"

# The page indicator's standard sentences are too long for a badge.
_SHORT = {
    "all systems operational": "operational",
    "minor service outage": "minor outage",
    "partial system outage": "partial outage",
    "major service outage": "major outage",
    "service under maintenance": "maintenance",
}
_BY_INDICATOR = {
    Indicator.NONE: "operational",
    Indicator.MINOR: "minor outage",
    Indicator.MAJOR: "partial outage",
    Indicator.CRITICAL: "major outage",
    Indicator.MAINTENANCE: "maintenance",
}

# Verdana advance widths in thousandths of an em.
_EM_WIDTH: dict[str, int] = {
    **dict.fromkeys("0123456789", 636), " ": 352,
    "a": 601, "b": 623, "c": 521, "d": 623, "e": 596, "f": 352, "g": 623, "h": 633, "i": 274,
    "j": 344, "k": 592, "l": 274, "m": 973, "n": 633, "o": 607, "p": 623, "q": 623, "r": 427,
    "s": 521, "t": 394, "u": 633, "v": 592, "w": 818, "x": 592, "y": 592, "z": 525,
    "A": 684, "B": 686, "C": 698, "D": 771, "E": 632, "F": 575, "G": 775, "H": 751, "I": 421,
    "J": 455, "K": 693, "L": 557, "M": 843, "N": 748, "O": 787, "P": 603, "Q": 787, "R": 695,
    "S": 684, "T": 616, "U": 732, "V": 684, "W": 989, "X": 685, "Y": 615, "Z": 685,
    ".": 364, ",": 364, ":": 454, ";": 454, "-": 431, "_": 636, "(": 454, ")": 454, "/": 454,
    "!": 393, "?": 545, "&": 706, "<": 818, ">": 818, "'": 269, '"': 460, "%": 1076,
    "+": 818, "=": 818, "#": 818, "@": 1000, "|": 454, "*": 636,
}
_DEFAULT_EM = 636
_WIDE_EM = 1000  # CJK and other full-width characters
FONT_PX = 11
PAD_PX = 6  # on each side of a text
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # not allowed in XML 1.0


def text_width_px(text: str) -> float:
    """Approximate rendered width of ``text`` in Verdana 11px."""
    total = 0
    for ch in text:
        if ch in _EM_WIDTH:
            total += _EM_WIDTH[ch]
        elif unicodedata.east_asian_width(ch) in ("W", "F"):
            total += _WIDE_EM
        else:
            total += _DEFAULT_EM
    return total * FONT_PX / 1000


def badge_message(indicator: Indicator, description: str) -> str:
    """The right-hand text: a short form of the standard sentence, else the sentence lowercased."""
    text = " ".join(description.split()).lower()
    if not text:
        return _BY_INDICATOR[indicator]
    return _SHORT.get(text, text)


def _clean(text: str) -> str:
    return _CONTROL.sub("", " ".join(text.split()))


def _text(x: float, width: float, text: str) -> str:
    escaped = escape(text)
    common = f'x="{x:.1f}" textLength="{width:.1f}" lengthAdjust="spacingAndGlyphs"'
    # The dark copy one pixel lower is the flat style's engraved shadow.
    return (f'<text aria-hidden="true" {common} y="15" fill="#010101" fill-opacity=".3">'
            f'{escaped}</text><text {common} y="14">{escaped}</text>')


def status_badge(label: str, indicator: Indicator, description: str) -> bytes:
    """``label`` on grey, the indicator's message on its colour, as UTF-8 SVG."""
    return badge(label, badge_message(indicator, description), COLOURS[indicator])


NO_DATA_COLOUR = "#9f9f9f"


def uptime_badge(label: str, uptime_pct: float | None) -> bytes:
    """``uptime 30d | 99.95%``, green to red by how many nines."""
    if uptime_pct is None:
        return badge(label, "no data", NO_DATA_COLOUR)
    colour = ("#4c1" if uptime_pct >= 99.9 else "#97ca00" if uptime_pct >= 99.0
              else "#dfb317" if uptime_pct >= 95.0 else "#e05d44")
    # Rounded down: 99.996% must not read as a perfect 100.00%.
    shown = int(uptime_pct * 100) / 100
    return badge(label, f"{shown:.2f}%", colour)


def response_time_badge(label: str, p95_ms: float | None) -> bytes:
    if p95_ms is None:
        return badge(label, "no data", NO_DATA_COLOUR)
    colour = "#4c1" if p95_ms < 300 else "#dfb317" if p95_ms < 1000 else "#fe7d37"
    text = f"{p95_ms:.0f} ms" if p95_ms < 10_000 else f"{p95_ms / 1000:.1f} s"
    return badge(label, text, colour)


def badge(label: str, message: str, colour: str) -> bytes:
    """A flat badge: ``label`` on grey, ``message`` on ``colour``, as UTF-8 SVG."""
    label = _clean(label)
    message = _clean(message)
    label_text_px, message_text_px = text_width_px(label), text_width_px(message)
    label_px = round(label_text_px) + 2 * PAD_PX
    message_px = round(message_text_px) + 2 * PAD_PX
    total_px = label_px + message_px
    # Escaped for an attribute too: the same text is the title and the aria-label.
    title = escape(f"{label}: {message}", {'"': "&quot;"})
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_px}" height="20" '
        f'role="img" aria-label="{title}">'
        f"<title>{title}</title>"
        '<linearGradient id="gloss" x2="0" y2="100%">'
        '<stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="round"><rect width="{total_px}" height="20" rx="3" fill="#fff"/>'
        "</clipPath>"
        '<g clip-path="url(#round)">'
        f'<rect width="{label_px}" height="20" fill="{LABEL_COLOUR}"/>'
        f'<rect x="{label_px}" width="{message_px}" height="20" fill="{colour}"/>'
        f'<rect width="{total_px}" height="20" fill="url(#gloss)"/></g>'
        '<g fill="#fff" text-anchor="middle" '
        'font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
        f'text-rendering="geometricPrecision" font-size="{FONT_PX}">'
        f"{_text(label_px / 2, label_text_px, label)}"
        f"{_text(label_px + message_px / 2, message_text_px, message)}"
        "</g></svg>"
    )
    return svg.encode("utf-8")
