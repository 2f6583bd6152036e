"""The MIME tree of a message: built within the limits, walked for body parts and attachments."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.feedparser import BytesFeedParser
from typing import TYPE_CHECKING

from consultant.mail.charsets import decode_bytes
from consultant.mail.headers import TolerantHeaders
from consultant.mail.mime_part import ParsePolicy, Part
from consultant.mail.parse_errors import STDLIB_ERRORS, MessageParseError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from consultant.mail.parse_limits import ParseLimits
    from consultant.mail.parse_notes import Notes

BODY_TYPES = ("text/plain", "text/html")
# The MIME parser is fed in pieces of this size: given all at once, it holds the whole
# message as text and as lines, and it cannot be stopped once it has made enough parts.
FEED_BYTES = 1 << 14


def parse_tree(raw: bytes, limits: ParseLimits, notes: Notes) -> Part:
    """The stdlib's parse of ``raw`` with tolerant headers and nesting stopped at the cap."""
    policy = ParsePolicy(
        header_factory=TolerantHeaders(limits.max_header_chars, notes),
        message_factory=Part,
        max_mime_depth=limits.max_mime_depth,
        notes=notes,
    )
    parser = BytesFeedParser(policy=policy)
    try:
        for start in range(0, len(raw), FEED_BYTES):
            if notes.parts_made > limits.max_mime_parts:
                # Parts past the cap would never be read; the stdlib would still spend
                # ~20 us and a message object on each (millions in 25 MB of empty parts).
                notes.input_cut = True
                break
            parser.feed(raw[start : start + FEED_BYTES])
        msg = parser.close()
    except STDLIB_ERRORS as error:
        raise MessageParseError(
            f"the email parser could not read the message ({type(error).__name__})"
        ) from error
    assert isinstance(msg, Part)
    return msg


@dataclass
class Mime:
    """What the walk over the MIME tree found: body candidates, attachments, the parts seen."""

    bodies: dict[str, Part] = field(default_factory=dict)
    attachments: list[Part] = field(default_factory=list)
    seen: list[Part] = field(default_factory=list)

    def defect_names(self) -> list[str]:
        """The stdlib's defects on every part read, decoding defects included."""
        return list(dict.fromkeys(type(d).__name__ for part in self.seen for d in part.defects))


def _parts(msg: Part, limits: ParseLimits, notes: Notes) -> Iterator[tuple[Part, bool]]:
    """Parts depth first, each with whether it lies inside an attached message.

    Iterative, not ``msg.walk()``: at most ``max_mime_parts`` are visited and
    parts beyond the depth cap are noted and skipped.
    """
    stack: list[tuple[Part, bool]] = [(msg, False)]
    visited = 0
    while stack:
        part, enclosed = stack.pop()
        visited += 1
        if visited > limits.max_mime_parts:
            notes.limit(
                f"more than {limits.max_mime_parts:,} MIME parts: "
                f"parts after the first {limits.max_mime_parts:,} were not read"
            )
            return
        if part.too_deep:
            notes.limit(
                f"MIME nesting deeper than {limits.max_mime_depth} levels: "
                "deeper parts were not read"
            )
            continue
        yield part, enclosed
        if part.is_multipart():
            inside = enclosed or part.get_content_maintype() == "message"
            stack.extend((child, inside) for child in reversed(part.get_payload()))


def read_mime(msg: Part, limits: ParseLimits, notes: Notes) -> Mime:
    """The first plain and HTML body parts and the attachments, as ``get_body`` would pick them.

    The body is never read inside an attached (forwarded) message; such a
    message is listed as one attachment.
    """
    mime = Mime()
    for part, enclosed in _parts(msg, limits, notes):
        mime.seen.append(part)
        if enclosed or part.get_content_maintype() == "multipart":
            continue
        content_type = part.get_content_type()
        if content_type in BODY_TYPES and part.get_content_disposition() != "attachment":
            mime.bodies.setdefault(content_type, part)
        elif part is not msg:
            mime.attachments.append(part)
    return mime


def payload(part: Part, notes: Notes) -> bytes:
    """A leaf part's decoded content; ``b""`` and a defect if the stdlib cannot decode it."""
    try:
        content = part.get_payload(decode=True)
    except STDLIB_ERRORS as error:
        notes.defect(
            f"{part.get_content_type()} part unreadable ({type(error).__name__}): left out"
        )
        return b""
    return content if isinstance(content, bytes) else b""


def _charset(part: Part) -> str | None:
    try:
        return part.get_content_charset()
    except STDLIB_ERRORS:
        return None


def part_text(part: Part, max_bytes: int, notes: Notes) -> tuple[str, int]:
    """The first ``max_bytes`` of a text part, decoded, and the part's full size in bytes.

    Decoding is strict charset by charset: the stdlib's ``get_content`` would
    replace bytes that do not fit the declared charset with U+FFFD, and a part
    that says UTF-8 but is written in cp1252 (a common client mistake) would
    lose every accented letter.
    """
    content = payload(part, notes)
    head = content[:max_bytes]
    return decode_bytes(head, _charset(part), cut=len(head) < len(content)), len(content)
