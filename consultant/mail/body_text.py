"""The question's text from a message's body parts: the plain part, else the HTML part's text."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from consultant.mail.charsets import decode_8bit
from consultant.mail.html_text import html_to_text
from consultant.mail.mime import part_text

if TYPE_CHECKING:
    from consultant.mail.mime import Mime
    from consultant.mail.mime_part import Part
    from consultant.mail.parse_limits import ParseLimits
    from consultant.mail.parse_notes import Notes

BYTES_PER_CHAR = 4  # the most a character of any charset takes: bytes read for a text of N chars

_LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x85\u2028\u2029]")
_TEXT_JUNK = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]+")


def _body_text(value: str) -> str:
    """Text with ``\\n`` line ends and no control character but tab and newline."""
    return _TEXT_JUNK.sub("", _LINE_BREAKS.sub("\n", decode_8bit(value)))


def _text_cut(max_chars: int) -> str:
    return f"text cut at {max_chars:,} characters"


def _html_body(part: Part, limits: ParseLimits, notes: Notes) -> str:
    """The text of an HTML part; only its first ``max_html_bytes`` are converted."""
    html, size = part_text(part, limits.max_html_bytes, notes)
    if size > limits.max_html_bytes:
        notes.limit(
            f"HTML body of {size:,} bytes: only the first {limits.max_html_bytes:,} bytes "
            "were converted to text"
        )
    converted = html_to_text(html)
    if converted.fallback:
        notes.defect(converted.fallback)
    for sentence in converted.limits:
        notes.limit(sentence)
    return converted.text


def body(mime: Mime, limits: ParseLimits, notes: Notes) -> tuple[str, bool]:
    """The question's text, cut at ``max_text_chars``: the plain part, else the HTML part's text."""
    if "text/plain" in mime.bodies:
        max_bytes = BYTES_PER_CHAR * limits.max_text_chars
        text, size = part_text(mime.bodies["text/plain"], max_bytes, notes)
        if size > max_bytes:
            notes.limit(_text_cut(limits.max_text_chars))
        from_html = False
    elif "text/html" in mime.bodies:
        text, from_html = _html_body(mime.bodies["text/html"], limits, notes), True
    else:
        return "", False
    text = _body_text(text)
    if len(text) > limits.max_text_chars:
        notes.limit(_text_cut(limits.max_text_chars))
        text = text[: limits.max_text_chars]
    return text, from_html
