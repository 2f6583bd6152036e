"""Turn the raw bytes of an email into the fields the rest of the pipeline reads.

Email is hostile input: headers may be malformed, charsets unknown, multiparts
truncated or nested a thousand deep. Parsing never guesses silently and never
fails on a shape it cannot read: each such shape takes a fallback named in
``defects``, each bound reached is a sentence in ``limits``, and only a
message with nothing usable raises ``MessageParseError`` so that the caller
can keep its bytes on a failed case.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.errors import HeaderParseError
from email.feedparser import BytesFeedParser
from email.headerregistry import BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import EmailPolicy
from functools import cached_property
from typing import TYPE_CHECKING, Any

from consultant.mail import reply_text
from consultant.mail.addresses import clean_address
from consultant.mail.html_text import html_to_text
from consultant.mail.threads import message_ids_in, normalise_message_id

if TYPE_CHECKING:
    from collections.abc import Iterator

    from config import Settings

TRUNCATION_DEFECTS = {
    "StartBoundaryNotFoundDefect",
    "CloseBoundaryNotFoundDefect",
    "MultipartInvariantViolationDefect",
    "MissingHeaderBodySeparatorDefect",
}
FALLBACK_CHARSETS = ("utf-8", "cp1252")
# Codecs that are no character set: decoding with them invents text, and
# punycode takes seconds on a megabyte. A part declaring one reads as undeclared.
NOT_CHARSETS = {"punycode", "idna", "unicode-escape", "raw-unicode-escape"}
# What the stdlib's header, MIME and codec code raises on input it cannot read.
STDLIB_ERRORS = (
    IndexError,
    ValueError,
    TypeError,
    AttributeError,
    LookupError,
    RecursionError,
    HeaderParseError,
    UnicodeError,
    AssertionError,
    OverflowError,
)
BODY_TYPES = ("text/plain", "text/html")
CONTAINER_TYPES = ("multipart", "message")
# The MIME parser is fed in pieces of this size: given all at once, it holds the whole
# message as text and as lines, and it cannot be stopped once it has made enough parts.
FEED_BYTES = 1 << 14
BYTES_PER_CHAR = 4  # the most a character of any charset takes: bytes read for a text of N chars

_HEADER_JUNK = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]+")
_LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x85\u2028\u2029]")
_TEXT_JUNK = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]+")
_SURROGATE = re.compile("[\ud800-\udfff]")
_STRAY_SURROGATES = re.compile("[\ud800-\udc7f\udd00-\udfff]+")  # not an escaped 8-bit byte
_FOLD = re.compile(r"[\r\n]+[ \t]*")
_ANGLE_ADDRESS = re.compile(r"<([^<>]*)>")
_ADDRESS_DELIMITERS = re.compile(r"[ \t\r\n,;()\"]+")


@dataclass(frozen=True)
class ParseLimits:
    """How much of one message parsing reads; what lies beyond is skipped, never decoded."""

    max_text_chars: int = 50_000
    max_html_bytes: int = 1_000_000
    max_mime_depth: int = 20
    max_mime_parts: int = 500
    max_attachment_bytes: int = 25_000_000
    max_header_chars: int = 8_000

    @classmethod
    def from_settings(cls, settings: Settings) -> ParseLimits:
        """The limits an operator set (``CONSULTANT_MAX_*``), validated by ``Settings``."""
        return cls(
            max_text_chars=settings.max_text_chars,
            max_html_bytes=settings.max_html_bytes,
            max_mime_depth=settings.max_mime_depth,
            max_mime_parts=settings.max_mime_parts,
            max_attachment_bytes=settings.max_attachment_bytes,
            max_header_chars=settings.max_header_chars,
        )


DEFAULT_LIMITS = ParseLimits()


class MessageParseError(Exception):
    """Raised when a message has nothing usable.

    No bytes; no subject, no text and no attachment; or a truncated multipart
    with no readable text part. A missing sender is no reason: see ``from_address``.
    """


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int


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


def _title(name: str) -> str:
    return "-".join(word.capitalize() for word in name.split("-"))


@dataclass
class _Notes:
    """What one parse worked around (defects) and which bounds it reached (limits), in order.

    Also how many parts the MIME parser has made so far, and whether it was
    stopped early for having made too many.
    """

    defects: dict[str, None] = field(default_factory=dict)
    limits: dict[str, None] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)
    parts_made: int = 0
    input_cut: bool = False

    def defect(self, sentence: str) -> None:
        self.defects[sentence] = None

    def limit(self, sentence: str) -> None:
        self.limits[sentence] = None

    def header_cut(self, name: str, length: int, max_chars: int) -> None:
        self.limit(f"{_title(name)} of {length:,} characters cut to {max_chars:,}")

    def header_unreadable(self, name: str) -> None:
        self.unreadable.setdefault(name.lower(), "its raw text was used")

    def explain(self, name: str, fallback: str) -> None:
        """Say what was done instead, if the stdlib could not read header ``name``."""
        if name in self.unreadable:
            self.unreadable[name] = fallback

    def all_defects(self, stdlib_defects: list[str]) -> tuple[str, ...]:
        unreadable = [f"{_title(n)} header unreadable: {how}" for n, how in self.unreadable.items()]
        return tuple(dict.fromkeys([*stdlib_defects, *unreadable, *self.defects]))


_PlainHeader = type("_PlainHeader", (UnstructuredHeader, BaseHeader), {})


class _TolerantHeaders(HeaderRegistry):
    """The stdlib's header classes, but a header they cannot read is read as plain text.

    Every header the stdlib reads, for us or for itself (a part's Content-Type,
    its boundary, its charset), comes through here, so that no header can make
    parsing raise. Values are cut to ``max_chars`` before they are parsed, and
    each value is parsed once: the stdlib's header parser is slow on long
    values, and the MIME parser reads each Content-Type a dozen times.
    Raw 8-bit bytes are decoded first (UTF-8, else cp1252), since the stdlib
    would turn them into U+FFFD.
    """

    def __init__(self, max_chars: int, notes: _Notes) -> None:
        super().__init__()
        self.max_chars = max_chars
        self.notes = notes
        self.parsed: dict[tuple[str, str], BaseHeader] = {}

    def __call__(self, name: str, value: str) -> BaseHeader:
        if len(value) > self.max_chars:
            self.notes.header_cut(name, len(value), self.max_chars)
            value = value[: self.max_chars]
        key = (name, value)
        if key not in self.parsed:
            self.parsed[key] = self._parse(name, _decode_8bit(value))
        return self.parsed[key]

    def _parse(self, name: str, value: str) -> BaseHeader:
        try:
            return super().__call__(name, value)
        except STDLIB_ERRORS:
            self.notes.header_unreadable(name)
        try:
            return _PlainHeader(name, value)
        except STDLIB_ERRORS:
            return _PlainHeader(name, "")


class _ParsePolicy(EmailPolicy):
    """``policy.default`` carrying the depth cap and the notes of one parse to its parts."""

    max_mime_depth: int = DEFAULT_LIMITS.max_mime_depth
    notes: _Notes | None = None


class _Part(EmailMessage):
    """A message or part that knows its MIME depth, so that the parser stops nesting at the cap.

    The stdlib's parser recurses once per level of nesting (RecursionError at
    about a thousand) and walks every level. A multipart or message part at the
    cap reports itself as opaque data, so the parser keeps its content as one
    block and never opens it.
    """

    mime_depth = 0
    policy: _ParsePolicy

    def attach(self, payload: Any) -> None:
        payload.mime_depth = self.mime_depth + 1
        if self.policy.notes is not None:
            self.policy.notes.parts_made += 1
        super().attach(payload)

    @property
    def too_deep(self) -> bool:
        if self.mime_depth < self.policy.max_mime_depth:
            return False
        return super().get_content_type().split("/")[0] in CONTAINER_TYPES

    def get_content_type(self) -> str:
        """The declared type; an invalid one (``/``, ``text/``) is text/plain, as RFC 2045 says."""
        if self.too_deep:
            return "application/octet-stream"
        declared = super().get_content_type()
        maintype, _, subtype = declared.partition("/")
        return declared if maintype and subtype else "text/plain"

    def get_boundary(self, failobj: Any = None) -> Any:
        """The boundary; an RFC 2231 one in a charset the stdlib cannot decode is taken raw."""
        try:
            return super().get_boundary(failobj)
        except STDLIB_ERRORS:
            if self.policy.notes is not None:
                self.policy.notes.defect("multipart boundary unreadable: its raw text was used")
            value = self.get_param("boundary")
            return value[2].rstrip() if isinstance(value, tuple) else failobj

    def encoded_size(self) -> int:
        """The decoded size estimated from the encoded payload, without decoding it.

        ``get_payload()`` cannot tell: it re-decodes 8-bit text with the declared
        charset, so the undecoded payload is read directly.
        """
        payload = self._payload  # type: ignore[attr-defined]
        if not isinstance(payload, str):
            return 0
        encoding = str(self.get("content-transfer-encoding", "")).strip().lower()
        if encoding == "base64":
            return (len(payload) - sum(map(payload.count, " \t\r\n"))) * 3 // 4
        if encoding == "quoted-printable":
            return max(0, len(payload) - 2 * payload.count("="))
        return len(payload)


def _decode_as(payload: bytes, charset: str, cut: bool) -> str:
    """``payload`` decoded strictly; when ``cut``, a character split at the end is dropped."""
    try:
        return payload.decode(charset)
    except UnicodeDecodeError as error:
        if cut and error.end == len(payload) and error.start > 0:
            return payload[: error.start].decode(charset)
        raise


def _decode_bytes(payload: bytes, declared: str | None = None, *, cut: bool = False) -> str:
    """``payload`` in the first charset that decodes it strictly: declared, UTF-8, cp1252.

    latin-1 decodes any byte, so the result is always text. It holds no
    surrogate escapes; a lone surrogate that a codec itself produces (UTF-7
    can) is removed by the cleaning of headers and text.
    """
    for charset in (declared, *FALLBACK_CHARSETS):
        if not charset:
            continue
        try:
            if codecs.lookup(charset).name not in NOT_CHARSETS:
                return _decode_as(payload, charset, cut)
        except (LookupError, UnicodeError, ValueError, TypeError):
            continue
    return payload.decode("latin-1")


def _decode_8bit(value: str) -> str:
    """``value`` with raw 8-bit bytes (kept by ``email`` as surrogate escapes) decoded.

    A header such as ``From: José <...>`` written in Latin-1 without encoded
    words parses to a string with lone surrogates, which neither PostgreSQL
    nor SQLite accepts: storing it would fail the whole message.
    """
    if not _SURROGATE.search(value):
        return value
    value = _STRAY_SURROGATES.sub(" ", value)
    return _decode_bytes(value.encode("utf-8", "surrogateescape"))


def _header_text(value: str) -> str:
    """A header-derived string fit for a header and a database: one line, no control characters."""
    return " ".join(_HEADER_JUNK.sub(" ", _decode_8bit(value)).split())


def _body_text(value: str) -> str:
    """Text with ``\\n`` line ends and no control character but tab and newline."""
    return _TEXT_JUNK.sub("", _LINE_BREAKS.sub("\n", _decode_8bit(value)))


def _text_cut(max_chars: int) -> str:
    return f"text cut at {max_chars:,} characters"


def _raw_header(
    msg: _Part, name: str, limits: ParseLimits, notes: _Notes, unfold_to: str = " "
) -> str:
    """The first ``name`` header as written, each fold replaced by ``unfold_to``, cut; or ``""``.

    A fold and the white space after it become ``unfold_to``: a space between
    words, nothing in a Message-ID, which may be folded anywhere
    (``<abc@`` CRLF `` ex.com>`` is ``<abc@ex.com>``).
    """
    raw = next((value for key, value in msg.raw_items() if key.lower() == name), None)
    if raw is None:
        return ""
    value = _FOLD.sub(unfold_to, str(raw))
    if len(value) > limits.max_header_chars:
        notes.header_cut(name, len(value), limits.max_header_chars)
        value = value[: limits.max_header_chars]
    return value


def _id_header(msg: _Part, name: str, limits: ParseLimits, notes: _Notes) -> str:
    """A Message-ID, In-Reply-To or References value, unfolded, cut and cleaned."""
    return _header_text(_raw_header(msg, name, limits, notes, unfold_to=""))


def _parsed_mailboxes(header: Any) -> list[tuple[str, str]] | None:
    """(display name, addr-spec) pairs of an address header; None if the stdlib did not read it."""
    try:
        return [(a.display_name, a.addr_spec) for a in header.addresses]
    except STDLIB_ERRORS:
        return None


def _display_name(msg: _Part, raw: str) -> str:
    """The text before an angle-addr, encoded words decoded, as one clean line."""
    if "<" not in raw:
        return ""
    words = msg.policy.header_factory("x-display-name", raw.split("<", 1)[0])
    return _header_text(str(words)).strip(" \"'")


def _salvaged_mailboxes(msg: _Part, raw: str) -> list[tuple[str, str]]:
    """Candidate addresses in a header's raw text that the stdlib could not read.

    Only whole candidates: what an angle-addr encloses if there is one, else
    the tokens between spaces, commas and quotes. Control characters split
    nothing, so ``da<VT>na@ex.com`` is refused whole, never read as ``na@ex.com``.
    Encoded words are not decoded first: an address hidden in one
    (``=?utf-8?q?Bcc=3A_evil=40x.com?=``) is no address.
    """
    candidates = _ANGLE_ADDRESS.findall(raw) if "<" in raw else _ADDRESS_DELIMITERS.split(raw)
    name = _display_name(msg, raw)
    return [(name, candidate) for candidate in candidates if "@" in candidate]


def _mailboxes(msg: _Part, name: str, limits: ParseLimits, notes: _Notes) -> list[tuple[str, str]]:
    """(display name, address) pairs of header ``name`` whose address we may write to."""
    header = msg.get(name)
    if header is None:
        return []
    pairs = _parsed_mailboxes(header)
    if pairs is None:
        raw = _raw_header(msg, name, limits, notes)
        pairs = _salvaged_mailboxes(msg, _decode_8bit(raw))
    found = []
    for display_name, candidate in pairs:
        address = clean_address(candidate)
        if address:
            found.append((_header_text(display_name), address))
    if pairs and not found:
        notes.defect(f"{_title(name)} address refused: not a plain address we may write to")
    how = "address taken from its raw text" if found else "no address in its raw text"
    notes.explain(name, how)
    return found


def _sender(msg: _Part, limits: ParseLimits, notes: _Notes) -> tuple[str, str]:
    """Who wrote: From, else Sender, else Return-Path; ``("", "")`` and a defect if no one."""
    for name in ("from", "sender", "return-path"):
        found = _mailboxes(msg, name, limits, notes)
        if found:
            if name != "from":
                fallback = f"address taken from the {_title(name)} header"
                notes.defect(f"no usable From address: {fallback}")
            return found[0]
    notes.defect("no readable sender address")
    return _display_name(msg, _decode_8bit(_raw_header(msg, "from", limits, notes))), ""


def _header(msg: _Part, name: str) -> str:
    value = msg.get(name)
    return "" if value is None else _header_text(str(value))


def _date(msg: _Part) -> datetime | None:
    value = getattr(msg.get("date"), "datetime", None)
    return value if isinstance(value, datetime) else None


@dataclass
class _Mime:
    """What the walk over the MIME tree found: body candidates, attachments, the parts seen."""

    bodies: dict[str, _Part] = field(default_factory=dict)
    attachments: list[_Part] = field(default_factory=list)
    seen: list[_Part] = field(default_factory=list)

    def defect_names(self) -> list[str]:
        """The stdlib's defects on every part read, decoding defects included."""
        return list(dict.fromkeys(type(d).__name__ for part in self.seen for d in part.defects))


