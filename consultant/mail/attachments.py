"""List a message's attachments by name, type and size, decoding none over the size cap."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from consultant.mail.headers import header_text
from consultant.mail.mime import payload
from consultant.mail.parse_errors import STDLIB_ERRORS

if TYPE_CHECKING:
    from consultant.mail.mime_part import Part
    from consultant.mail.parse_limits import ParseLimits
    from consultant.mail.parse_notes import Notes


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int


def _filename(part: Part, notes: Notes) -> str:
    try:
        name = part.get_filename()
    except STDLIB_ERRORS:
        notes.defect("attachment file name unreadable: listed as unnamed")
        return ""
    return header_text(name) if name else ""


def attachment(part: Part, limits: ParseLimits, notes: Notes) -> Attachment:
    """An attachment's name, type and size; one over ``max_attachment_bytes`` is not decoded."""
    content_type = header_text(part.get_content_type())
    name = _filename(part, notes) or f"(unnamed {content_type})"
    estimate = part.encoded_size()
    if estimate > limits.max_attachment_bytes:
        notes.limit(
            f'attachment "{name}" of about {estimate:,} bytes (estimated from its encoded '
            f"length, over {limits.max_attachment_bytes:,} bytes): not decoded"
        )
        return Attachment(filename=name, content_type=content_type, size=estimate)
    size = len(payload(part, notes))
    return Attachment(filename=name, content_type=content_type, size=size)
