"""Turn the raw bytes of an email into the fields the rest of the pipeline reads.

Email is hostile input: headers may be malformed, charsets unknown, multiparts
truncated. Parsing never guesses silently: what it cannot read it reports as a
defect, and a message with nothing usable raises ``MessageParseError`` so the
caller can keep its bytes on a failed case.
"""

from __future__ import annotations

import email
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr
from functools import cached_property

from consultant.mail import reply_text
from consultant.mail.html_text import html_to_text
from consultant.mail.threads import message_ids_in, normalise_message_id

TRUNCATION_DEFECTS = {
    "StartBoundaryNotFoundDefect",
    "CloseBoundaryNotFoundDefect",
    "MultipartInvariantViolationDefect",
    "MissingHeaderBodySeparatorDefect",
}
FALLBACK_CHARSETS = ("utf-8", "cp1252")


class MessageParseError(Exception):
    """Raised when a message has nothing usable: no bytes, no sender, no readable text."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class ParsedMessage:
    """What processing needs from one email, decoded and normalised."""

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
    defects: tuple[str, ...] = ()

    @property
    def reply_address(self) -> str:
        """Where an answer goes: the Reply-To address if given, else the sender."""
        return self.reply_to[0] if self.reply_to else self.from_address

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Message-IDs this message answers, most recent first."""
        ordered = list(self.in_reply_to) + list(reversed(self.references))
        return tuple(dict.fromkeys(ordered))

    @cached_property
    def new_text(self) -> str:
        """What the sender wrote now: ``text`` without quoted earlier messages and signature."""
        return reply_text.new_text(self.text)


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


def _header(msg: Message, name: str) -> str:
    """A header's decoded value, or the raw text if the header cannot be decoded."""
    try:
        value = msg.get(name)
    except (ValueError, TypeError, IndexError, AttributeError):
        values = msg.get_all(name, failobj=[])  # type: ignore[arg-type]
        value = values[0] if values else None
    return "" if value is None else _clean(" ".join(str(value).split()))


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    """(display name, address) pairs from an address header, tolerant of bad syntax."""
    try:
        header = msg.get(name)
        found = [
            (_clean(a.display_name), _clean(a.addr_spec))
            for a in getattr(header, "addresses", ())
            if isinstance(a, Address) and "@" in a.addr_spec
        ]
        if found:
            return found
    except (ValueError, TypeError, IndexError, AttributeError):
        pass
    raw = [_clean(str(v)) for v in msg.get_all(name, failobj=[])]  # type: ignore[arg-type]
    return [(n, a) for n, a in getaddresses(raw) if "@" in a] or [
        (n, a) for n, a in (parseaddr(v) for v in raw) if "@" in a
    ]


def _decode_bytes(payload: bytes, declared: str | None = None) -> str:
    """``payload`` in the first charset that decodes it strictly: declared, UTF-8, cp1252.

    latin-1 decodes any byte, so the result is always text and never holds the
    lone surrogates that the database drivers refuse to store.
    """
    for charset in (declared, *FALLBACK_CHARSETS):
        if not charset:
            continue
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1")


def _clean(value: str) -> str:
    """``value`` with raw 8-bit bytes (kept by ``email`` as surrogate escapes) decoded.

    A header such as ``From: José <...>`` written in Latin-1 without encoded
    words parses to a string with lone surrogates, which neither PostgreSQL
    nor SQLite accepts: storing it would fail the whole message.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _decode_bytes(value.encode("utf-8", "surrogateescape"))
    return value


def _decoded_text(part: Message) -> str:
    """A text part's content; unknown or wrong charsets fall back to UTF-8, then cp1252.

    The stdlib's ``get_content`` replaces bytes that do not fit the declared
    charset with U+FFFD; a part that says UTF-8 but is written in cp1252 (a
    common client mistake) would lose every accented letter. So the bytes are
    decoded here, strictly, charset by charset.
    """
    try:
        payload = part.get_payload(decode=True)
    except (LookupError, UnicodeError, ValueError, AssertionError):
        payload = None
    if not isinstance(payload, bytes):
        return ""
    try:
        declared = part.get_content_charset()
    except (LookupError, UnicodeError, ValueError):
        declared = None
    return _decode_bytes(payload, declared)


def _defect_names(msg: Message) -> list[str]:
    names = [type(d).__name__ for d in msg.defects]
    for part in msg.walk():
        if part is not msg:
            names.extend(type(d).__name__ for d in part.defects)
    return list(dict.fromkeys(names))


def _attachments(msg: EmailMessage) -> tuple[Attachment, ...]:
    found = []
    try:
        parts = list(msg.iter_attachments())
    except (KeyError, TypeError, AttributeError):
        parts = []
    for part in parts:
        payload = part.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else 0
        content_type = part.get_content_type()
        name = part.get_filename() or f"(unnamed {content_type})"
        found.append(Attachment(filename=name, content_type=content_type, size=size))
    return tuple(found)


def _body(msg: EmailMessage) -> tuple[str, bool]:
    """The question's text: the plain part, or the HTML part turned into text."""
    try:
        body = msg.get_body(preferencelist=("plain", "html"))
    except (KeyError, TypeError, AttributeError):
        body = None
    if body is None:
        return "", False
    text = _decoded_text(body)
    if body.get_content_type() == "text/html":
        return html_to_text(text), True
    return text, False


def _date(msg: Message) -> datetime | None:
    try:
        header = msg.get("date")
        return getattr(header, "datetime", None)
    except (ValueError, TypeError, IndexError, AttributeError):
        return None


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse ``raw`` with the stdlib ``email`` package (``policy.default``)."""
    if not raw.strip():
        raise MessageParseError("empty message: no bytes to read")
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    defects = _defect_names(msg)
    senders = _addresses(msg, "from") or _addresses(msg, "sender")
    if not senders:
        raise MessageParseError("no sender address: the From header is missing or unreadable")
    from_name, from_address = senders[0]
    text, from_html = _body(msg)
    subject = _header(msg, "subject")
    attachments = _attachments(msg)
    # Not ``is_multipart()``: a multipart cut off before its first boundary has no parts.
    multipart = msg.get_content_maintype() == "multipart"
    if not text.strip() and multipart and TRUNCATION_DEFECTS.intersection(defects):
        raise MessageParseError(
            "truncated or malformed multipart message, no readable text part "
            f"(defects: {', '.join(defects)})"
        )
    if not text.strip() and not subject and not attachments:
        raise MessageParseError("message has no subject, no text and no attachment")
    return ParsedMessage(
        message_id=normalise_message_id(_header(msg, "message-id")),
        in_reply_to=message_ids_in(_header(msg, "in-reply-to")),
        references=message_ids_in(_header(msg, "references")),
        subject=subject,
        from_name=from_name,
        from_address=from_address.lower(),
        reply_to=tuple(addr.lower() for _, addr in _addresses(msg, "reply-to")),
        date=_date(msg),
        text=text.replace("\r\n", "\n"),
        text_from_html=from_html,
        attachments=attachments,
        headers={name: _header(msg, name) for name in ROUTING_HEADERS if name in msg},
        content_type=msg.get_content_type(),
        defects=tuple(defects),
    )