def _parts(msg: _Part, limits: ParseLimits, notes: _Notes) -> Iterator[tuple[_Part, bool]]:
    """Parts depth first, each with whether it lies inside an attached message.

    Iterative, not ``msg.walk()``: at most ``max_mime_parts`` are visited and
    parts beyond the depth cap are noted and skipped.
    """
    stack: list[tuple[_Part, bool]] = [(msg, False)]
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


def _read_mime(msg: _Part, limits: ParseLimits, notes: _Notes) -> _Mime:
    """The first plain and HTML body parts and the attachments, as ``get_body`` would pick them.

    The body is never read inside an attached (forwarded) message; such a
    message is listed as one attachment.
    """
    mime = _Mime()
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


def _payload(part: _Part, notes: _Notes) -> bytes:
    """A leaf part's decoded content; ``b""`` and a defect if the stdlib cannot decode it."""
    try:
        payload = part.get_payload(decode=True)
    except STDLIB_ERRORS as error:
        notes.defect(
            f"{part.get_content_type()} part unreadable ({type(error).__name__}): left out"
        )
        return b""
    return payload if isinstance(payload, bytes) else b""


def _charset(part: _Part) -> str | None:
    try:
        return part.get_content_charset()
    except STDLIB_ERRORS:
        return None


def _part_text(part: _Part, max_bytes: int, notes: _Notes) -> tuple[str, int]:
    """The first ``max_bytes`` of a text part, decoded, and the part's full size in bytes.

    Decoding is strict charset by charset: the stdlib's ``get_content`` would
    replace bytes that do not fit the declared charset with U+FFFD, and a part
    that says UTF-8 but is written in cp1252 (a common client mistake) would
    lose every accented letter.
    """
    payload = _payload(part, notes)
    head = payload[:max_bytes]
    return _decode_bytes(head, _charset(part), cut=len(head) < len(payload)), len(payload)


