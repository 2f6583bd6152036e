"""Hypothesis strategies for hostile raw mail, and the invariants every parse of it keeps.

``mail`` draws raw messages: hostile header lines, broken MIME trees (nested,
truncated, mislabelled), spliced and random bytes; ``limits`` draws the default
or the tightest ``ParseLimits``; ``envelope_line`` draws one hostile header
line that is no Content- header. ``assert_sound`` checks the invariants of a
``ParsedMessage``; ``exercise`` parses, checks, and runs the loop rules and the
extractor on the result, timed.
"""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass

from hypothesis import strategies as st

from consultant.analysis.analyze import analyze
from consultant.mail.addresses import clean_address
from consultant.mail.automated import machine_reason
from consultant.mail.parse import (
    DEFAULT_LIMITS,
    MessageParseError,
    ParsedMessage,
    ParseLimits,
    parse_message,
)

OUR_ADDRESSES = frozenset({"consult@caseconsultant.example"})
# The smallest limits Settings accepts: every cap is reached by small inputs.
TIGHT_LIMITS = ParseLimits(
    max_text_chars=1000,
    max_html_bytes=10_000,
    max_mime_depth=2,
    max_mime_parts=4,
    max_attachment_bytes=0,
    max_header_chars=998,
)

HEADER_JUNK = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
TEXT_JUNK = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")

ALPHABET = "\x00\r\n\x0b\x0c\x85\u2028\u2029\t <>@:;,\"'=?()\\/*%.-_aeéz0129"
ENCODED_WORDS = (
    "=?utf-8?q?Dana=0D=0ABcc=3A_evil=40x.com?=",
    "=?utf-8?b?RGFuYQ0KQmNjOiBldmlsQHguY29t?=",
    "=?utf-8?q?=00=0B=C2=85=E2=80=A8?=",
    "=?iso-8859-1?q?Jos=E9?=",
    "=?bogus?q?x?=",
    "=?idna?q?x?=",
    "=?punycode?q?99a-?=",
    "=?unicode-escape?q?=5Cud800?=",
    "=?utf-7?q?+2AA-?=",
    "=?utf-8?b?!!!?=",
    "=?utf-8?q?",
    "=?=?=??",
)
ADDRESS_BITS = (
    "dana@ex.com",
    "<dana@ex.com>",
    "Dana <",
    "<da\x0bna@ex.com>",
    "<da\x85na@ex.com>",
    '"a@b" <c@d.com>',
    "<>",
    "group: a@b.com, c@d.com;",
    "((((((((",
    "<abc@\r\n ex.com>",
    "MAILER-DAEMON@ex.com",
    "consult@caseconsultant.example",
)
HEADER_NAMES = (
    "From",
    "Sender",
    "Return-Path",
    "Reply-To",
    "Subject",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Date",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "Auto-Submitted",
    "Precedence",
    "List-Id",
    "X-Loop",
    "MIME-Version",
)
LEAF_TYPES = (
    "text/plain",
    "text/html; charset=utf-8",
    "text/plain; charset=utf-8",
    "text/plain; charset=bogus",
    "text/plain; charset=punycode",
    "text/plain; charset*=idna''x",
    "text/plain; charset=utf-16",
    "text/html",
    "text/html; charset=cp1252",
    'application/pdf; name="op\x00note\r\n.pdf"',
    "image/png; name*=punycode''x",
    "message/delivery-status",
    "text/",
    "/",
    "",
)
ENCODINGS = ("", "base64", "quoted-printable", "8bit", "binary", "x-uuencode", "bogus")
DISPOSITIONS = (
    "",
    "inline",
    'attachment; filename="a.pdf"',
    "attachment; filename*=idna''x",
    "attachment; filename*=utf-8''%ED%A0%80",
    'attachment; filename="\x00\x85.pdf"',
)
BOUNDARIES = ("B", "b1", "=_x", "B B", "", '"', "--", "B\x00", "*=idna''B")
MULTIPART_TYPES = ("mixed", "alternative", "related", "digest", "report")
QUESTION = "Is 99213 billable with modifier 25 on the same day as 20610?"

Part = tuple[list[str], bytes]  # header lines, body


header_value = st.lists(
    st.one_of(
        st.text(ALPHABET, max_size=12),
        st.sampled_from(ENCODED_WORDS),
        st.sampled_from(ADDRESS_BITS),
    ),
    max_size=5,
).flatmap(
    lambda pieces: st.sampled_from(["", " ", "\r\n ", "\r\n\t"]).map(lambda j: j.join(pieces))
)
header_line = st.builds(lambda n, v: f"{n}: {v}", st.sampled_from(HEADER_NAMES), header_value)
# Pieces of HTML that make layout pad, nest or fail, repeated up to a few hundred times.
HTML_PIECES = (
    "<table><tr><td>",
    "</td><td>",
    "</td></tr><tr><td>",
    "<ul><li>",
    '<ol><li value="99999999999999999999">',
    "<div>",
    '<p style="padding-left:99999em;margin-top:99999em">',
    '<td colspan="99999999" rowspan="99999999">',
    "<br>",
    "&#0;&#xd800;&#1114112;",
    "<script>",
    "<!--",
    "<?xml version='1.0' encoding='utf-8'?>",
    "<pre>\t\x00\x0b",
)
html_piece = st.tuples(st.sampled_from(HTML_PIECES), st.integers(1, 300)).map(lambda p: p[0] * p[1])
body_text = st.one_of(
    st.just(QUESTION),
    st.text(ALPHABET, max_size=80).map(lambda t: f"{t} {QUESTION} {t}"),
    st.binary(max_size=120).map(lambda b: b.decode("latin-1")),
    st.lists(st.one_of(html_piece, st.just(QUESTION)), max_size=5).map("".join),
)


