"""Read headers whatever their shape: cut, cleaned to one line, and addresses salvaged."""

from __future__ import annotations

import re
from email.headerregistry import BaseHeader, HeaderRegistry, UnstructuredHeader
from typing import TYPE_CHECKING, Any

from consultant.mail.addresses import clean_address
from consultant.mail.charsets import decode_8bit
from consultant.mail.parse_errors import STDLIB_ERRORS
from consultant.mail.parse_notes import Notes, title

if TYPE_CHECKING:
    from consultant.mail.mime_part import Part
    from consultant.mail.parse_limits import ParseLimits

_HEADER_JUNK = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]+")
_FOLD = re.compile(r"[\r\n]+[ \t]*")
_ANGLE_ADDRESS = re.compile(r"<([^<>]*)>")
_ADDRESS_DELIMITERS = re.compile(r"[ \t\r\n,;()\"]+")

_PlainHeader = type("_PlainHeader", (UnstructuredHeader, BaseHeader), {})


class TolerantHeaders(HeaderRegistry):
    """The stdlib's header classes, but a header they cannot read is read as plain text.

    Every header the stdlib reads, for us or for itself (a part's Content-Type,
    its boundary, its charset), comes through here, so that no header can make
    parsing raise. Values are cut to ``max_chars`` before they are parsed, and
    each value is parsed once: the stdlib's header parser is slow on long
    values, and the MIME parser reads each Content-Type a dozen times.
    Raw 8-bit bytes are decoded first (UTF-8, else cp1252), since the stdlib
    would turn them into U+FFFD.
    """

    def __init__(self, max_chars: int, notes: Notes) -> None:
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
            self.parsed[key] = self._parse(name, decode_8bit(value))
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


def header_text(value: str) -> str:
    """A header-derived string fit for a header and a database: one line, no control characters."""
    return " ".join(_HEADER_JUNK.sub(" ", decode_8bit(value)).split())


def _raw_header(
    msg: Part, name: str, limits: ParseLimits, notes: Notes, unfold_to: str = " "
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


def id_header(msg: Part, name: str, limits: ParseLimits, notes: Notes) -> str:
    """A Message-ID, In-Reply-To or References value, unfolded, cut and cleaned."""
    return header_text(_raw_header(msg, name, limits, notes, unfold_to=""))


def _parsed_mailboxes(header: Any) -> list[tuple[str, str]] | None:
    """(display name, addr-spec) pairs of an address header; None if the stdlib did not read it."""
    try:
        return [(a.display_name, a.addr_spec) for a in header.addresses]
    except STDLIB_ERRORS:
        return None


def _display_name(msg: Part, raw: str) -> str:
    """The text before an angle-addr, encoded words decoded, as one clean line."""
    if "<" not in raw:
        return ""
    words = msg.policy.header_factory("x-display-name", raw.split("<", 1)[0])
    return header_text(str(words)).strip(" \"'")


def _salvaged_mailboxes(msg: Part, raw: str) -> list[tuple[str, str]]:
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


def mailboxes(msg: Part, name: str, limits: ParseLimits, notes: Notes) -> list[tuple[str, str]]:
    """(display name, address) pairs of header ``name`` whose address we may write to."""
    header = msg.get(name)
    if header is None:
        return []
    pairs = _parsed_mailboxes(header)
    if pairs is None:
        raw = _raw_header(msg, name, limits, notes)
        pairs = _salvaged_mailboxes(msg, decode_8bit(raw))
    found = []
    for display_name, candidate in pairs:
        address = clean_address(candidate)
        if address:
            found.append((header_text(display_name), address))
    if pairs and not found:
        notes.defect(f"{title(name)} address refused: not a plain address we may write to")
    how = "address taken from its raw text" if found else "no address in its raw text"
    notes.explain(name, how)
    return found


def sender(msg: Part, limits: ParseLimits, notes: Notes) -> tuple[str, str]:
    """Who wrote: From, else Sender, else Return-Path; ``("", "")`` and a defect if no one."""
    for name in ("from", "sender", "return-path"):
        found = mailboxes(msg, name, limits, notes)
        if found:
            if name != "from":
                fallback = f"address taken from the {title(name)} header"
                notes.defect(f"no usable From address: {fallback}")
            return found[0]
    notes.defect("no readable sender address")
    return _display_name(msg, decode_8bit(_raw_header(msg, "from", limits, notes))), ""
