"""Parts of a stored message an expert opens on demand: its HTML version and its attachments.

The case page shows the text stored at processing and never parses mail; these
are read from the raw bytes only when an expert asks for one of them, with the
same limits as processing, so a hostile message costs no more here than there.
"""

from __future__ import annotations

from dataclasses import dataclass

import nh3

from consultant.mail.attachments import Attachment, attachment
from consultant.mail.mime import parse_tree, part_text, payload, read_mime
from consultant.mail.parse_limits import ParseLimits
from consultant.mail.parse_notes import Notes

# What an HTML mail may keep: structure and text formatting. No images (remote ones
# would tell the sender the mail was read), no forms, no styles, no scripts.
SAFE_TAGS = frozenset(nh3.ALLOWED_TAGS) - {"img", "map", "area"}
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})


def safe_html(html: str) -> str:
    """``html`` sanitised by nh3: markup that cannot run, load or submit anything."""
    return nh3.clean(
        html,
        tags=set(SAFE_TAGS),
        url_schemes=set(SAFE_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def html_version(raw: bytes, limits: ParseLimits) -> str | None:
    """The message's HTML body, sanitised; None when it has none."""
    notes = Notes()
    mime = read_mime(parse_tree(raw, limits, notes), limits, notes)
    part = mime.bodies.get("text/html")
    if part is None:
        return None
    html, _size = part_text(part, limits.max_html_bytes, notes)
    return safe_html(html)


@dataclass(frozen=True)
class AttachmentFile:
    listed: Attachment
    content: bytes


def attachment_file(raw: bytes, index: int, limits: ParseLimits) -> AttachmentFile | None:
    """Attachment ``index`` (in the order processing listed them) with its bytes; None when
    there is no such attachment or it was too large to decode."""
    notes = Notes()
    mime = read_mime(parse_tree(raw, limits, notes), limits, notes)
    if not 0 <= index < len(mime.attachments):
        return None
    part = mime.attachments[index]
    if part.encoded_size() > limits.max_attachment_bytes:
        return None
    return AttachmentFile(attachment(part, limits, notes), payload(part, notes))
