"""Turn the raw bytes of an email into the fields the rest of the pipeline reads.

Email is hostile input: headers may be malformed, charsets unknown, multiparts
truncated or nested a thousand deep. Parsing never guesses silently and never
fails on a shape it cannot read: each such shape takes a fallback named in
``defects``, each bound reached is a sentence in ``limits``, and only a
message with nothing usable raises ``MessageParseError`` so that the caller
can keep its bytes on a failed case.

The steps live in their own modules: ``mime`` builds and walks the MIME tree
of ``mime_part`` parts, ``headers`` reads headers and salvages addresses,
``body_text`` and ``attachments`` read the parts, ``charsets`` decodes bytes,
and ``parse_notes`` records what each step worked around.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from consultant.mail import reply_text
from consultant.mail.attachments import Attachment, attachment
from consultant.mail.body_text import body
from consultant.mail.headers import header_text, id_header, mailboxes, sender
from consultant.mail.mime import parse_tree, read_mime
from consultant.mail.parse_errors import MessageParseError
from consultant.mail.parse_limits import DEFAULT_LIMITS, ParseLimits
from consultant.mail.parse_notes import Notes
from consultant.mail.threads import message_ids_in, normalise_message_id

if TYPE_CHECKING:
    from collections.abc import Collection

    from consultant.mail.mime_part import Part

__all__ = [
    "DEFAULT_LIMITS",
    "ROUTING_HEADERS",
    "TRUNCATION_DEFECTS",
    "Attachment",
    "MessageParseError",
    "ParseLimits",
    "ParsedMessage",
    "parse_message",
]

TRUNCATION_DEFECTS = {
    "StartBoundaryNotFoundDefect",
    "CloseBoundaryNotFoundDefect",
    "MultipartInvariantViolationDefect",
    "MissingHeaderBodySeparatorDefect",
}


@dataclass(frozen=True)
class ParsedMessage:
    """What processing needs from one email, decoded and normalised.

    Every string is free of NUL; header-derived strings hold no control
    characters at all, so that they can be stored and written into a header.
    ``from_address`` is ``""`` when the message names no address we may write to.
    """

    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    from_name: str
    from_address: str
    reply_to: tuple[str, ...]
    date: datetime | None
    text: str
    text_from_html: bool
    attachments: tuple[Attachment, ...]
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/plain"
    # Whom it was delivered or written to: Delivered-To and X-Original-To first, then To and Cc.
    recipients: tuple[str, ...] = ()
    # The stdlib's defect names (CloseBoundaryNotFoundDefect), then one sentence per fallback.
    defects: tuple[str, ...] = ()
    # One sentence per bound reached, for the expert reading the case timeline.
    limits: tuple[str, ...] = ()

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Message-IDs this message answers, most recent first."""
        ordered = list(self.in_reply_to) + list(reversed(self.references))
        return tuple(dict.fromkeys(ordered))

    @cached_property
    def reading(self) -> reply_text.Reading:
        """The body read once: the new text, and the message quoted or forwarded under it."""
        return reply_text.read(self.text)

    @property
    def new_text(self) -> str:
        """What the sender wrote now: ``text`` without quoted earlier messages and signature."""
        return self.reading.new

    def question_text(self, own_address: str | Collection[str]) -> str:
        """The new text with a forwarded message (a denial) it asks about; analysis reads it."""
        return self.reading.question(own_address)


RECIPIENT_HEADERS = ("delivered-to", "x-original-to", "to", "cc")
ROUTING_HEADERS = (
    "auto-submitted",
    "precedence",
    "list-id",
    "list-unsubscribe",
    "x-autoreply",
    "x-autorespond",
    "x-loop",
    "return-path",
)


def _header(msg: Part, name: str) -> str:
    value = msg.get(name)
    return "" if value is None else header_text(str(value))


def _date(msg: Part) -> datetime | None:
    value = getattr(msg.get("date"), "datetime", None)
    return value if isinstance(value, datetime) else None


def _refuse_unusable(
    msg: Part,
    text: str,
    subject: str,
    attachments: tuple[Attachment, ...],
    defects: list[str],
    input_cut: bool,
) -> None:
    """Raise ``MessageParseError`` if nothing in the message can be read.

    A multipart cut short is refused only when the sender's mail was cut:
    not when parsing stopped feeding it at the parts cap.
    """
    if text.strip():
        return
    # Not ``is_multipart()``: a multipart cut off before its first boundary has no parts.
    truncated = TRUNCATION_DEFECTS.intersection(defects) and not input_cut
    if msg.get_content_maintype() == "multipart" and truncated:
        raise MessageParseError(
            "truncated or malformed multipart message, no readable text part "
            f"(defects: {', '.join(defects)})"
        )
    if not subject and not attachments:
        raise MessageParseError("message has no subject, no text and no attachment")


def parse_message(raw: bytes, limits: ParseLimits = DEFAULT_LIMITS) -> ParsedMessage:
    """Parse ``raw`` with the stdlib ``email`` package (``policy.default``), within ``limits``."""
    if not raw or raw.isspace():
        raise MessageParseError("empty message: no bytes to read")
    notes = Notes()
    msg = parse_tree(raw, limits, notes)
    subject = _header(msg, "subject")
    mime = read_mime(msg, limits, notes)
    text, from_html = body(mime, limits, notes)
    attachments = tuple(attachment(part, limits, notes) for part in mime.attachments)
    stdlib_defects = mime.defect_names()
    _refuse_unusable(msg, text, subject, attachments, stdlib_defects, notes.input_cut)
    from_name, from_address = sender(msg, limits, notes)
    reply_to = tuple(address for _, address in mailboxes(msg, "reply-to", limits, notes))
    recipients = tuple(
        address
        for name in RECIPIENT_HEADERS
        for _, address in mailboxes(msg, name, limits, notes)
        if address
    )
    return ParsedMessage(
        message_id=normalise_message_id(id_header(msg, "message-id", limits, notes)),
        in_reply_to=message_ids_in(id_header(msg, "in-reply-to", limits, notes)),
        references=message_ids_in(id_header(msg, "references", limits, notes)),
        subject=subject,
        from_name=from_name,
        from_address=from_address,
        reply_to=reply_to,
        date=_date(msg),
        text=text,
        text_from_html=from_html,
        attachments=attachments,
        headers={name: _header(msg, name) for name in ROUTING_HEADERS if name in msg},
        content_type=header_text(msg.get_content_type()),
        recipients=recipients,
        defects=notes.all_defects(stdlib_defects),
        limits=tuple(notes.limits),
    )
