"""``Thread-Index`` and ``Thread-Topic``: how Outlook and Exchange keep a conversation together.

Outlook groups mail by the 22-byte header block of ``Thread-Index`` (a time
and a GUID, [MS-OXOMSG] 2.2.1.3) rather than by References, and some
providers rewrite Message-IDs on the way. Our reply therefore carries the
requester's own header block when their message had one, or one made for the
case (the same GUID on every message of the case), followed by a 5-byte child
block per reply, as Outlook does for its own replies.
"""

from __future__ import annotations

import base64
import binascii
import os
import uuid
from datetime import UTC, datetime
from email import policy
from email.parser import BytesHeaderParser

from consultant.mail.headers import header_text

HEADER_BYTES = 22
CHILD_BYTES = 5
# FILETIME counts 100 ns ticks from 1601-01-01; the header keeps its top 40 bits.
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
_CASE_NAMESPACE = uuid.UUID("6f0c2a52-4b7e-4c1e-9a43-5d0f8f0a6c11")


def _filetime(moment: datetime) -> int:
    # A naive time is UTC (as SQLite gives back what was stored in UTC).
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    delta = moment - _FILETIME_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


def header_block(started: datetime, conversation: str) -> bytes:
    """A header block for a conversation we start: its time and a GUID named by ``conversation``."""
    guid = uuid.uuid5(_CASE_NAMESPACE, conversation)
    return b"\x01" + (_filetime(started) >> 24).to_bytes(5, "big") + guid.bytes


def parse(value: str | None) -> bytes | None:
    """The bytes of a well-formed ``Thread-Index`` value, or None (hostile input is ignored)."""
    if not value:
        return None
    try:
        raw = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) < HEADER_BYTES or (len(raw) - HEADER_BYTES) % CHILD_BYTES or raw[0] != 1:
        return None
    return raw


def _header_time(index: bytes) -> int:
    return int.from_bytes(index[1:6], "big") << 24


def reply_index(parent: bytes, now: datetime) -> str:
    """``parent`` with one child block for a reply sent at ``now``, base64 as the header carries it.

    The child block holds the time since the header's time: 31 bits of it in
    units of 2^18 ticks (about 26 ms) when that fits, else in units of 2^23
    ticks with the first bit set; then 4 random bits and a 4-bit sequence.
    """
    delta = max(0, _filetime(now) - _header_time(parent))
    fits = delta < 1 << 49
    block = (delta >> 18) & 0x7FFF_FFFF if fits else (1 << 31) | ((delta >> 23) & 0x7FFF_FFFF)
    tail = (os.urandom(1)[0] & 0xF0) | (len(parent) // CHILD_BYTES & 0x0F)
    child = block.to_bytes(4, "big") + bytes([tail])
    return base64.b64encode(parent + child).decode("ascii")


def requester_headers(raw: bytes) -> tuple[str, str | None]:
    """The ``Thread-Topic`` (decoded, one line) and ``Thread-Index`` a received message carries.

    Only the header section is parsed; a header that cannot be decoded counts as absent.
    """
    head = BytesHeaderParser(policy=policy.default).parsebytes(raw)
    found: list[str] = []
    for name in ("Thread-Topic", "Thread-Index"):
        try:
            value = head.get(name)
            found.append(header_text(str(value)) if value is not None else "")
        except (ValueError, LookupError, TypeError, AttributeError, IndexError):
            found.append("")
    return found[0], found[1] or None