def _html_body(part: _Part, limits: ParseLimits, notes: _Notes) -> str:
    """The text of an HTML part; only its first ``max_html_bytes`` are converted."""
    html, size = _part_text(part, limits.max_html_bytes, notes)
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


def _body(mime: _Mime, limits: ParseLimits, notes: _Notes) -> tuple[str, bool]:
    """The question's text, cut at ``max_text_chars``: the plain part, else the HTML part's text."""
    if "text/plain" in mime.bodies:
        max_bytes = BYTES_PER_CHAR * limits.max_text_chars
        text, size = _part_text(mime.bodies["text/plain"], max_bytes, notes)
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


def _filename(part: _Part, notes: _Notes) -> str:
    try:
        name = part.get_filename()
    except STDLIB_ERRORS:
        notes.defect("attachment file name unreadable: listed as unnamed")
        return ""
    return _header_text(name) if name else ""


def _attachment(part: _Part, limits: ParseLimits, notes: _Notes) -> Attachment:
    """An attachment's name, type and size; one over ``max_attachment_bytes`` is not decoded."""
    content_type = _header_text(part.get_content_type())
    name = _filename(part, notes) or f"(unnamed {content_type})"
    estimate = part.encoded_size()
    if estimate > limits.max_attachment_bytes:
        notes.limit(
            f'attachment "{name}" of about {estimate:,} bytes (estimated from its encoded '
            f"length, over {limits.max_attachment_bytes:,} bytes): not decoded"
        )
        return Attachment(filename=name, content_type=content_type, size=estimate)
    size = len(_payload(part, notes))
    return Attachment(filename=name, content_type=content_type, size=size)