def _encoded(body: str, encoding: str, garbage: bool) -> bytes:
    """``body`` in ``encoding``, or invalid bytes that claim to be in it."""
    data = body.encode("utf-8", "surrogatepass")
    if garbage:
        return b"!!==\r\n" + data[:40] + b"\r\n=ZZ=\r\nbegin 644 x\r\n"
    if encoding == "base64":
        return base64.encodebytes(data)
    return data


leaf = st.builds(
    lambda ctype, encoding, disposition, body, garbage: (
        [f"Content-Type: {ctype}", f"Content-Transfer-Encoding: {encoding}"]
        + ([f"Content-Disposition: {disposition}"] if disposition else []),
        _encoded(body, encoding, garbage),
    ),
    st.sampled_from(LEAF_TYPES),
    st.sampled_from(ENCODINGS),
    st.sampled_from(DISPOSITIONS),
    body_text,
    st.booleans(),
)


def _multipart(subtype: str, boundary: str, children: list[Part], closed: bool) -> Part:
    delimiter = f"--{boundary}".encode("utf-8", "surrogatepass")
    body = b"preamble\r\n"
    for headers, child_body in children:
        body += delimiter + b"\r\n" + header_block(headers) + b"\r\n" + child_body + b"\r\n"
    if closed:
        body += delimiter + b"--\r\nepilogue\r\n"
    return [f'Content-Type: multipart/{subtype}; boundary="{boundary}"'], body


def _attached_message(headers: list[str], child: Part) -> Part:
    inner = header_block(headers + child[0]) + b"\r\n" + child[1]
    return ["Content-Type: message/rfc822"], inner


def header_block(lines: list[str]) -> bytes:
    """Header lines as bytes, each ended by CRLF."""
    return "".join(f"{line}\r\n" for line in lines).encode("utf-8", "surrogatepass")


mime_tree = st.recursive(
    leaf,
    lambda children: st.one_of(
        st.builds(
            _multipart,
            st.sampled_from(MULTIPART_TYPES),
            st.sampled_from(BOUNDARIES),
            st.lists(children, max_size=4),
            st.booleans(),
        ),
        st.builds(_attached_message, st.lists(header_line, max_size=2), children),
    ),
    max_leaves=10,
)


def _nested(depth: int) -> Part:
    """A question wrapped in ``depth`` multiparts, each with its own boundary."""
    part: Part = (["Content-Type: text/plain"], QUESTION.encode())
    for level in range(depth, 0, -1):
        part = _multipart("mixed", f"n{level}", [part], closed=level % 3 != 0)
    return part


def _message(headers: list[str], tree: Part, bare_newlines: bool) -> bytes:
    raw = header_block(["MIME-Version: 1.0", *headers, *tree[0]]) + b"\r\n" + tree[1]
    return raw.replace(b"\r\n", b"\n") if bare_newlines else raw


def _spliced(raw: bytes, edits: list[tuple[int, bytes]]) -> bytes:
    """``raw`` with random bytes written over it: truncations, NULs, stray boundaries."""
    for position, junk in edits:
        at = position % (len(raw) + 1)
        raw = raw[:at] + junk + raw[at + len(junk) :]
    return raw


structured = st.builds(
    _message,
    st.lists(header_line, max_size=8),
    st.one_of(mime_tree, st.integers(0, 40).map(_nested)),
    st.booleans(),
)
mail = st.one_of(
    structured,
    st.builds(
        _spliced,
        structured,
        st.lists(st.tuples(st.integers(0, 5000), st.binary(max_size=6)), max_size=3),
    ),
    st.binary(max_size=2000),
)
limits = st.sampled_from([DEFAULT_LIMITS, TIGHT_LIMITS])


def _header_strings(parsed: ParsedMessage) -> list[str]:
    return [
        parsed.subject,
        parsed.from_name,
        parsed.from_address,
        parsed.message_id or "",
        parsed.content_type,
        *parsed.in_reply_to,
        *parsed.references,
        *parsed.reply_to,
        *parsed.headers.values(),
        *parsed.defects,
        *parsed.limits,
        *(a.filename for a in parsed.attachments),
        *(a.content_type for a in parsed.attachments),
    ]


def assert_sound(parsed: ParsedMessage, limits: ParseLimits) -> None:
    """The invariants every parse result keeps, whatever the input."""
    for value in _header_strings(parsed):
        assert not HEADER_JUNK.search(value), value
    assert not TEXT_JUNK.search(parsed.text)
    assert len(parsed.subject) <= limits.max_header_chars
    assert len(parsed.text) <= limits.max_text_chars
    assert parsed.from_address == (clean_address(parsed.from_address) or "")
    assert all(clean_address(a) == a for a in parsed.reply_to)


@dataclass(frozen=True)
class Outcome:
    seconds: float
    refusal: str | None = None  # MessageParseError's message, up to its details


def exercise(raw: bytes, limits: ParseLimits) -> Outcome:
    """Parse ``raw``, check the result, run the loop rules and the extractor on it."""
    started = time.perf_counter()
    try:
        parsed = parse_message(raw, limits)
    except MessageParseError as error:
        assert str(error)
        refusal = re.split(r"[(:]", str(error))[0].strip()
        return Outcome(seconds=time.perf_counter() - started, refusal=refusal)
    assert_sound(parsed, limits)
    machine_reason(parsed, OUR_ADDRESSES)
    analyze(parsed.subject, parsed.new_text)
    return Outcome(seconds=time.perf_counter() - started)


envelope_line = st.builds(
    lambda n, v: f"{n}: {v}",
    st.sampled_from([n for n in HEADER_NAMES if not n.startswith("Content-")]),
    header_value,
)