def _parse_tree(raw: bytes, limits: ParseLimits, notes: _Notes) -> _Part:
    """The stdlib's parse of ``raw`` with tolerant headers and nesting stopped at the cap."""
    policy = _ParsePolicy(
        header_factory=_TolerantHeaders(limits.max_header_chars, notes),
        message_factory=_Part,
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
    assert isinstance(msg, _Part)
    return msg


def _refuse_unusable(
    msg: _Part,
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
    notes = _Notes()
    msg = _parse_tree(raw, limits, notes)
    subject = _header(msg, "subject")
    mime = _read_mime(msg, limits, notes)
    text, from_html = _body(mime, limits, notes)
    attachments = tuple(_attachment(part, limits, notes) for part in mime.attachments)
    stdlib_defects = mime.defect_names()
    _refuse_unusable(msg, text, subject, attachments, stdlib_defects, notes.input_cut)
    from_name, from_address = _sender(msg, limits, notes)
    reply_to = tuple(address for _, address in _mailboxes(msg, "reply-to", limits, notes))
    return ParsedMessage(
        message_id=normalise_message_id(_id_header(msg, "message-id", limits, notes)),
        in_reply_to=message_ids_in(_id_header(msg, "in-reply-to", limits, notes)),
        references=message_ids_in(_id_header(msg, "references", limits, notes)),
        subject=subject,
        from_name=from_name,
        from_address=from_address,
        reply_to=reply_to,
        date=_date(msg),
        text=text,
        text_from_html=from_html,
        attachments=attachments,
        headers={name: _header(msg, name) for name in ROUTING_HEADERS if name in msg},
        content_type=_header_text(msg.get_content_type()),
        defects=notes.all_defects(stdlib_defects),
        limits=tuple(notes.limits),
    )
